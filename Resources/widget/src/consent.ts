/**
 * Frontdesk's cookie-consent banner (loaded only when the loader has `data-consent="on"` and the
 * visitor has no valid stored choice, or asks for the settings).
 *
 * The first layer offers Accept all and Reject all as twins (same class, size, weight, colours)
 * and Customize; the second a switch per category with its services. Each choice is posted as
 * proof (`POST /api/v1/consents`) with the SHA-256 of the exact document rendered, stored in
 * localStorage `frontdesk:consent` ({id, version, categories, time, until, gcm}), applied at once
 * (`frontdesk.consent`, which the loader checks before importing a module; marked site scripts and
 * embeds; a running chat stops when functional is withdrawn), sent to Google Consent
 * Mode as `update`, and announced with `frontdesk.on("consent")` / the `frontdesk:consent` event.
 */

import { adopt, h } from "./lib/dom";
import { BASE_CSS } from "./lib/styles";
import type { ConsentCategory, Runtime } from "./lib/types";

export const consent: ConsentCategory = "necessary";
export const elements = ["frontdesk-cookie-declaration", "frontdesk-consent-settings"];

type Texts = Record<string, string> & { categories: Record<string, { name: string; description: string }> };
interface Service { id: string; name: string; category: string; provider: string; purpose: string; storage: string[]; retention: string }
interface Doc { texts: Texts; categories: string[]; services: Service[]; privacyPolicyURL: string }
interface Config {
  version: number; promptSince: number; maxAgeDays: number; locale: string; position: string; consentMode: string;
  consentModeMap: Record<string, string[]>; gpcRefusesAnalytics: boolean; hash: string; document: string;
}
interface Stored { id: string; version: number; categories: Record<string, boolean>; time: string; until: number; gcm?: Record<string, string> }

const w = window as any;
const d = document;
const KEY = "frontdesk:consent";
const LOCALES = ["en", "de", "fr", "es", "it", "nl"];
const CSS = `${BASE_CSS}
.bn{position:fixed;z-index:2147483646;background:var(--bg);color:var(--fg);box-shadow:0 6px 30px rgba(0,0,0,.3);padding:20px;max-height:90vh;overflow:auto;overflow-wrap:anywhere}
.bar{left:0;right:0;bottom:0}.box{left:50%;top:50%;transform:translate(-50%,-50%);width:min(560px,94vw);border-radius:var(--r)}
.corner{left:16px;bottom:16px;width:min(420px,calc(100vw - 32px));border-radius:var(--r)}
.in{max-width:960px;margin:0 auto;display:flex;flex-direction:column;gap:12px}
.acts{display:flex;flex-wrap:wrap;gap:10px;align-items:center}.acts .btn{flex:1 1 160px}
.lnk{background:none;border:0;color:var(--fg);text-decoration:underline;cursor:pointer;padding:10px 4px;min-height:44px}
a{color:var(--fg)}.gpc{padding:8px 12px;border-left:4px solid var(--a);background:var(--sf)}
.cat{border-top:1px solid var(--ln);padding:10px 0}.row{display:flex;justify-content:space-between;gap:12px;align-items:center}
.sw{width:44px;height:26px;accent-color:var(--a)}.mu{color:var(--mu);font-size:14px}
ul{margin:6px 0 0;padding-left:18px}dl{margin:4px 0;display:grid;grid-template-columns:auto 1fr;gap:2px 10px;font-size:14px}dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{text-align:left;padding:6px;border-bottom:1px solid var(--ln);vertical-align:top}
.ph{display:flex;flex-direction:column;gap:10px;align-items:flex-start;padding:12px;height:100%;overflow:auto;border:1px dashed var(--ln);border-radius:var(--r);background:var(--sf)}
@media (prefers-reduced-motion:no-preference){.bn{animation:fd-in .2s ease-out}@keyframes fd-in{from{opacity:0}to{opacity:1}}}`;

/** The visitor locale, chosen like the other modules: data-locale, then <html lang>. */
function localeOf(el: Element): string {
  const own = (el.closest("[data-locale]") as HTMLElement | null)?.dataset.locale;
  const script = d.querySelector<HTMLScriptElement>("script[data-consent]")?.dataset.locale;
  const l = (own || script || d.documentElement.lang || "en").slice(0, 2).toLowerCase();
  return LOCALES.includes(l) ? l : "en";
}

const configs: Record<string, Promise<[Config, Doc, string]>> = {};
/** The published banner in `locale`, its document parsed, and the SHA-256 of the document as rendered. */
function config(rt: Runtime, locale: string) {
  return (configs[locale] ||= fetch(rt.base + "api/v1/consent/config?locale=" + locale, { cache: "no-cache" })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error("consent config " + r.status))))
    .then(async (c: Config): Promise<[Config, Doc, string]> => {
      let hash = c.hash;
      if (crypto.subtle) {
        const b = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(c.document));
        hash = Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
      }
      return [c, JSON.parse(c.document), hash];
    }));
}

function stored(): Stored | null {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

const gpc = () => (navigator as any).globalPrivacyControl === true;

/** Categories GPC refuses under this configuration. */
const refusedByGPC = (c: Config) => (gpc() ? (c.gpcRefusesAnalytics ? ["marketing", "analytics"] : ["marketing"]) : []);

async function post(rt: Runtime, c: Config, hash: string, action: string, granted: string[], id?: string) {
  const r = await fetch(rt.base + "api/v1/consents", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...(id ? { consentId: id } : {}), action, granted, version: c.version, hash, locale: c.locale, pagePath: location.pathname, gpc: gpc() }),
  });
  if (!r.ok) throw new Error("consent not recorded: " + r.status);
  return (await r.json()) as { consentId: string; createdAt: string };
}

/** Applies a choice everywhere: storage, the loader's gates, Consent Mode, listeners, Frontdesk modules. */
function apply(c: Config | null, categories: Record<string, boolean>, rt: Runtime, record?: { consentId: string; createdAt: string }) {
  const gcm: Record<string, string> = {};
  if (c && c.consentMode != "off") {
    for (const [cat, types] of Object.entries(c.consentModeMap)) for (const t of types) if (categories[cat] || !gcm[t]) gcm[t] = categories[cat] ? "granted" : "denied";
    (function (..._: unknown[]) {
      (w.dataLayer ||= []).push(arguments);
    })("consent", "update", gcm);
  }
  if (c && record) {
    const s: Stored = { id: record.consentId, version: c.version, categories, time: record.createdAt, until: Date.now() + c.maxAgeDays * 864e5, gcm };
    try {
      localStorage.setItem(KEY, JSON.stringify(s));
    } catch {}
  }
  const api = w.frontdesk;
  api.consent = { ...categories, open: api.consent.open };
  gate();
  rt.emit("consent", { ...categories });
  // Withdrawal takes effect at once: a running chat (it closes its socket on the event below) is
  // replaced by a fresh bubble, which loads nothing while functional is refused.
  if (!categories.functional)
    d.querySelectorAll<any>("frontdesk-chat").forEach((e) => e.p && e.replaceWith(d.createElement("frontdesk-chat")));
  placeholders(rt);
}

let open: HTMLElement | null = null;

/** Shows the banner; `layer2` opens the Customize layer at once. */
async function show(rt: Runtime, layer2 = false) {
  if (open) return;
  const locale = localeOf(d.body);
  const [c, doc, hash] = await config(rt, locale);
  const t = doc.texts;
  const prev = stored();
  const refused = refusedByGPC(c);
  const returnTo = d.activeElement as HTMLElement | null;
  const host = h("div", { "data-frontdesk-consent-banner": "" });
  const root = host.attachShadow({ mode: "open" });
  adopt(root, CSS);
  const choice: Record<string, boolean> = {};
  for (const cat of doc.categories) choice[cat] = cat == "necessary" || (!!prev?.categories[cat] && !refused.includes(cat));

  const close = () => {
    host.remove();
    open = null;
    returnTo?.focus?.();
  };
  const decide = async (action: string) => {
    const granted = doc.categories.filter((cat) => cat == "necessary" || (action == "accept_all" ? !refused.includes(cat) : action == "custom" && choice[cat]));
    const all = doc.categories.length == granted.length;
    const onlyNecessary = granted.length == 1;
    const real = action == "accept_all" && !all ? "custom" : onlyNecessary && prev && Object.keys(prev.categories).some((k) => k != "necessary" && prev.categories[k]) ? "withdraw" : onlyNecessary ? "reject_all" : all ? "accept_all" : "custom";
    const cats: Record<string, boolean> = {};
    for (const cat of doc.categories) cats[cat] = granted.includes(cat);
    buttons.forEach((b) => (b.disabled = true));
    try {
      apply(c, cats, rt, await post(rt, c, hash, real, granted, prev?.id));
      close();
    } catch (e) {
      buttons.forEach((b) => (b.disabled = false));
      console.error("Frontdesk:", e);
    }
  };
  const btn = (label: string, action: string) => h("button", { class: "btn", type: "button", onclick: () => decide(action) }, label);
  const accept = btn(t.acceptAll, "accept_all");
  const reject = btn(t.rejectAll, "reject_all");
  const buttons: HTMLButtonElement[] = [accept, reject];
  const title = h("h2", { id: "t" }, t.title);
  const cats = h("div", { hidden: !layer2 });
  for (const cat of doc.categories) {
    const ct = t.categories[cat];
    const input = h("input", { type: "checkbox", class: "sw", id: "c-" + cat, checked: choice[cat], disabled: cat == "necessary" || refused.includes(cat),
      "aria-describedby": "d-" + cat, onchange: (e: Event) => (choice[cat] = (e.target as HTMLInputElement).checked) });
    const services = doc.services.filter((s) => s.category == cat);
    cats.append(h("div", { class: "cat" },
      h("div", { class: "row" }, h("label", { for: "c-" + cat }, h("strong", null, ct.name)), cat == "necessary" ? h("span", { class: "mu" }, t.alwaysOn) : null, input),
      h("p", { class: "mu", id: "d-" + cat }, ct.description),
      services.length ? h("ul", null, ...services.map((s) => h("li", null, h("strong", null, s.name),
        h("dl", null, h("dt", null, t.provider), h("dd", null, s.provider), h("dt", null, t.purpose), h("dd", null, s.purpose),
          h("dt", null, t.storage), h("dd", null, s.storage.join(", ")), h("dt", null, t.retention), h("dd", null, s.retention))))) : null));
  }
  const save = btn(t.save, "custom");
  save.hidden = !layer2;
  buttons.push(save);
  const custom = h("button", { class: "lnk", type: "button", "aria-expanded": String(layer2), onclick: () => {
    cats.hidden = save.hidden = false;
    custom.setAttribute("aria-expanded", "true");
    custom.hidden = true;
    (cats.querySelector("input:not([disabled])") as HTMLElement | null)?.focus();
  } }, t.customize);
  custom.hidden = layer2;
  const box = h("div", { class: "fd bn " + c.position, role: "dialog", "aria-modal": "true", "aria-labelledby": "t", "aria-describedby": "b", "data-theme": rt.theme(d.body), lang: locale },
    h("div", { class: "in" }, title, h("p", { id: "b" }, t.body),
      refused.length ? h("p", { class: "gpc", role: "note" }, t.gpcNotice) : null,
      h("a", { href: doc.privacyPolicyURL }, t.privacyLink), cats,
      h("div", { class: "acts" }, accept, reject, save, custom)));
  // Keyboard: Tab stays inside the dialog until a choice is made.
  box.addEventListener("keydown", (e) => {
    if (e.key != "Tab") return;
    const f = Array.from(box.querySelectorAll<HTMLElement>("button:not([hidden]):not([disabled]),a,input:not([disabled])")).filter((x) => !x.closest("[hidden]"));
    const i = f.indexOf(root.activeElement as HTMLElement);
    if (e.shiftKey ? i <= 0 : i == f.length - 1) {
      e.preventDefault();
      f[e.shiftKey ? f.length - 1 : 0].focus();
    }
  });
  root.append(box);
  d.body.append(host);
  open = host;
  accept.focus();
}

const granted = (cat: string) => cat == "necessary" || !!w.frontdesk.consent[cat];

/** Runs the site's marked scripts (`type="text/plain" data-frontdesk-consent=…`, inline or `data-src`) and loads marked embeds once their category is granted. */
function gate() {
  d.querySelectorAll<any>("[data-frontdesk-consent]").forEach((e) => {
    if (e.x || !granted(e.dataset.frontdeskConsent)) return;
    e.x = 1;
    const src = e.dataset.src;
    if (e.tagName == "SCRIPT") {
      const n = d.createElement("script");
      for (const a of e.attributes) if (a.name != "type" && a.name != "data-src") n.setAttribute(a.name, a.value);
      if (src) n.src = src;
      n.text = e.text;
      e.replaceWith(n);
    } else if (src) e.src = src;
  });
}

/** Embeds (`iframe`, `video`, … with data-frontdesk-consent) not granted get a placeholder with a load button. */
async function placeholders(rt: Runtime) {
  const waiting = Array.from(d.querySelectorAll<any>("[data-frontdesk-consent]:not(script)")).filter((e) => !e.x && !e.fdPh);
  if (!waiting.length) return;
  const locale = localeOf(d.body);
  const [, doc] = await config(rt, locale);
  for (const e of waiting) {
    const cat = e.dataset.frontdeskConsent;
    const host = h("div", { "data-frontdesk-placeholder": cat });
    const root = host.attachShadow({ mode: "open" });
    adopt(root, CSS + ":host{display:inline-block!important;overflow:hidden!important}");
    const load = () => {
      e.x = 1;
      e.src = e.dataset.src;
      e.hidden = false;
      host.remove();
    };
    root.append(h("div", { class: "fd ph", "data-theme": rt.theme(e) },
      h("p", null, doc.texts.placeholder.replace("{category}", doc.texts.categories[cat]?.name || cat)),
      h("button", { class: "btn", type: "button", onclick: load }, doc.texts.loadButton)));
    // The placeholder takes the embed's exact box (an inline-block with overflow hidden has the
    // same baseline as an iframe), so nothing on the page moves.
    const r = e.getBoundingClientRect();
    const box = root.querySelector<HTMLElement>(".ph")!;
    box.style.width = r.width + "px";
    box.style.height = r.height + "px";
    e.fdPh = host;
    e.hidden = true;
    e.before(host);
    const off = w.frontdesk.on("consent", () => {
      if (e.x) {
        e.hidden = false;
        host.remove();
        off();
      }
    });
  }
}

/** The cookie declaration for the site's privacy page: every category, service and storage key. */
async function declaration(el: HTMLElement, rt: Runtime) {
  const [, doc] = await config(rt, localeOf(el));
  const t = doc.texts;
  const root = el.shadowRoot!;
  adopt(root, CSS);
  const body = h("div", { class: "fd", "data-theme": rt.theme(el) });
  for (const cat of doc.categories) {
    const services = doc.services.filter((s) => s.category == cat);
    body.append(h("section", { class: "cat" }, h("h3", null, t.categories[cat].name), h("p", null, t.categories[cat].description),
      services.length ? h("table", null,
        h("thead", null, h("tr", null, ...["", t.provider, t.purpose, t.storage, t.retention].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", null, ...services.map((s) => h("tr", null, h("th", { scope: "row" }, s.name), h("td", null, s.provider), h("td", null, s.purpose),
          h("td", null, s.storage.join(", ")), h("td", null, s.retention))))) : null));
  }
  root.append(body);
}

/**
 * The loader's entry: `document.documentElement` starts (banner when there is no valid choice or
 * the policy asks again; placeholders), `document.body` opens the banner (`frontdesk.consent.open()`),
 * `<frontdesk-cookie-declaration>` and `<frontdesk-consent-settings>` render themselves.
 */
export function mount(el: HTMLElement, rt: Runtime): unknown {
  const tag = el.tagName.toLowerCase();
  if (tag == "frontdesk-cookie-declaration") return declaration(el, rt);
  if (tag == "frontdesk-consent-settings") {
    return config(rt, localeOf(el)).then(([, doc]) => {
      adopt(el.shadowRoot!, CSS);
      el.shadowRoot!.append(h("div", { class: "fd", "data-theme": rt.theme(el) },
        h("button", { class: "btn", type: "button", onclick: () => show(rt, true) }, doc.texts.settings)));
    });
  }
  if (el == d.body) return show(rt, true);
  return (async () => {
    const s = stored();
    const [c, , hash] = await config(rt, localeOf(d.body));
    gate();
    if (s && s.until > Date.now() && s.version >= c.promptSince) return placeholders(rt);
    if (s && !(s.until > Date.now())) {
      // An expired choice is recorded as such before asking again.
      localStorage.removeItem(KEY);
      await post(rt, c, hash, "expired", ["necessary"], s.id).catch(() => {});
      apply(c, { necessary: true }, rt);
    }
    placeholders(rt);
    return show(rt);
  })();
}
