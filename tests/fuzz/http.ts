/**
 * Requests for the fuzz suite: well-formed multipart around a malformed file, malformed multipart and JSON bodies,
 * and bodies over the limit; sent over a fresh connection each (a request that confuses the parser must not
 * poison the next) to 127.0.0.1 only, with a hard timeout.
 */
import { request } from 'node:http';
import type { Rng } from '../../shared/training/random.ts';
import { concat } from '../helpers/raw-zip.ts';

export interface FuzzRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers: Record<string, string>;
  /** Bytes, or a stream of `chunk` repeated `repeat` times (bodies over the limit, without holding them). */
  body: Uint8Array | { chunk: Uint8Array; repeat: number };
  /** Sent with the admin key. */
  admin?: boolean;
}

export interface Answer {
  status: number | null;
  /** The first 2 KB of the body. */
  text: string;
  ms: number;
  timedOut: boolean;
  /** A network error other than the timeout (reset, refused). */
  error?: string;
}

const enc = new TextEncoder();

export function multipart(parts: { name: string; filename?: string; type?: string; data: Uint8Array | string }[], boundary = 'fuzz-b0undary'): { body: Uint8Array; type: string } {
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(enc.encode(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    chunks.push(typeof p.data === 'string' ? enc.encode(p.data) : p.data, enc.encode('\r\n'));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  return { body: concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

/**
 * A proper upload of `bytes` to /predict (or a training route); with `odd`, an odd file name, media type or keep
 * field now and then (bombs and hostile zips go plain, so that their payload is what the server judges).
 */
export function fileUpload(rng: Rng, path: string, bytes: Uint8Array, options: { admin?: boolean; odd?: boolean } = {}): FuzzRequest {
  const odd = options.odd ?? false;
  const filename = !odd || rng.uniform() < 0.8 ? 'clip.wav' : rng.choice(['', '../../etc/passwd', 'a'.repeat(5000), 'ñ\u202e.wav', 'x"; name="keep', 'c:\\a.wav']);
  const type = !odd || rng.uniform() < 0.8 ? 'audio/wav' : rng.choice(['application/octet-stream', 'x/y', 'audio/wav; codecs=1', '', 'text/html']);
  const fields = [{ name: 'file', filename, ...(type ? { type } : {}), data: bytes }];
  if (odd && path === '/predict' && rng.uniform() < 0.1) fields.push({ name: 'keep', data: enc.encode(rng.choice(['true', '1', 'no', ''])) } as (typeof fields)[number]);
  const { body, type: contentType } = multipart(fields);
  return { method: 'POST', path, headers: { 'content-type': contentType }, body, admin: options.admin ?? false };
}

/** Malformed bodies by name: multipart that breaks its own rules, JSON that lies, bodies over the limit. */
export function malformedRequests(maxAudioBytes: number): Record<string, (rng: Rng, bytes: Uint8Array) => FuzzRequest> {
  const post = (path: string, type: string | null, body: Uint8Array | string, admin = false): FuzzRequest => ({
    method: 'POST',
    path,
    headers: type === null ? {} : { 'content-type': type },
    body: typeof body === 'string' ? enc.encode(body) : body,
    admin,
  });
  const route = (rng: Rng) => rng.choice(['/predict', '/predict', '/predict', '/retrain']);
  const form = (rng: Rng, bytes: Uint8Array) => multipart([{ name: 'file', filename: 'clip.wav', type: 'audio/wav', data: bytes }], 'B');
  return {
    'no-boundary': (rng, b) => post(route(rng), 'multipart/form-data', form(rng, b).body, true),
    'boundary-mismatch': (rng, b) => post(route(rng), 'multipart/form-data; boundary=other', form(rng, b).body, true),
    'no-close': (rng, b) => {
      const f = form(rng, b);
      return post(route(rng), f.type, f.body.subarray(0, f.body.length - 5), true);
    },
    'cut-mid-part': (rng, b) => {
      const f = form(rng, b);
      return post(route(rng), f.type, f.body.subarray(0, rng.int(1, f.body.length - 1)), true);
    },
    'no-disposition': (rng, b) => post(route(rng), 'multipart/form-data; boundary=B', concat([enc.encode('--B\r\nContent-Type: audio/wav\r\n\r\n'), b, enc.encode('\r\n--B--\r\n')]), true),
    'file-as-text': (rng, b) => {
      const f = multipart([{ name: 'file', data: b }]);
      return post(route(rng), f.type, f.body, true);
    },
    'two-files': (rng, b) => {
      const f = multipart([{ name: 'file', filename: 'a.wav', data: b }, { name: 'file', filename: 'b.wav', data: b }]);
      return post(route(rng), f.type, f.body, true);
    },
    'many-fields': (rng, b) => {
      const f = multipart([...Array.from({ length: rng.int(1000, 5000) }, (_, i) => ({ name: `f${i}`, data: 'x' })), { name: 'file', filename: 'a.wav', data: b }]);
      return post(route(rng), f.type, f.body, true);
    },
    'long-part-header': (rng, b) => post(route(rng), 'multipart/form-data; boundary=B', concat([enc.encode(`--B\r\nContent-Disposition: form-data; name="file"; filename="${'a'.repeat(rng.choice([10_000, 200_000]))}"\r\n\r\n`), b, enc.encode('\r\n--B--\r\n')]), true),
    'lf-only': (rng, b) => post(route(rng), 'multipart/form-data; boundary=B', concat([enc.encode('--B\nContent-Disposition: form-data; name="file"; filename="a.wav"\n\n'), b, enc.encode('\n--B--\n')]), true),
    'odd-boundary': (rng, b) => {
      const boundary = rng.choice(['', '"', '""', ';', 'a'.repeat(2000), '--', '\u00ff\u00fe', 'B; boundary=C']);
      return post(route(rng), `multipart/form-data; boundary=${boundary}`, form(rng, b).body, true);
    },
    'empty-body': (rng) => post(route(rng), rng.choice(['multipart/form-data; boundary=B', 'application/json', 'audio/wav']), new Uint8Array(), true),
    'raw-audio-body': (rng, b) => post(route(rng), rng.choice(['audio/wav', 'application/octet-stream', 'text/plain']), b, true),
    'no-content-type': (rng, b) => post(route(rng), null, form(rng, b).body, true),
    urlencoded: (rng, b) => post(route(rng), 'application/x-www-form-urlencoded', `file=${Buffer.from(b.subarray(0, 4096)).toString('latin1')}&keep=true&epochs=3`, true),
    'json-broken': (rng) => post(route(rng), 'application/json', rng.choice(['{"object_key":', '{', 'null', '[]', '"x"', '{"object_key":"a","object_key":1}', '\u0000', '{"object_key":"' + 'x'.repeat(5000) + '"}']), true),
    'json-deep': (rng) => post(route(rng), 'application/json', '['.repeat(rng.choice([1000, 100_000])) + ']'.repeat(10), true),
    'json-object-key': (rng) => {
      const key = rng.choice(['uploads/../../etc/passwd', 'uploads/00000000-0000-0000-0000-000000000000/a.wav', '/etc/passwd', 'predictions/x/audio', 'uploads/%2e%2e/%2e%2e/x', '\u0000', 'uploads/' + 'a'.repeat(1000)]);
      return post(route(rng), 'application/json', JSON.stringify({ object_key: key, keep: rng.choice([true, 'yes', 1, null]), epochs: rng.choice([1, 0, -1, 1e9, 'x']), mode: rng.choice(['head', 'x', 7]) }), true);
    },
    'train-fields': (_rng, b) => {
      const f = multipart([{ name: 'file', filename: 'd.zip', data: b }, { name: 'epochs', data: _rng.choice(['0', '99999', '-1', '1e3', 'NaN', '']) }, { name: 'mode', data: _rng.choice(['head', 'full', 'x', '']) }]);
      return post('/retrain', f.type, f.body, true);
    },
    'no-key': (rng, b) => {
      const f = form(rng, b);
      return { ...post(rng.choice(['/retrain', '/continue-training']), f.type, f.body), headers: { 'content-type': f.type, ...(rng.uniform() < 0.5 ? { authorization: `Bearer ${rng.choice(['snt_wrong', '', 'x'.repeat(3000)])}` } : {}) } };
    },
    'uploads-json': (rng) =>
      post('/uploads', 'application/json', JSON.stringify({ filename: rng.choice(['../a', '', 'a'.repeat(300), 'x.wav']), content_type: rng.choice(['a/b', '', 'x', 'audio/wav\r\nX: y']), purpose: rng.choice(['audio', 'dataset', 'x']), bytes: rng.choice([-1, 0, 1e12, 2 ** 53, 1.5]) }), rng.uniform() < 0.5),
    feedback: (rng) => post(`/predictions/${rng.choice(['x', '00000000-0000-0000-0000-000000000000', '..%2f..', 'a'.repeat(500)])}/feedback`, 'application/json', JSON.stringify({ label: rng.choice(['safe', 'danger', 'x', 1]) })),
    // Over the limit, declared: the body limit answers from the header.
    'oversize-declared': () => ({
      method: 'POST',
      path: '/predict',
      headers: { 'content-type': 'multipart/form-data; boundary=B', 'content-length': String(maxAudioBytes + 2 * 1024 * 1024) },
      body: { chunk: new Uint8Array(1024 * 1024), repeat: Math.ceil(maxAudioBytes / (1024 * 1024)) + 2 },
    }),
    // Over the limit, chunked: only counting the bytes as they come catches it.
    'oversize-chunked': () => ({
      method: 'POST',
      path: '/predict',
      headers: { 'content-type': 'multipart/form-data; boundary=B', 'transfer-encoding': 'chunked' },
      body: { chunk: new Uint8Array(1024 * 1024), repeat: Math.ceil(maxAudioBytes / (1024 * 1024)) + 2 },
    }),
  };
}

/** Sends one request to 127.0.0.1:`port`; never throws. */
export function send(port: number, req: FuzzRequest, adminKey: string, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  return new Promise<Answer>((resolve) => {
    let done = false;
    const finish = (a: Omit<Answer, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...a, ms: performance.now() - started });
    };
    const headers: Record<string, string> = { connection: 'close', ...req.headers };
    if (req.admin) headers.authorization ??= `Bearer ${adminKey}`;
    const streamed = !(req.body instanceof Uint8Array);
    if (!streamed && headers['content-length'] === undefined) headers['content-length'] = String((req.body as Uint8Array).length);
    const r = request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: false }, (res) => {
      const kept: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        if (size < 2048) kept.push(d);
        size += d.length;
      });
      res.on('end', () => finish({ status: res.statusCode ?? null, text: Buffer.concat(kept).toString('utf8').slice(0, 2048), timedOut: false }));
      res.on('error', (e) => finish({ status: res.statusCode ?? null, text: Buffer.concat(kept).toString('utf8').slice(0, 2048), timedOut: false, error: e.message }));
    });
    const timer = setTimeout(() => {
      finish({ status: null, text: '', timedOut: true });
      r.destroy();
    }, timeoutMs);
    r.on('error', (e) => finish({ status: null, text: '', timedOut: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    if (!streamed) {
      r.end(req.body as Uint8Array);
      return;
    }
    // Write the stream while the server reads it; stop as soon as it has answered or hung up.
    const { chunk, repeat } = req.body as { chunk: Uint8Array; repeat: number };
    let left = repeat;
    const pump = () => {
      while (left > 0 && !done && !r.destroyed) {
        left--;
        if (!r.write(chunk)) return void r.once('drain', pump);
      }
      if (!done && !r.destroyed) r.end();
    };
    r.on('response', () => (left = 0));
    pump();
  });
}
