/**
 * Child of tests/infra/lambda-bundle.ts: plain ESM, no tsx, nothing from this repository but the bundle. Cold start is measured from the
 * process's time origin (performance.now() is 0 at process start) to the first response, as Lambda's init + first
 * invoke would be. The WAV is 3 s of a 440 Hz tone plus noise at 16 kHz, written by hand (a 44-byte header).
 */
const [bundle] = process.argv.slice(2);
const { handler } = await import(bundle);
const importMs = performance.now();

function event(method, path, body, headers = {}) {
  return {
    version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '', cookies: [],
    headers: { host: 'abc.execute-api.eu-central-1.amazonaws.com', 'user-agent': 'bundle-check', ...headers },
    requestContext: {
      accountId: '123456789012', apiId: 'abc', domainName: 'abc.execute-api.eu-central-1.amazonaws.com', domainPrefix: 'abc',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bundle-check' },
      requestId: 'req-' + Math.random().toString(16).slice(2), routeKey: '$default', stage: '$default',
      time: new Date().toUTCString(), timeEpoch: Date.now(),
    },
    body: body === undefined ? undefined : body.toString('base64'), isBase64Encoded: body !== undefined,
  };
}
const context = { awsRequestId: 'ctx', functionName: 'sentinel-api', getRemainingTimeInMillis: () => 30000 };

function wav(seconds, rate) {
  const n = seconds * rate;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVE', 8); buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22); buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34); buf.write('data', 36); buf.writeUInt32LE(n * 2, 40);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const s = 0.3 * Math.sin(2 * Math.PI * 440 * i / rate) + 0.05 * (seed / 0x7fffffff - 0.5);
    buf.writeInt16LE(Math.round(s * 32767), 44 + i * 2);
  }
  return buf;
}

async function multipart() {
  const form = new FormData();
  form.append('file', new Blob([wav(3, 16000)], { type: 'audio/wav' }), 'clip.wav');
  const request = new Request('http://x/', { method: 'POST', body: form });
  return { body: Buffer.from(await request.arrayBuffer()), type: request.headers.get('content-type') };
}

const health = await handler(event('GET', '/health'), context);
const coldStartMs = performance.now();
const { body, type } = await multipart();
let t = performance.now();
const predict = await handler(event('POST', '/predict', body, { 'content-type': type }), context);
const predictMs = performance.now() - t;
// A warm /predict: the median of 10 once the first is answered (the next few still pay V8's tier-up compiles). CPU time
// too: on a shared machine the wall time includes waiting for a core, which a Lambda's own vCPU does not.
const warm = [];
for (let i = 0; i < 10; i++) {
  t = performance.now();
  const cpu = process.cpuUsage();
  await handler(event('POST', '/predict', body, { 'content-type': type }), context);
  const used = process.cpuUsage(cpu);
  warm.push({ ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000 });
}
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const warmPredictMs = median(warm.map((w) => w.ms));
const warmPredictCpuMs = median(warm.map((w) => w.cpuMs));
const decode = (r) => ({ statusCode: r.statusCode, body: r.isBase64Encoded ? Buffer.from(r.body, 'base64').toString() : r.body });
// /docs from the files beside the bundle, its script gzipped by the same middleware as locally.
const docs = await handler(event('GET', '/docs'), context);
const script = /src="([^"]+swagger-ui-bundle\.js)"/.exec(decode(docs).body)?.[1];
const asset = script ? await handler(event('GET', script, undefined, { 'accept-encoding': 'gzip' }), context) : null;
console.log('RESULT ' + JSON.stringify({
  // Process start to the first /predict answer, less the time this client spent building its request body.
  importMs, coldStartMs, predictMs, firstPredictAtMs: coldStartMs + predictMs, warmPredictMs, warmPredictCpuMs, rssMb: process.memoryUsage().rss / 1024 ** 2,
  health: decode(health), predict: decode(predict),
  requestId: health.headers?.['x-request-id'] ?? null,
  docs: { statusCode: docs.statusCode, script: script ?? null },
  docsAsset: asset && { statusCode: asset.statusCode, encoding: asset.headers?.['content-encoding'] ?? null, cacheControl: asset.headers?.['cache-control'] ?? null },
}));
process.exit(0);
