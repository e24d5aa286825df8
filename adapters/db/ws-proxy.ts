/**
 * A local WebSocket -> TCP proxy in the shape of Neon's wsproxy, so the Neon serverless driver (which speaks
 * the Postgres protocol over a WebSocket) can reach a plain local Postgres. For tests and local "cloud-mode"
 * runs only; production talks to Neon's own proxy.
 *
 * Protocol (what the driver does with `neonConfig.wsProxy = (host, port) => "<proxy>/v1?address=host:port"`):
 * the client opens ws://<proxy>/v1?address=<host>:<port>; every binary message is written to a TCP socket
 * to that address and every TCP chunk comes back as one binary message. Either side closing closes both.
 *
 * Safety: it listens on 127.0.0.1 and forwards only to loopback targets (and only to `allowedPorts` when
 * given): it is not an open relay.
 */
import { createConnection, isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData } from 'ws';
import { SentinelError } from '../../shared/errors.ts';

export interface WsProxyOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Only these target ports may be reached (default: any port on loopback). */
  allowedPorts?: readonly number[];
}

export interface WsProxy {
  /** Port the proxy listens on (127.0.0.1). */
  port: number;
  /** Value for SENTINEL_NEON_WS_PROXY / DatabaseConfig.neonWsProxy: `ws://127.0.0.1:<port>/v1`. */
  url: string;
  /** Open client connections, for tests that check cleanup. */
  connections(): number;
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

function isLoopback(host: string): boolean {
  if (LOOPBACK_NAMES.has(host)) return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Parse `host:port` / `[v6]:port` from the `address` query parameter. */
function parseAddress(address: string | null): { host: string; port: number } | null {
  if (!address) return null;
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { host: match[1] ?? match[2]!, port };
}

export async function startWsProxy(options: WsProxyOptions = {}): Promise<WsProxy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });

  wss.on('connection', (ws, request) => {
    const url = new URL(request.url ?? '/', 'ws://127.0.0.1');
    const target = parseAddress(url.searchParams.get('address'));
    if (
      !target ||
      !isLoopback(target.host) ||
      (options.allowedPorts !== undefined && !options.allowedPorts.includes(target.port))
    ) {
      // 1008 = policy violation: the target is not one this proxy serves.
      ws.close(1008, 'address not allowed');
      return;
    }
    const socket = createConnection({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    // Messages can arrive before the TCP connect completes; net.Socket buffers writes until then.
    ws.on('message', (data: RawData) => {
      if (Array.isArray(data)) for (const chunk of data) socket.write(chunk);
      else socket.write(Buffer.isBuffer(data) ? data : Buffer.from(data));
    });
    socket.on('data', (chunk) => {
      if (ws.readyState === ws.OPEN) ws.send(chunk, { binary: true });
    });
    const closeBoth = () => {
      socket.destroy();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
    };
    socket.on('error', closeBoth);
    socket.on('close', closeBoth);
    ws.on('close', closeBoth);
    ws.on('error', closeBoth);
  });

  const port = (wss.address() as AddressInfo).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}/v1`,
    connections: () => wss.clients.size,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const client of wss.clients) client.terminate();
        wss.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * Turn a proxy URL (`ws://host:port/path` or `wss://…`) into the Neon driver's settings.
 * Throws CONFIG for anything else, so a typo in the env var fails at startup, not at the first query.
 */
export function neonProxySettings(proxyUrl: string): { wsProxy: (host: string, port: number | string) => string; secure: boolean } {
  let url: URL;
  try {
    url = new URL(proxyUrl);
  } catch {
    throw new SentinelError('CONFIG', `Neon WebSocket proxy "${proxyUrl}" is not a URL (expected ws://host:port/v1).`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new SentinelError('CONFIG', `Neon WebSocket proxy "${proxyUrl}" must start with ws:// or wss://.`);
  }
  const base = `${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  return {
    wsProxy: (host, port) => `${base}?address=${host}:${port}`,
    secure: url.protocol === 'wss:',
  };
}
