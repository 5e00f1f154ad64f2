/** Calls to Frontdesk's public JSON API, with its one error envelope turned into `ApiError`. */

import type { Runtime } from "./types";

/** A failed request: `status` 0 means the network failed before any answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, string> = {},
    readonly retryAfter = 0,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Sends a request to `rt.base + path` and returns the parsed JSON body, or throws `ApiError`. */
export async function request<T>(rt: Runtime, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(rt.base + path, {
      method: opts.method || (opts.body === undefined ? "GET" : "POST"),
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: "omit",
    });
  } catch (e) {
    throw new ApiError(0, "network", String(e));
  }
  let data: any = null;
  try {
    data = await res.json();
  } catch {
    // an empty or non-JSON body: the status alone tells what happened
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || "http_" + res.status, err.message || res.statusText, err.details || {},
      Number(res.headers.get("Retry-After")) || 0);
  }
  return data as T;
}
