/**
 * Notification banners (`engage` module): the live banners of `GET /api/v1/engage` (ETag,
 * revalidated), kept current over the visitor socket (`banner.published`, `banner.withdrawn`
 * frames; see the chat protocol document), filtered in the page by their targeting (path globs,
 * locale, new or returning visitor, device class) and shown one per position, highest priority
 * first: a top or bottom bar (fixed, so nothing on the page moves) or inline in a
 * `<frontdesk-banner slot="…">` element, which keeps its height reserved.
 *
 * Accessible: each banner is a `role="region"` named by its title; nothing takes the focus.
 * A dismissal is remembered per banner version in localStorage. Impressions, dismissals and
 * call-to-action clicks go to the analytics engine as events (`engage.banner.impression`,
 * `.dismiss`, `.click` with `banner` and `version`) through `frontdesk.track`.
 */

import { adopt, h } from "./lib/dom";
import { safeFragment, safeHref } from "./lib/safehtml";
import type { ConsentCategory, Runtime } from "./lib/types";

export const consent: ConsentCategory = "necessary";
export const elements = ["frontdesk-banner"];

interface Banner {
  id: number;
  version: number;
  title: string;
  type: string;
  html: string;
  cta?: { label: string; url: string };
  position: "top" | "bottom" | "inline";
  slot?: string;
  targeting: { paths: string[]; locales: string[]; audience: string; devices: string[] };
  priority: number;
  dismissible: boolean;
}

const w = window as any;
const d = document;
const KEY = "frontdesk:engage";

// Styles go through the shadow root's adopted sheet (a strict style-src policy blocks style attributes).
const CSS = `:host{all:initial;display:block}
:host([data-frontdesk-banner]){position:fixed;left:0;right:0;z-index:2147483000}:host([data-frontdesk-banner=top]){top:0}:host([data-frontdesk-banner=bottom]){bottom:0}
.b{box-sizing:border-box;display:flex;gap:.75em;align-items:center;padding:.6em 1em;font:15px/1.4 system-ui,sans-serif;color:#102a43;background:#e0ecff;border-bottom:1px solid #9fb3c8}
.success{background:#def7e5}.warning{background:#fff3c4}.error{background:#ffe3e3}.promo{background:#f3e8ff}
.t{flex:1}.t p{margin:0}.t a{color:inherit}
a.c{padding:.3em .8em;border-radius:4px;background:#102a43;color:#fff;text-decoration:none;white-space:nowrap}
button{font:inherit;border:0;background:none;cursor:pointer;padding:.2em .5em;color:inherit}
button:focus-visible,a:focus-visible{outline:2px solid #2563eb}`;

/** Whether `path` matches a glob: `*` is anything but `/`, `**` anything. */
const glob = (g: string, path: string) =>
  new RegExp("^" + g.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*\*|\*/g, (m) => (m == "*" ? "[^/]*" : ".*")) + "$").test(path);

const load = (): any => {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "{}") || {};
  } catch {
    return {};
  }
};
const save = (s: any) => {
  try {
    localStorage.setItem(KEY, JSON.stringify(s));
  } catch {}
};

let started: Controller | undefined;

class Controller {
  banners = new Map<number, Banner>();
  slots = new Map<string, ShadowRoot>();
  bars: Record<string, ShadowRoot> = {};
  seen = new Set<string>();
  returning: boolean;
  retries = 0;
  etag = "";

  constructor(readonly rt: Runtime) {
    // New or returning: a visit ends after 30 minutes without a page; remembered in this
    // browser only with analytics consent (cookieless, every visitor counts as new).
    const s = load();
    const now = Date.now();
    this.returning = !!s.last && now - s.last > 18e5 ? true : !!s.ret;
    if ((window as any).frontdesk?.consent?.analytics) {
      s.ret = this.returning;
      s.last = now;
      save(s);
    }
    this.fetch();
    this.connect();
    addEventListener("popstate", () => this.render());
  }

  fetch() {
    fetch(this.rt.base + "api/v1/engage", { cache: "no-cache", credentials: "omit" })
      .then((r) => r.json())
      .then((doc) => {
        this.banners = new Map(doc.banners.map((b: Banner) => [b.id, b]));
        this.render();
      })
      .catch(() => {});
  }

  connect() {
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.rt.base.replace(/^http/, "ws") + "api/v1/ws");
    } catch {
      return;
    }
    ws.onopen = () => ws.send(JSON.stringify({ v: 1, type: "hello", data: {} }));
    ws.onmessage = (e) => {
      let f: any;
      try {
        f = JSON.parse(String(e.data));
      } catch {
        return;
      }
      const x = f.data || {};
      // After a (re)connect, frames missed while away are in the document.
      if (f.type == "welcome") (this.retries = 0), this.fetch();
      else if (f.type == "banner.published") this.banners.set(x.banner.id, x.banner), this.render();
      else if (f.type == "banner.withdrawn") this.banners.delete(x.id), this.render();
    };
    ws.onclose = (e) => {
      if (e.code == 1008) return;
      setTimeout(() => this.connect(), Math.min(3e4, 1e3 * 2 ** this.retries++));
    };
  }

  targets(b: Banner): boolean {
    const t = b.targeting;
    const width = innerWidth;
    const device = width < 768 ? "mobile" : width < 1024 ? "tablet" : "desktop";
    const lang = (d.documentElement.lang || navigator.language || "").toLowerCase();
    return (
      (!t.paths.length || t.paths.some((g) => glob(g, location.pathname))) &&
      (!t.locales.length || t.locales.some((l) => lang == l.toLowerCase() || lang.startsWith(l.toLowerCase() + "-") || l.toLowerCase().startsWith(lang + "-"))) &&
      (t.audience == "all" || (t.audience == "returning") == this.returning) &&
      (!t.devices.length || t.devices.includes(device)) &&
      load().dismissed?.[b.id] != b.version
    );
  }

  /** The banner for each place: the highest priority (then newest) that targets this page. */
  render() {
    const best: Record<string, Banner> = {};
    for (const b of this.banners.values()) {
      const place = b.position == "inline" ? "slot:" + b.slot : b.position;
      const cur = best[place];
      if (this.targets(b) && (!cur || b.priority > cur.priority || (b.priority == cur.priority && b.id > cur.id))) best[place] = b;
    }
    for (const place of ["top", "bottom"]) this.show(this.bar(place, !!best[place]), best[place]);
    for (const [slot, root] of this.slots) this.show(root, best["slot:" + slot]);
  }

  bar(place: string, needed: boolean): ShadowRoot | undefined {
    if (!this.bars[place] && needed) {
      const host = h("div", { "data-frontdesk-banner": place });
      d.body.append(host);
      adopt((this.bars[place] = host.attachShadow({ mode: "open" })), CSS);
    }
    return this.bars[place];
  }

  show(root: ShadowRoot | undefined, b: Banner | undefined) {
    if (!root) return;
    const current = root.querySelector(".b") as HTMLElement | null;
    if (b && current?.dataset.key == b.id + ":" + b.version && current.dataset.html == b.html) return;
    current?.remove();
    if (!b) return;
    const key = b.id + ":" + b.version;
    const track = (what: string) => w.frontdesk?.track?.("engage.banner." + what, { banner: b.id, version: b.version });
    const de = this.rt.locale(root.host) == "de";
    const cta = b.cta && safeHref(b.cta.url) ? h("a", { class: "c", href: b.cta.url, onclick: () => track("click") }, b.cta.label) : null;
    const close = b.dismissible
      ? h("button", {
          type: "button",
          "aria-label": (de ? "Hinweis schließen: " : "Dismiss notice: ") + b.title,
          onclick: () => {
            const s = load();
            (s.dismissed ||= {})[b.id] = b.version;
            save(s);
            track("dismiss");
            this.render();
          },
        }, "×")
      : null;
    const el = h("div", { class: "b " + b.type, role: "region", "aria-label": b.title, "data-key": key, "data-banner": b.id },
      h("div", { class: "t" }, safeFragment(b.html)), cta, close);
    el.dataset.html = b.html;
    root.append(el);
    if (!this.seen.has(key)) this.seen.add(key), track("impression");
  }
}

/** Mounts for the page (the loader's start) or for one `<frontdesk-banner slot="…">` element. */
export function mount(el: HTMLElement, rt: Runtime): void {
  const c = (started ||= new Controller(rt));
  if (el.tagName == "FRONTDESK-BANNER" && el.shadowRoot) {
    const root = el.shadowRoot;
    // The slot keeps its height while empty, so a banner arriving later moves nothing.
    adopt(root, CSS.replace(":host{all:initial;display:block}", ":host{all:initial;display:block;min-height:var(--frontdesk-banner-height,3em)}"));
    c.slots.set(el.getAttribute("slot") || "", root);
    c.render();
  }
}
