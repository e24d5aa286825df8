/**
 * The console's API client. Base URL from VITE_API_BASE at build time (empty = same origin). Response types come
 * from the API's own zod schemas (type-only import: nothing of the server is bundled).
 */
import type { z } from '@hono/zod-openapi';
import type * as S from '../../functions/schemas.ts';
import type { ApiKey } from '../../shared/ports/db-schema.ts';

export type Prediction = z.infer<typeof S.PredictionSchema>;
export type Health = z.infer<typeof S.HealthSchema>;
export type ModelStatus = z.infer<typeof S.ModelStatusSchema>;
export type Session = z.infer<typeof S.SessionSchema>;
export type ModelRow = z.infer<typeof S.ModelSchema>;
export type ModelList = z.infer<typeof S.ModelListSchema>;
export type Stats = z.infer<typeof S.StatsSchema>;
export type TrainAccepted = z.infer<typeof S.TrainAcceptedSchema>;
export type UploadTicket = z.infer<typeof S.UploadTicketSchema>;
export type AliasChange = z.infer<typeof S.AliasChangeSchema>;
/** GET /keys/current's answer, as far as the console reads it (functions/routes/keys.ts). */
export type ApiKeyInfo = Pick<ApiKey, 'id' | 'name'>;

export const API_BASE = String(import.meta.env.VITE_API_BASE ?? '').replace(/\/+$/, '');
export const apiUrl = (path: string): string => `${API_BASE}${path}`;

/** An API error ({error:{code,message}}) or a network failure (code "network"). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const KEY_STORAGE = 'sentinel.apiKey';
/** The admin API key lives in sessionStorage only: gone when the tab closes, never in localStorage or a cookie. */
export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  set: (key: string): void => sessionStorage.setItem(KEY_STORAGE, key.trim()),
  clear: (): void => sessionStorage.removeItem(KEY_STORAGE),
};

function adminHeaders(): Record<string, string> {
  const key = apiKey.get();
  if (!key) throw new ApiFailure(401, 'no_api_key', 'This action needs the admin API key: enter it in the API key box first.');
  return { Authorization: `Bearer ${key}` };
}

async function failure(res: Response): Promise<ApiFailure> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null;
  return new ApiFailure(res.status, body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? `${res.status} ${res.statusText}`, body?.error?.details);
}

export async function request<T>(path: string, init: RequestInit & { admin?: boolean; json?: unknown; okStatuses?: number[] } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(init.admin ? adminHeaders() : {}) };
  let body = init.body;
  if (init.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  let res: Response;
  try {
    res = await fetch(apiUrl(path), { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) }, body });
  } catch (error) {
    throw new ApiFailure(0, 'network', `The API could not be reached (${String(error)}).`);
  }
  if (!res.ok && !(init.okStatuses ?? []).includes(res.status)) throw await failure(res);
  return (await res.json()) as T;
}

/** XHR for uploads: fetch has no upload progress. Resolves with the parsed JSON body. */
export function upload<T>(
  method: 'POST' | 'PUT',
  url: string,
  body: XMLHttpRequestBodyInit,
  options: { headers?: Record<string, string>; admin?: boolean; onProgress?: (fraction: number) => void; expectJson?: boolean } = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    const headers = { ...(options.admin ? adminHeaders() : {}), ...(options.headers ?? {}) };
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) options.onProgress?.(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiFailure(0, 'network', 'The upload failed: the API could not be reached.'));
    xhr.onload = () => {
      let parsed: unknown = null;
      try {
        parsed = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        /* not JSON (e.g. a store's empty PUT response) */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        options.onProgress?.(1);
        resolve(parsed as T);
      } else {
        const err = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
        reject(new ApiFailure(xhr.status, err?.code ?? `http_${xhr.status}`, err?.message ?? `${xhr.status} ${xhr.statusText}`, err?.details));
      }
    };
    xhr.send(body);
  });
}

/** Puts a large file in the store by a presigned URL (POST /uploads, then PUT); returns the object key. */
export async function presignedUpload(file: File, purpose: 'audio' | 'dataset', onProgress: (fraction: number) => void): Promise<string> {
  const ticket = await request<UploadTicket>('/uploads', {
    method: 'POST',
    admin: purpose === 'dataset',
    json: { filename: file.name || 'upload', content_type: file.type || (purpose === 'dataset' ? 'application/zip' : 'application/octet-stream'), purpose, bytes: file.size },
  });
  const url = /^https?:/.test(ticket.url) ? ticket.url : apiUrl(ticket.url);
  await upload('PUT', url, file, { headers: ticket.headers, onProgress });
  return ticket.object_key;
}

/** Checks a key with GET /keys/current (no side effect): its id and name, or an ApiFailure (401/403, network). */
export function checkKey(key: string): Promise<ApiKeyInfo> {
  return request<ApiKeyInfo>('/keys/current', { headers: { Authorization: `Bearer ${key.trim()}` } });
}

/** Fired on window when `current` may have changed (promote, rollback, a retrain the gate promoted): the footer re-reads it. */
export const MODEL_CHANGED = 'sentinel:model-changed';
export const announceModelChange = (): void => void window.dispatchEvent(new Event(MODEL_CHANGED));
