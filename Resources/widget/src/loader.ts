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

  /** Until a consent module sets `frontdesk.consent`, every category is allowed. */
  const allowed = (c: ConsentCategory) => c == "necessary" || !api.consent || !!api.consent[c];

  const load = (name: string): Promise<WidgetModule> => {
    const [file, consent] = MANIFEST[name];
    return (modules[name] ||= (allowed(consent)
      ? import(rt.base + "widget/" + file)
      : Promise.reject(new Error(`Frontdesk: ${name} needs ${consent} consent`))
    ).catch((e) => {
      delete modules[name];
      throw e;
    }));
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
    /** Queued until the analytics module lands. */
    track(name: string, props?: Record<string, unknown>) {
      api.tracked.push({ name, props, at: Date.now() });
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
}
