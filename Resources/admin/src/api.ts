// The console's one door to the server: JSON in and out, the CSRF token on every state change,
// and a 401 anywhere sends the user to sign-in and then back to where they were.

import type { AdminSession } from "./generated/api-types";
export type { PublicUser } from "./generated/api-types";

/** The shape every paged list answers with (TicketPage, ContactPage, … in the API document). */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  perPage: number;
}

/** Whether a string (from the address bar or a select) is one of an enumeration's values. */
export function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

/** A failed call, carrying the server's error envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, string> = {},
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

let csrfToken = "";
let onUnauthorized: () => void = () => {};
/** A call that ends this browser's session and starts a new one (a password change), while in flight. */
let renewal: Promise<unknown> | null = null;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when a request answers 401 (the session ended or expired). */
export function handleUnauthorized(callback: () => void): void {
  onUnauthorized = callback;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

/** `path?query` with empty values left out; spaces as %20 (the server does not read `+` as a space). */
export function withQuery(path: string, query: Query = {}): string {
  const parts: string[] = [];
  for (const key of Object.keys(query)) {
    const value = query[key];
    if (value === null || value === undefined || value === "") continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? `${path}?${parts.join("&")}` : path;
}

interface CallOptions {
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  /** Do not treat a 401 as an ended session (sign-in itself answers 401 for a wrong password). */
  quiet401?: boolean;
}

async function call<T>(method: string, path: string, options: CallOptions = {}, retried = false): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers["Content-Type"] = options.contentType ?? "text/plain";
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  }
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached. Check the connection and try again.");
  }
  if (response.status === 204) return undefined as T;
  let payload: any = null;
  const type = response.headers.get("Content-Type") ?? "";
  if (type.includes("json")) {
    try { payload = await response.json(); } catch { payload = null; }
  } else {
    payload = await response.text();
  }
  if (response.ok) return payload as T;
  const envelope = payload && typeof payload === "object" && payload.error ? payload.error : {};
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  const error = new ApiError(response.status, envelope.code ?? "http_" + response.status,
    envelope.message ?? `The server answered ${response.status}.`, envelope.details ?? {}, retryAfter);
  if (response.status === 401 && !options.quiet401) {
    onUnauthorized();
  } else if (response.status === 403 && error.code === "csrf_failed" && !retried) {
    // The token went stale (e.g. signed in again in another tab): fetch the current one, retry once.
    const session = await call<AdminSession>("GET", "/api/v1/admin/session");
    csrfToken = session.csrfToken;
    return call<T>(method, path, options, true);
  }
  throw error;
}

export const api = {
  get: <T>(path: string, query?: Query) => call<T>("GET", withQuery(path, query)),
  post: <T>(path: string, body?: unknown) => call<T>("POST", path, { body: body ?? {} }),
  patch: <T>(path: string, body: unknown) => call<T>("PATCH", path, { body }),
  put: <T>(path: string, body: unknown) => call<T>("PUT", path, { body }),
  delete: (path: string) => call<void>("DELETE", path),
  postText: <T>(path: string, text: string, contentType: string) => call<T>("POST", path, { rawBody: text, contentType }),
  /** Sign-in and setup: a 401 there is a wrong password, not an ended session. */
  signIn: (path: string, body: unknown) => call<AdminSession>("POST", path, { body, quiet401: true }),
  /** The session check waits for a renewal in flight: the server ends the old session (and closes
   *  the agent socket) before its answer brings the new cookie, and a check in between would see 401. */
  session: async () => {
    if (renewal) await renewal;
    return call<AdminSession>("GET", "/api/v1/admin/session", { quiet401: true });
  },
  /** A state change whose answer replaces this browser's session cookie. */
  renewSession: <T>(path: string, body: unknown): Promise<T> => {
    const pending = call<T>("POST", path, { body });
    const current: Promise<unknown> = pending.then(() => undefined, () => undefined).then(() => { if (renewal === current) renewal = null; });
    renewal = current;
    return pending;
  },
  signOut: () => call<void>("DELETE", "/api/v1/admin/session", { quiet401: true }),
};

/** Fetches the first `count` items of a list endpoint, page by page (the server caps perPage at 100). */
export async function fetchTop<T>(path: string, query: Query, count: number): Promise<{ items: T[]; total: number }> {
  const perPage = Math.min(100, Math.max(1, count));
  const items: T[] = [];
  let total = 0;
  for (let page = 1; ; page++) {
    const result = await api.get<Page<T>>(path, { ...query, page, perPage });
    total = result.total;
    items.push(...result.items);
    if (items.length >= count || items.length >= total || result.items.length < perPage) break;
  }
  return { items: items.slice(0, count), total };
}

/** A readable message for any error, with the fields a validation error names. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = Object.keys(error.details);
    if (fields.length) return error.message + " " + fields.map((f) => `${f}: ${error.details[f]}`).join("; ");
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
