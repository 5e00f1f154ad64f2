/**
 * The inline form elements: `<frontdesk-contact-form>`, `<frontdesk-newsletter>` and
 * `<frontdesk-ticket-form>`. Each renders into its open shadow root from the server's form
 * configuration (GET /api/v1/forms/{form}), with inputs named like the API's fields, and
 * shows the server's 422 field errors next to the fields they concern.
 *
 * Spam defences: the configured honeypot field (off-screen, out of the tab order), the
 * `formToken` (the server checks the fill time; the submit waits out `minFillSeconds` rather than
 * fail; each token is good for one post, so a refused form fetches a fresh one), and proof of
 * work, solved in the background as soon as the configuration arrives.
 * Every submit attempt carries an `Idempotency-Key`; retrying the same attempt (after a network
 * failure or a 5xx) reuses it, so a retry can never store the form twice.
 */

import { ApiError, request } from "./lib/api";
import { adopt, delay, h, randomKey } from "./lib/dom";
import { solve, type PowChallenge, type PowSolution } from "./lib/pow";
import { BASE_CSS } from "./lib/styles";
import type { ConsentCategory, Locale, Runtime } from "./lib/types";

/** Forms are sent on the visitor's explicit action, so they need no consent beyond that. */
export const consent: ConsentCategory = "necessary";
export const elements = ["frontdesk-contact-form", "frontdesk-newsletter", "frontdesk-ticket-form"];

type Kind = "contact" | "newsletter" | "ticket";

interface FieldConfig {
  name: string;
  label: string;
  type: string;
  required?: boolean;
  maxLength?: number | null;
  pattern?: string | null;
  options?: (string | { value: string; label: string })[];
}

interface FormConfig {
  id?: string;
  fields?: FieldConfig[];
  honeypotField?: string;
  formToken?: string | null;
  minFillSeconds?: number;
  proofOfWork?: PowChallenge | null;
  topics?: { id: string; label: string }[];
  consentText?: string;
  consentVersion?: string;
}

const EN = {
  name: "Name",
  email: "Email address",
  subject: "Subject",
  message: "Message",
  description: "Describe the problem",
  priority: "Priority",
  topics: "Topics",
  optional: "(optional)",
  low: "Low",
  medium: "Medium",
  high: "High",
  urgent: "Urgent",
  send: "Send message",
  subscribe: "Subscribe",
  createTicket: "Create ticket",
  sending: "Sending…",
  fix: "Please correct the marked fields.",
  failed: "Sending failed. Please check your connection and try again.",
  server: "Something went wrong on our side. Please try again in a moment.",
  tooMany: "Too many attempts. Please wait {s} seconds and try again.",
  retry: "Try again",
  contactDone: "Thank you! Your message has been sent.",
  contactDoneText: "We usually answer within one working day.",
  newsletterDone: "Almost done!",
  newsletterDoneText: "Please check your inbox and confirm your subscription.",
  ticketDone: "Ticket #{id} created",
  ticketDoneText: "We have emailed you a link to follow your ticket.",
  openTicket: "View your ticket",
  again: "Send another message",
  loading: "Loading form…",
};
type Strings = typeof EN;

const DE: Strings = {
  name: "Name",
  email: "E-Mail-Adresse",
  subject: "Betreff",
  message: "Nachricht",
  description: "Beschreiben Sie das Problem",
  priority: "Priorität",
  topics: "Themen",
  optional: "(optional)",
  low: "Niedrig",
  medium: "Mittel",
  high: "Hoch",
  urgent: "Dringend",
  send: "Nachricht senden",
  subscribe: "Abonnieren",
  createTicket: "Ticket erstellen",
  sending: "Wird gesendet…",
  fix: "Bitte korrigieren Sie die markierten Felder.",
  failed: "Senden fehlgeschlagen. Bitte prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
  server: "Bei uns ist etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal.",
  tooMany: "Zu viele Versuche. Bitte warten Sie {s} Sekunden und versuchen Sie es erneut.",
  retry: "Erneut versuchen",
  contactDone: "Danke! Ihre Nachricht wurde gesendet.",
  contactDoneText: "Wir antworten in der Regel innerhalb eines Werktags.",
  newsletterDone: "Fast geschafft!",
  newsletterDoneText: "Bitte bestätigen Sie das Abonnement über den Link in Ihrem Postfach.",
  ticketDone: "Ticket #{id} erstellt",
  ticketDoneText: "Wir haben Ihnen einen Link geschickt, unter dem Sie Ihr Ticket verfolgen können.",
  openTicket: "Ticket ansehen",
  again: "Weitere Nachricht senden",
  loading: "Formular wird geladen…",
};

const STRINGS: Record<Locale, Strings> = { en: EN, de: DE };

const KINDS: Record<string, Kind> = {
  "frontdesk-contact-form": "contact",
  "frontdesk-newsletter": "newsletter",
  "frontdesk-ticket-form": "ticket",
};

/** Where each kind posts. */
const ENDPOINT: Record<Kind, string> = {
  contact: "api/v1/contact",
  newsletter: "api/v1/newsletter/subscriptions",
  ticket: "api/v1/tickets",
};

/** Mounts the form for `el` (the loader calls this once per element). */
export function mount(el: HTMLElement, rt: Runtime): void {
  new InlineForm(el, rt).start();
}

class InlineForm {
  private readonly kind: Kind;
  private readonly t: Strings;
  private readonly root: ShadowRoot;
  private readonly box: HTMLDivElement;
  private cfg: FormConfig = {};
  private configuredAt = 0;
  private pow: Promise<PowSolution> | null = null;
  /** A fresh form token and puzzle on their way after a refusal spent the last ones. */
  private refreshing: Promise<void> | null = null;
  private form!: HTMLFormElement;
  private alert!: HTMLDivElement;
  private button!: HTMLButtonElement;
  private status!: HTMLParagraphElement;
  /** The Idempotency-Key of the current attempt; cleared when the visitor edits the form or it succeeds. */
  private attemptKey: string | null = null;
  private busy = false;

  constructor(private readonly el: HTMLElement, private readonly rt: Runtime) {
    this.kind = KINDS[el.localName] || "contact";
    const locale = rt.locale(el);
    this.t = STRINGS[locale];
    this.root = el.shadowRoot || el.attachShadow({ mode: "open" });
    adopt(this.root, BASE_CSS);
    this.box = h("div", { class: "fd", "data-theme": rt.theme(el), lang: locale, part: "container" });
    this.root.replaceChildren(this.box);
  }

  /** The form id for the configuration: `form="…"` on a contact form, else the kind. */
  private get formId(): string {
    return (this.kind == "contact" && this.el.getAttribute("form")) || this.kind;
  }

  async start(): Promise<void> {
    this.box.replaceChildren(h("p", { class: "note", role: "status" }, this.t.loading));
    await this.loadConfig();
    this.render();
  }

  private async loadConfig(): Promise<void> {
    try {
      this.cfg = await request<FormConfig>(this.rt, "api/v1/forms/" + encodeURIComponent(this.formId));
    } catch {
      // Without a configuration the form still works with its built-in fields; the server's
      // answer to the submit says what is missing.
      this.cfg = {};
    }
    this.configuredAt = Date.now();
    this.pow = this.cfg.proofOfWork ? solve(this.cfg.proofOfWork) : null;
    this.pow?.catch(() => undefined); // an unsolvable challenge surfaces at submit time
  }

  private render(): void {
    const t = this.t;
    const kind = this.kind;
    const fields: Node[] = [];
    if (kind == "contact") {
      fields.push(
        this.input("name", t.name, { required: true, autocomplete: "name", maxlength: 200 }),
        this.input("email", t.email, { type: "email", required: true, autocomplete: "email", maxlength: 254 }),
        this.input("subject", t.subject, { maxlength: 200 }),
        ...(this.cfg.fields || []).map((f) => this.configured(f)),
        this.input("message", t.message, { required: true, textarea: true, maxlength: 10000 }),
      );
    } else if (kind == "newsletter") {
      fields.push(this.input("email", t.email, { type: "email", required: true, autocomplete: "email", maxlength: 254 }));
      if (this.el.hasAttribute("ask-name")) fields.push(this.input("name", t.name, { autocomplete: "name", maxlength: 200 }));
      const topics = this.cfg.topics || [];
      if (topics.length) {
        fields.push(
          h("fieldset", { class: "f", "aria-describedby": "e-topics" },
            h("legend", null, t.topics),
            ...topics.map((tp) => h("label", { class: "chk" }, h("input", { type: "checkbox", name: "topics", value: tp.id, checked: true }), tp.label)),
            h("p", { class: "err", id: "e-topics", hidden: true }),
          ),
        );
      }
      if (this.cfg.consentText) fields.push(h("p", { class: "note", id: "consent" }, this.cfg.consentText));
    } else {
      const priority = h("select", { class: "in", id: "i-priority", name: "priority" },
        ...(["low", "medium", "high", "urgent"] as const).map((p) => h("option", { value: p, selected: p == "medium" }, t[p])));
      fields.push(
        this.input("name", t.name, { autocomplete: "name", maxlength: 200 }),
        this.input("email", t.email, { type: "email", required: true, autocomplete: "email", maxlength: 254 }),
        this.input("subject", t.subject, { required: true, maxlength: 200 }),
        this.wrap("priority", t.priority, priority, false),
        this.input("description", t.description, { required: true, textarea: true, maxlength: 10000 }),
      );
    }
    const honeypot = this.cfg.honeypotField || "website";
    this.alert = h("div", { class: "alert", role: "alert", tabindex: -1, hidden: true });
    this.status = h("p", { class: "sr", role: "status" });
    const label = kind == "contact" ? t.send : kind == "newsletter" ? t.subscribe : t.createTicket;
    this.button = h("button", { class: "btn", type: "submit", "aria-describedby": this.cfg.consentText ? "consent" : null }, label);
    this.form = h("form", { novalidate: true, onsubmit: (e: Event) => this.submit(e), oninput: () => (this.attemptKey = null) },
      this.alert,
      // Bots fill every field they find; people never see this one.
      h("div", { class: "hp", "aria-hidden": "true" },
        h("label", { for: "i-hp" }, "Leave this field empty"),
        h("input", { id: "i-hp", name: honeypot, type: "text", tabindex: -1, autocomplete: "off" })),
      ...fields,
      h("div", { class: "row" }, this.button),
      this.status,
    );
    this.box.replaceChildren(this.form);
  }

  private input(name: string, label: string, o: { type?: string; required?: boolean; autocomplete?: string; maxlength?: number; textarea?: boolean }): HTMLElement {
    const attrs = {
      class: "in",
      id: "i-" + name,
      name,
      type: o.textarea ? null : o.type || "text",
      required: !!o.required,
      "aria-required": o.required ? "true" : null,
      autocomplete: o.autocomplete || null,
      maxlength: o.maxlength || null,
      rows: o.textarea ? 5 : null,
    };
    return this.wrap(name, label, o.textarea ? h("textarea", attrs) : h("input", attrs), !o.required);
  }

  private wrap(name: string, label: string, control: HTMLElement, optional: boolean): HTMLElement {
    control.setAttribute("aria-describedby", "e-" + name);
    return h("div", { class: "f" },
      h("label", { for: control.id }, label, optional ? h("span", { class: "opt" }, " " + this.t.optional) : null),
      control,
      h("p", { class: "err", id: "e-" + name, hidden: true }));
  }

  /** An extra field from the server's configuration, posted in `fields` (errors keyed `fields.<name>`). */
  private configured(f: FieldConfig): HTMLElement {
    const name = "fields." + f.name;
    if (f.type == "checkbox") {
      const box = h("input", { type: "checkbox", id: "i-" + name, name, value: "true", required: !!f.required, "aria-describedby": "e-" + name });
      return h("div", { class: "f" }, h("label", { class: "chk" }, box, f.label), h("p", { class: "err", id: "e-" + name, hidden: true }));
    }
    if (f.type == "select") {
      const select = h("select", { class: "in", id: "i-" + name, name, required: !!f.required, "aria-required": f.required ? "true" : null },
        h("option", { value: "" }, "—"),
        ...(f.options || []).map((o) => (typeof o == "string" ? h("option", { value: o }, o) : h("option", { value: o.value }, o.label))));
      return this.wrap(name, f.label, select, !f.required);
    }
    const types: Record<string, string> = { email: "email", tel: "tel", url: "url", number: "number" };
    return this.input(name, f.label, {
      type: types[f.type] || "text",
      required: f.required,
      maxlength: f.maxLength || undefined,
      textarea: f.type == "textarea",
    });
  }

  /** The JSON body, with the API's field names. */
  private body(): Record<string, unknown> {
    const data = new FormData(this.form);
    const body: Record<string, unknown> = {};
    const extra: Record<string, string> = {};
    for (const [key, value] of data) {
      if (typeof value != "string" || key == "topics") continue;
      if (key.startsWith("fields.")) {
        if (value !== "") extra[key.slice(7)] = value;
      } else if (value !== "" || key == (this.cfg.honeypotField || "website")) {
        body[key] = value;
      }
    }
    if (this.kind == "contact") {
      if (Object.keys(extra).length) body.fields = extra;
      if (this.formId != "contact") body.form = this.formId;
      body.pageUrl = location.href.slice(0, 2048);
    }
    if (this.kind == "newsletter" && this.cfg.topics?.length) body.topics = data.getAll("topics");
    if (this.cfg.formToken) body.formToken = this.cfg.formToken;
    return body;
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    this.setBusy(true);
    this.clearErrors();
    try {
      const result = await this.send();
      this.attemptKey = null;
      this.rt.emit("submit", { form: this.formId, kind: this.kind, result });
      this.done(result);
    } catch (err) {
      this.failed(err);
    } finally {
      this.setBusy(false);
    }
  }

  /**
   * Posts the form. When only the spam defences refused it (a used or expired puzzle, a stale or
   * too young form token) nothing was stored, so it fetches fresh ones and tries once more
   * instead of showing the visitor an error they can do nothing about.
   */
  private async send(retried = false): Promise<Record<string, unknown>> {
    if (this.refreshing) await this.refreshing;
    const key = (this.attemptKey ||= randomKey());
    const body = this.body();
    // The server refuses a form sent sooner than minFillSeconds after it was served; wait
    // out the rest rather than make a fast typist (or an autofill) see an error.
    const wait = (this.cfg.minFillSeconds || 0) * 1000 + 250 - (Date.now() - this.configuredAt);
    if (wait > 0) await delay(wait);
    if (this.pow) body.proofOfWork = await this.pow.catch(() => undefined);
    try {
      return await request<Record<string, unknown>>(this.rt, ENDPOINT[this.kind], { body, headers: { "Idempotency-Key": key } });
    } catch (err) {
      const guardOnly = err instanceof ApiError && err.status == 422 &&
        Object.keys(err.details).every((k) => k == "formToken" || k == "proofOfWork") && Object.keys(err.details).length > 0;
      if (retried || !guardOnly) {
        // Refused for its fields: the token and the puzzle were spent (each is good for one post),
        // so fresh ones are fetched while the visitor corrects the form.
        if (err instanceof ApiError && err.status == 422) this.refresh();
        else if (err instanceof ApiError && err.status > 0 && this.cfg.proofOfWork) this.newChallenge();
        throw err;
      }
      // A puzzle is good for one post that reached the server, whatever the answer.
      if (this.cfg.proofOfWork) this.newChallenge();
      this.attemptKey = null; // nothing was stored: the next post is a new attempt
      if ((err as ApiError).details.formToken && (err as ApiError).code != "submitted_too_fast") await this.loadConfig();
      return this.send(true);
    }
  }

  /**
   * Fetches a fresh form token and puzzle in the background, keeping the rest of the
   * configuration (the rendered fields and topics); the next submit waits for them.
   */
  private refresh(): void {
    this.refreshing = request<FormConfig>(this.rt, "api/v1/forms/" + encodeURIComponent(this.formId)).then((c) => {
      this.cfg.formToken = c.formToken || null;
      this.cfg.proofOfWork = c.proofOfWork || null;
      this.configuredAt = Date.now();
      this.pow = c.proofOfWork ? solve(c.proofOfWork) : null;
      this.pow?.catch(() => undefined);
    }, () => undefined).finally(() => {
      this.refreshing = null;
    });
  }

  /** Fetches a fresh proof-of-work puzzle (keeping the form token) and starts solving it. */
  private newChallenge(): void {
    this.pow = request<FormConfig>(this.rt, "api/v1/forms/" + encodeURIComponent(this.formId)).then((c) => {
      this.cfg.proofOfWork = c.proofOfWork || null;
      if (!c.proofOfWork) throw new Error("no proof of work asked");
      return solve(c.proofOfWork);
    });
    this.pow.catch(() => undefined);
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    if (!this.button.isConnected) return;
    this.button.setAttribute("aria-busy", String(busy));
    this.button.disabled = busy;
    this.status.textContent = busy ? this.t.sending : "";
  }

  private clearErrors(): void {
    this.alert.hidden = true;
    this.alert.replaceChildren();
    for (const p of this.form.querySelectorAll<HTMLElement>(".err")) {
      p.hidden = true;
      p.textContent = "";
    }
    for (const i of this.form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
  }

  private failed(err: unknown): void {
    const t = this.t;
    const e = err instanceof ApiError ? err : new ApiError(0, "client", String(err));
    if (e.status == 422) {
      this.attemptKey = null;
      let first: HTMLElement | null = null;
      const formLevel: string[] = [];
      for (const [field, reason] of Object.entries(e.details)) {
        const p = this.form.querySelector<HTMLElement>(`[id="e-${CSS.escape(field)}"]`);
        if (!p) {
          formLevel.push(reason);
          continue;
        }
        p.textContent = this.reason(field, reason);
        p.hidden = false;
        const control = this.form.querySelector<HTMLElement>(`[id="i-${CSS.escape(field)}"]`) ||
          this.form.querySelector<HTMLElement>(`[name="${CSS.escape(field)}"]`);
        control?.setAttribute("aria-invalid", "true");
        first ||= control;
      }
      this.showAlert(first ? [t.fix, ...formLevel] : formLevel.length ? formLevel : [e.message]);
      (first || this.alert).focus();
      return;
    }
    const message = e.status == 429 ? t.tooMany.replace("{s}", String(e.retryAfter || 60))
      : e.status >= 500 ? t.server
      : e.status == 0 ? t.failed
      : e.message;
    this.showAlert([message], e.status == 0 || e.status >= 500 || e.status == 429);
    this.alert.focus();
  }

  /** The server's reason as a sentence: "is required" → "Email address is required." */
  private reason(field: string, reason: string): string {
    if (this.t == STRINGS.de) return reason == "is required" ? "Bitte füllen Sie dieses Feld aus." : reason;
    const label = this.form.querySelector(`label[for="i-${CSS.escape(field)}"]`)?.firstChild?.textContent?.trim();
    return label && /^(is|must|should|has)\b/.test(reason) ? `${label} ${reason.replace(/\.?$/, ".")}` : reason;
  }

  private showAlert(lines: string[], retry = false): void {
    this.alert.replaceChildren(...lines.map((l) => h("p", null, l)));
    if (retry) {
      // Same attempt, same Idempotency-Key: the server answers a repeat with the first result.
      this.alert.append(h("button", { class: "btn ghost", type: "submit" }, this.t.retry));
    }
    this.alert.hidden = false;
  }

  private done(result: Record<string, unknown>): void {
    const t = this.t;
    let title = t.contactDone;
    let text = t.contactDoneText;
    let link: HTMLElement | null = null;
    if (this.kind == "newsletter") {
      title = t.newsletterDone;
      text = t.newsletterDoneText;
    } else if (this.kind == "ticket") {
      title = t.ticketDone.replace("{id}", String(result.id));
      text = t.ticketDoneText;
      if (result.accessToken) {
        const href = `${this.rt.base}ticket?id=${encodeURIComponent(String(result.id))}#token=${encodeURIComponent(String(result.accessToken))}`;
        link = h("a", { href, class: "btn ghost" }, t.openTicket);
      }
    }
    const again = h("button", { class: "btn ghost", type: "button", onclick: () => this.start() }, t.again);
    const panel = h("div", { class: "done", role: "status", tabindex: -1 },
      h("h3", null, title), h("p", null, text), h("div", { class: "row" }, link, this.kind == "newsletter" ? null : again));
    this.box.replaceChildren(panel);
    panel.focus();
  }
}
