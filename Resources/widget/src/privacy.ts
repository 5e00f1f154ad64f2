/**
 * `<frontdesk-privacy-request>`: a visitor asks for a copy of their data or for its erasure, by
 * e-mail. Nothing happens until they open the confirmation link mailed to that address (so
 * nobody can ask for someone else's data); an access request is answered by a single-use,
 * expiring download link. The form always answers the same way, so it tells nobody whether an
 * address is known. Attribute `kind="access|erasure"` preselects the request.
 */

import { ApiError, request } from "./lib/api";
import { adopt, h } from "./lib/dom";
import { solve, type PowChallenge } from "./lib/pow";
import { BASE_CSS } from "./lib/styles";
import type { ConsentCategory, Locale, Runtime } from "./lib/types";

/** Asked for by the visitor, for their own rights: no consent needed. */
export const consent: ConsentCategory = "necessary";
export const elements = ["frontdesk-privacy-request"];

/** What GET api/v1/forms/privacy gives: the inbox's spam defences, as every form has them. */
interface Form { honeypotField: string; formToken: string; minFillSeconds: number; proofOfWork?: PowChallenge | null }

const EN = {
  title: "Your data",
  intro: "Ask for a copy of the data we hold about you, or for its erasure. We confirm by e-mail first.",
  access: "Send me a copy of my data",
  erasure: "Erase my data",
  email: "Your e-mail address",
  send: "Send request",
  sending: "Sending…",
  sent: "Check your mailbox: open the link we sent to {email} to confirm your request. Nothing happens until you do.",
  invalid: "Please enter a valid e-mail address.",
  failed: "Something went wrong. Please try again.",
};
type Strings = typeof EN;
const DE: Strings = {
  title: "Ihre Daten",
  intro: "Fordern Sie eine Kopie Ihrer bei uns gespeicherten Daten an oder deren Löschung. Wir bestätigen zuerst per E-Mail.",
  access: "Kopie meiner Daten senden",
  erasure: "Meine Daten löschen",
  email: "Ihre E-Mail-Adresse",
  send: "Anfrage senden",
  sending: "Wird gesendet…",
  sent: "Bitte sehen Sie in Ihr Postfach: Öffnen Sie den Link, den wir an {email} gesendet haben, um Ihre Anfrage zu bestätigen. Vorher geschieht nichts.",
  invalid: "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
  failed: "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
};
const STRINGS: Record<Locale, Strings> = { en: EN, de: DE };

const CSS_TEXT = BASE_CSS + `
.pr{max-width:560px}
.pr fieldset{border:0;margin:0 0 12px;padding:0;display:flex;flex-direction:column;gap:6px}
.pr label.o{display:flex;gap:8px;align-items:center}
`;

/** Mounts the request form into `el`'s shadow root. */
export function mount(el: HTMLElement, rt: Runtime): void {
  const locale = rt.locale(el);
  const t = STRINGS[locale];
  const root = el.shadowRoot || el.attachShadow({ mode: "open" });
  adopt(root, CSS_TEXT);
  const box = h("div", { class: "fd pr", "data-theme": rt.theme(el), lang: locale });
  const live = h("p", { class: "sr", role: "status", "aria-live": "polite" });
  root.replaceChildren(box, live);

  const preset = el.getAttribute("kind") == "erasure" ? "erasure" : "access";
  const option = (value: string, text: string) =>
    h("label", { class: "o" }, h("input", { type: "radio", name: "kind", value, checked: value == preset }), text);
  const err = h("p", { class: "err", id: "e-email", hidden: true });
  const email = h("input", { class: "in", id: "i-email", name: "email", type: "email", autocomplete: "email", required: true, "aria-required": "true", "aria-describedby": "e-email" });
  const button = h("button", { class: "btn", type: "submit" }, t.send);
  let cfg: Form | null = null;
  let shown = Date.now();
  let pow: ReturnType<typeof solve> | null = null;
  const honeypot = h("input", { class: "hp", type: "text", tabindex: -1, autocomplete: "off", "aria-hidden": "true" });
  const loadForm = async () => {
    cfg = await request<Form>(rt, "api/v1/forms/privacy");
    honeypot.name = cfg.honeypotField;
    shown = Date.now();
    pow = cfg.proofOfWork ? solve(cfg.proofOfWork) : null;
    pow?.catch(() => {});
  };
  const form = h("form", { novalidate: true }, honeypot,
    h("h2", null, t.title),
    h("p", { class: "note" }, t.intro),
    h("fieldset", null, option("access", t.access), option("erasure", t.erasure)),
    h("div", { class: "f" }, h("label", { for: "i-email" }, t.email), email, err),
    h("div", { class: "row" }, button));
  form.onsubmit = async (e) => {
    e.preventDefault();
    if (button.disabled) return;
    const address = email.value.trim();
    err.hidden = true;
    email.removeAttribute("aria-invalid");
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) {
      err.textContent = t.invalid;
      err.hidden = false;
      email.setAttribute("aria-invalid", "true");
      email.focus();
      return;
    }
    const kind = (form.querySelector<HTMLInputElement>("input[name=kind]:checked")?.value) || preset;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    live.textContent = t.sending;
    try {
      if (!cfg) await loadForm();
      const body: Record<string, unknown> = { kind, email: address, formToken: cfg!.formToken };
      if (honeypot.value) body[cfg!.honeypotField] = honeypot.value;
      const wait = cfg!.minFillSeconds * 1000 + 250 - (Date.now() - shown);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (pow) body.proofOfWork = await pow.catch(() => undefined);
      await request(rt, "api/v1/privacy/requests", { body });
      const done = h("div", { class: "alert ok", role: "status" }, h("p", null, t.sent.replace("{email}", address)));
      box.replaceChildren(done);
      live.textContent = t.sent.replace("{email}", address);
    } catch (x) {
      const e2 = x instanceof ApiError ? x : new ApiError(0, "client", String(x));
      err.textContent = e2.details.email ? t.invalid : e2.status == 422 ? e2.message : t.failed;
      err.hidden = false;
      email.setAttribute("aria-invalid", "true");
      live.textContent = "";
      if (e2.details.formToken || e2.details.proofOfWork) loadForm().catch(() => {});
    } finally {
      button.disabled = false;
      button.setAttribute("aria-busy", "false");
    }
  };
  box.replaceChildren(form);
  loadForm().catch(() => {});
}
