/**
 * The tracker (`track` module): page views, engaged time, scroll depth, outbound links,
 * downloads, 404 pages and custom events, sent to `POST /api/v1/events` (the ingest contract in
 * the README). The loader imports it after `load`, when the browser is idle, and only when the
 * script has no `data-track="off"`, the owner's browser is not excluded (`localStorage`
 * `frontdesk:ignore` = "1") and Do-Not-Track / Global Privacy Control are not set (unless
 * `data-respect-dnt="off"`).
 *
 * Cookieless: it stores nothing, so its consent category is `necessary`. Only once the
 * visitor grants `analytics` consent (`frontdesk.consent.analytics`) does it keep a random
 * first-party visitor id in `localStorage` and send it, so returning visitors are recognised.
 *
 * Events of one tick go in one request, as `text/plain` JSON through `navigator.sendBeacon`
 * (no CORS preflight, survives the page closing), with `fetch(…, {keepalive: true})` when a
 * beacon is refused.
 */

import type { ConsentCategory, Runtime } from "./lib/types";

export const consent: ConsentCategory = "necessary";

type Event = Record<string, unknown>;

const w = window as any;
const d = document;
const clock = () => performance.now();
/** Event names as the server accepts them: 1–64 of A-Z a-z 0-9 _ . : / - and space. */
const named = (name: unknown): name is string => typeof name == "string" && /^[\w .:/-]{1,64}$/.test(name);
/** Without input for this long, a visible page no longer counts as engaged. */
const IDLE = 30e3;
const DOWNLOAD = /\.(pdf|zip|t?gz|7z|rar|dmg|exe|msi|pkg|deb|rpm|apk|csv|xlsx?|docx?|pptx?|epub|mp[34]|mov|wav)$/i;
const here = () => location.href.slice(0, 2048);
/** Milliseconds as the server takes them: an integer of at most a day. */
const ms = (n: number) => Math.max(0, Math.min(864e5, Math.round(n) || 0));

export function mount(_el: HTMLElement, rt: Runtime): void {
  const api = w.frontdesk;
  const endpoint = rt.base + "api/v1/events";
  const queue: Event[] = [];
  let timer: any = 0;
  let path = "";
  let pageUrl = "";
  let engaged = 0;
  let mark = 0;
  let active = 0;
  let depth = 0;
  let shown = !d.hidden;

  const send = () => {
    timer = 0; // a timer still pending finds the queue empty
    while (queue.length) {
      const body = JSON.stringify({ events: queue.splice(0, 50) });
      if (!navigator.sendBeacon?.(endpoint, body))
        fetch(endpoint, { method: "POST", body, keepalive: true }).catch(() => {});
    }
  };

  /** The persistent visitor id: only with analytics consent, else the server counts cookielessly. */
  const visitor = () => {
    let id: string | null = null;
    if (api.consent?.analytics)
      try {
        id = localStorage.getItem("frontdesk:visitor");
        // 128 random bits as four decimal numbers joined by "-" (the contract's [A-Za-z0-9_-]{16,64}).
        if (!id) localStorage.setItem("frontdesk:visitor", (id = crypto.getRandomValues(new Uint32Array(4)).join("-")));
      } catch {}
    return id;
  };

  const push = (e: Event, now?: boolean) => {
    const width = innerWidth;
    const id = visitor();
    queue.push({ url: here(), screen: width < 768 ? "mobile" : width < 1024 ? "tablet" : "desktop", ...(id && { visitor: id }), ...e });
    if (now) send();
    else if (!timer) timer = setTimeout(send);
  };

  const track = (name: unknown, props?: unknown) => {
    if (!named(name)) return console.warn("Frontdesk: bad event name:", name);
    const kept: Event = {};
    let n = 0;
    for (const [k, v] of Object.entries(props || {}))
      if (n < 16 && k && k.length <= 64 && (typeof v == "string" || typeof v == "boolean" || Number.isFinite(v)))
        (kept[k] = typeof v == "string" ? v.slice(0, 256) : v), n++;
    push({ type: "event", name, ...(n && { props: kept }) });
  };

  const trackEngagement = (type: unknown, duration: unknown) =>
    push({ type: "engagement", engagedMs: ms(Number(duration)), ...(named(type) && { name: type }) });

  /** Engaged time runs while the page is visible and had input in the last IDLE ms. */
  const tick = () => {
    const t = clock();
    if (shown) engaged += Math.max(0, Math.min(t, active + IDLE) - mark);
    mark = t;
  };
  const scrolled = () => {
    const h = d.documentElement.scrollHeight;
    // A page no taller than the window (h ≤ innerHeight) is wholly seen: 100.
    depth = Math.max(depth, Math.min(100, Math.round(((scrollY + innerHeight) / h) * 100)));
  };
  /** The current page's engaged time and scroll depth, sent now (the page may be going away). */
  const engagement = () => {
    tick();
    if (engaged >= 1) push({ type: "engagement", url: pageUrl, engagedMs: ms(engaged), scrollDepth: depth }, true);
    engaged = 0;
    send();
  };
  const page = () => {
    if (location.pathname == path) return;
    const first = !path;
    if (path) engagement();
    path = location.pathname;
    pageUrl = here();
    mark = active = clock();
    depth = 0;
    scrolled();
    push({ type: "pageview", ...(first && d.referrer && { referrer: d.referrer.slice(0, 2048) }) });
    if (d.querySelector("html[data-404],body[data-404]")) track("404", { path });
  };

  const click = (e: MouseEvent) => {
    const a = (e.target as Element | null)?.closest?.("a[href]") as HTMLAnchorElement | null;
    if (!a || !/^https?:$/.test(a.protocol)) return;
    const on = (attribute: string, key: string) => a.closest(`[${attribute}]`) || key in rt.data;
    const url = a.href.slice(0, 256);
    if (on("data-track-downloads", "trackDownloads") && (a.hasAttribute("download") || DOWNLOAD.test(a.pathname))) track("download", { url });
    else if (on("data-track-outbound", "trackOutbound") && a.host != location.host) track("outbound", { url });
    else return;
    send();
  };

  for (const m of ["pushState", "replaceState"] as const) {
    const original = history[m];
    history[m] = (...args: Parameters<History["pushState"]>) => (original.apply(history, args), page());
  }
  addEventListener("popstate", page);
  for (const type of ["pointerdown", "pointermove", "keydown", "scroll"])
    addEventListener(type, () => (tick(), (active = clock())), { capture: true, passive: true });
  addEventListener("scroll", scrolled, { passive: true });
  d.addEventListener("visibilitychange", () => {
    if (d.hidden) engagement(), (shown = false);
    else (shown = true), (mark = active = clock());
  });
  addEventListener("pagehide", engagement);
  d.addEventListener("click", click, true);
  d.addEventListener("auxclick", click, true);

  page();
  for (const t of api.tracked || []) "ms" in t ? trackEngagement(t.name, t.ms) : track(t.name, t.props);
  api.track = track;
  api.trackEngagement = trackEngagement;
}
