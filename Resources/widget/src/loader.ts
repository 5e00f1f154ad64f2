/**
 * Frontdesk's loader (`/widget.js`): the one script a site embeds.
 *
 * It reads its own `data-` attributes (site key, theme, locale, chat), creates `window.frontdesk`
 * (replaying calls queued by the snippet stub), defines the custom elements and fetches a
 * module's code only when it is first needed: chat when the bubble is clicked or
 * `frontdesk.open()` is called, a form when its element is on the page. Module URLs are
 * content-hashed and resolved against this script's own URL, so embedding on another origin works.
 */

import { BUBBLE_CSS, BUBBLE_ICON } from "./lib/bubble";
import type { ChatController, ConsentCategory, Runtime, WidgetModule } from "./lib/types";

/** name → [content-hashed file, consent category, elements it mounts]; filled in by build.sh from the modules. */
declare const MANIFEST: Record<string, [string, ConsentCategory, string[]]>;

type Listener = (detail: unknown) => void;
type ChatElement = HTMLElement & { load(): Promise<ChatController>; p?: Promise<ChatController> };

const w = window as any;
const d = document;

if (!(w.frontdesk && w.frontdesk.version)) {
  const script = (d.currentScript || d.querySelector("script[src*='widget.js']")) as HTMLScriptElement;
  const ds = script.dataset;
  const stub = w.frontdesk;
  const listeners: Record<string, Listener[]> = {};
  const modules: Record<string, Promise<WidgetModule>> = {};
  const attr = (el: Element, name: string) => (el.closest(`[data-${name}]`) as HTMLElement | null)?.dataset[name] || ds[name];

  const rt: Runtime = {
    base: new URL("./", script.src).href,
    siteKey: ds.siteKey || "",
    data: ds,
    locale: (el) => ((attr(el, "locale") || d.documentElement.lang || "en").slice(0, 2).toLowerCase() == "de" ? "de" : "en"),
    theme: (el) => {
      const t = attr(el, "theme");
      return t == "light" || t == "dark" ? t : "auto";
    },
    emit(event, detail) {
      for (const fn of (listeners[event] || []).slice()) {
        try {
          fn(detail);
        } catch (e) {
          console.error(e);
        }
      }
      w.dispatchEvent(new CustomEvent("frontdesk:" + event, { detail }));
    },
    identity: null,
  };

  /** Without `data-consent="on"` every category is allowed; with it, what `frontdesk.consent` grants. */
  const allowed = (c: ConsentCategory) => c == "necessary" || !api.consent || !!api.consent[c];

  const load = (name: string): Promise<WidgetModule> => {
    const [file, consent] = MANIFEST[name];
    // Checked on every use, not only the first import: a withdrawn consent refuses a module
    // that was already loaded.
    return allowed(consent)
      ? (modules[name] ||= import(rt.base + "widget/" + file).catch((e) => {
          delete modules[name];
          throw e;
        }))
      : Promise.reject(new Error(`Frontdesk: ${name} needs ${consent} consent`));
  };

  const report = (e: unknown) => console.error("Frontdesk:", e);
  const stored = (key: string) => {
    try {
      return localStorage.getItem("frontdesk:" + key);
    } catch {
      return null;
    }
  };

  const chatElement = () =>
    (d.querySelector("frontdesk-chat") || d.body.appendChild(d.createElement("frontdesk-chat"))) as ChatElement;
  const ready = (fn: () => void) => (d.readyState == "loading" ? d.addEventListener("DOMContentLoaded", fn) : fn());
  const withChat = (fn: (c: ChatController) => void) => ready(() => chatElement().load().then(fn, report));

  const api: any = {
    version: "1",
    isOpen: false,
    consent: null,
    /** Opens the chat panel, loading the chat module first if needed. */
    open: () => withChat((c) => c.open()),
    /** Closes the chat panel (nothing to do when the chat was never loaded). */
    close: () => (d.querySelector("frontdesk-chat") as ChatElement | null)?.p?.then((c) => c.close(), report),
    toggle: () => withChat((c) => c.toggle()),
    /** Passes the site's signed identity ({id, email, name, signature}) to the chat. */
    identify(identity: Record<string, unknown>) {
      rt.identity = identity;
      (d.querySelector("frontdesk-chat") as ChatElement | null)?.p?.then((c) => c.identify(identity), report);
    },
    /** Subscribes to an event (open, close, toggle, message, unread, submit); returns an unsubscribe function. */
    on(event: string, fn: Listener) {
      (listeners[event] ||= []).push(fn);
      return () => (listeners[event] = listeners[event].filter((f) => f != fn));
    },
    /** Queued until the tracker loads (it replays `tracked`, then replaces these two). */
    track(name: string, props?: Record<string, unknown>) {
      api.tracked.push({ name, props });
    },
    trackEngagement(name: string, ms: number) {
      api.tracked.push({ name, ms });
    },
    tracked: [] as unknown[],
    load,
  };
  api.on("toggle", (open: unknown) => (api.isOpen = !!open));


  const define = (tag: string, start: (el: HTMLElement & Record<string, any>) => void, extra: object = {}) => {
    if (customElements.get(tag)) return;
    const cls = class extends HTMLElement {
      connectedCallback() {
        if (!this.shadowRoot) {
          this.attachShadow({ mode: "open" });
          start(this as any);
        }
      }
    };
    Object.assign(cls.prototype, extra);
    customElements.define(tag, cls);
  };
  const mountWith = (name: string) => (el: HTMLElement) => load(name).then((m) => m.mount(el, rt)).catch(report);

  // Consent (data-consent="on"): Consent Mode's default before any tag; the stored choice is read
  // here, so a returning visitor loads no module unless the page has marked scripts or embeds or
  // the policy asks again. The consent module does the rest.
  if (ds.consent == "on") {
    let c: any;
    try {
      c = JSON.parse(stored("consent")!);
    } catch {}
    const ok = c && c.until > Date.now();
    // Consent Mode: the default before any tag — the stored choice, or everything denied until the visitor decides.
    const o: any = ok ? c.gcm : { security_storage: "granted", wait_for_update: 500 };
    if (!ok) for (const k of "ad_storage ad_user_data ad_personalization analytics_storage functionality_storage personalization_storage".split(" ")) o[k] = "denied";
    if (ds.consentMode != "off")
      (function (..._: unknown[]) {
        (w.dataLayer ||= []).push(arguments);
      })("consent", "default", o);
    const start = (el: Element) => load("consent").then((m) => m.mount(el as HTMLElement, rt), report);
    api.consent = { ...(ok && c.categories), open: () => start(d.body) };
    ready(() =>
      ok && !d.querySelector("[data-frontdesk-consent]")
        ? fetch(rt.base + "api/v1/consent/config", { cache: "no-cache" }).then((r) => r.json()).then((x) => x.promptSince > c.version && start(d.body), report)
        : start(d.documentElement),
    );
  }

  for (const name in MANIFEST) for (const tag of MANIFEST[name][2]) define(tag, mountWith(name));
  define(
    "frontdesk-chat",
    (el) => {
      const root = el.shadowRoot!;
      // A constructable sheet passes a strict style-src policy; <style> is the fallback for old browsers.
      if (root.adoptedStyleSheets) {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(BUBBLE_CSS);
        root.adoptedStyleSheets = [sheet];
      } else root.innerHTML = `<style>${BUBBLE_CSS}</style>`;
      const b = d.createElement("button");
      b.className = "bubble";
      b.type = "button";
      b.setAttribute("aria-label", rt.locale(el) == "de" ? "Chat öffnen" : "Open chat");
      b.setAttribute("aria-expanded", "false");
      b.innerHTML = BUBBLE_ICON;
      b.onclick = () => el.load().then((c: ChatController) => c.toggle(), report);
      root.append(b);
      if (el.hasAttribute("open")) el.load().then((c: ChatController) => c.open(), report);
      // A conversation in progress: load the chat now, so agents' replies show as unread.
      else if (stored("chat")) el.load().catch(report);
    },
    {
      load(this: ChatElement) {
        return (this.p ||= load("chat")
          .then((m) => m.mount(this, rt) as ChatController)
          .catch((e) => {
            this.p = undefined;
            throw e;
          }));
      },
    },
  );

  w.frontdesk = api;
  for (const [method, ...args] of (stub && stub.q) || []) {
    try {
      api[method](...args);
    } catch (e) {
      report(e);
    }
  }
  ready(() => ds.chat != "off" && chatElement());
  // Banners (and, later, suggestions): the engage module, unless data-engage="off".
  ready(() => ds.engage != "off" && load("engage").then((m) => m.mount(d.documentElement, rt), report));

  // The tracker, once the page has loaded and the browser is idle, so it never delays the page:
  // not with data-track="off", not in the owner's own browser (the console sets frontdesk:ignore),
  // not under Do-Not-Track or Global Privacy Control unless data-respect-dnt="off".
  const nav = navigator as any;
  if (ds.track != "off" && stored("ignore") != "1" && !(ds.respectDnt != "off" && (nav.doNotTrack == "1" || nav.globalPrivacyControl))) {
    const go = () => load("track").then((m) => m.mount(d.documentElement, rt)).catch(report);
    // Safari has no requestIdleCallback: setTimeout takes the options object as a delay of 0.
    const start = () => (w.requestIdleCallback || setTimeout)(go, { timeout: 3e3 });
    d.readyState == "complete" ? start() : w.addEventListener("load", start);
  }
}
