/**
 * `<frontdesk-ticket>`: the customer's view of a ticket, reached from the magic link in their
 * mail (`/ticket?id=7#token=…`). Shows the thread (agents' public replies; internal notes never
 * reach this API) and a reply box. The id and token come from the `ticket-id` and `token`
 * attributes, else from the page address; the token stays in the fragment, which browsers never
 * send to a server or in a Referer.
 */

import { ApiError, request } from "./lib/api";
import { adopt, formatTime, h, randomKey } from "./lib/dom";
import { BASE_CSS } from "./lib/styles";
import type { ConsentCategory, Locale, Runtime } from "./lib/types";

/** Shown only to the customer the link belongs to, on their request. */
export const consent: ConsentCategory = "necessary";
export const elements = ["frontdesk-ticket"];

interface TicketMessage {
  id: number;
  author: "customer" | "agent" | "system";
  authorName?: string | null;
  body: string;
  createdAt: string;
}

interface Ticket {
  id: number;
  subject: string;
  description: string;
  status: string;
  priority: string;
  createdAt: string;
  updatedAt: string;
  messages: TicketMessage[];
}

const EN = {
  title: "Ticket #{id}",
  status: "Status",
  priority: "Priority",
  open: "Open",
  "in-progress": "In progress",
  resolved: "Resolved",
  closed: "Closed",
  low: "Low",
  medium: "Medium",
  high: "High",
  urgent: "Urgent",
  you: "You",
  agent: "Support team",
  system: "Frontdesk",
  thread: "Conversation",
  reply: "Your reply",
  send: "Send reply",
  sending: "Sending…",
  sent: "Your reply was sent.",
  reopen: "Replying reopens this ticket.",
  loading: "Loading your ticket…",
  notFound: "We could not find this ticket. The link may be incomplete — please open it again from your email.",
  failed: "Something went wrong. Please try again.",
  retry: "Try again",
};
type Strings = typeof EN;
const DE: Strings = {
  title: "Ticket #{id}",
  status: "Status",
  priority: "Priorität",
  open: "Offen",
  "in-progress": "In Bearbeitung",
  resolved: "Gelöst",
  closed: "Geschlossen",
  low: "Niedrig",
  medium: "Mittel",
  high: "Hoch",
  urgent: "Dringend",
  you: "Sie",
  agent: "Support-Team",
  system: "Frontdesk",
  thread: "Verlauf",
  reply: "Ihre Antwort",
  send: "Antwort senden",
  sending: "Wird gesendet…",
  sent: "Ihre Antwort wurde gesendet.",
  reopen: "Mit einer Antwort wird dieses Ticket wieder geöffnet.",
  loading: "Ihr Ticket wird geladen…",
  notFound: "Wir konnten dieses Ticket nicht finden. Der Link ist vielleicht unvollständig — bitte öffnen Sie ihn erneut aus Ihrer E-Mail.",
  failed: "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
  retry: "Erneut versuchen",
};
const STRINGS: Record<Locale, Strings> = { en: EN, de: DE };

const CSS_TEXT = BASE_CSS + `
.tk{max-width:720px}
.tk header{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:baseline;margin:0 0 16px}
.tk h2{font-size:22px;flex:1 1 100%}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;background:var(--sf);font-size:13px;font-weight:600}
.thread{list-style:none;margin:0 0 20px;padding:0;display:flex;flex-direction:column;gap:12px}
.msg{padding:12px 14px;border:1px solid var(--ln);border-radius:var(--r);background:var(--bg)}
.msg.agent{border-left:4px solid var(--a)}
.msg.system{border-style:dashed;color:var(--mu)}
.meta{display:flex;gap:8px;flex-wrap:wrap;font-size:13px;color:var(--mu);margin:0 0 6px}
.meta strong{color:var(--fg)}
.body{white-space:pre-wrap;overflow-wrap:anywhere}
`;

/** Mounts the ticket view into `el`'s shadow root. */
export function mount(el: HTMLElement, rt: Runtime): void {
  const locale = rt.locale(el);
  const t = STRINGS[locale];
  const root = el.shadowRoot || el.attachShadow({ mode: "open" });
  adopt(root, CSS_TEXT);
  const box = h("div", { class: "fd tk", "data-theme": rt.theme(el), lang: locale });
  const live = h("p", { class: "sr", role: "status", "aria-live": "polite" });
  root.replaceChildren(box, live);

  const params = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.slice(1));
  const id = el.getAttribute("ticket-id") || params.get("id") || "";
  const token = el.getAttribute("token") || hash.get("token") || "";
  const auth = { Authorization: "Bearer " + token };
  const path = "api/v1/tickets/" + encodeURIComponent(id);
  let key: string | null = null;

  const label = (s: string) => (t as Record<string, string>)[s] || s;

  const message = (m: { author: string; authorName?: string | null; body: string; createdAt: string }) =>
    h("li", { class: "msg " + m.author },
      h("p", { class: "meta" },
        h("strong", null, m.author == "customer" ? t.you : m.author == "agent" ? m.authorName || t.agent : t.system),
        h("time", { datetime: m.createdAt }, formatTime(m.createdAt, locale))),
      h("div", { class: "body" }, m.body));

  const show = (ticket: Ticket) => {
    const thread = h("ol", { class: "thread", "aria-label": t.thread },
      message({ author: "customer", body: ticket.description, createdAt: ticket.createdAt }),
      ...ticket.messages.map(message));
    const err = h("p", { class: "err", id: "e-body", hidden: true });
    const text = h("textarea", { class: "in", id: "i-body", name: "body", rows: 5, required: true, "aria-required": "true", "aria-describedby": "e-body n-body", oninput: () => (key = null) });
    const button = h("button", { class: "btn", type: "submit" }, t.send);
    const closed = ticket.status == "resolved" || ticket.status == "closed";
    const form = h("form", { novalidate: true },
      h("div", { class: "f" }, h("label", { for: "i-body" }, t.reply), text, err,
        h("p", { class: "note", id: "n-body", hidden: !closed }, t.reopen)),
      h("div", { class: "row" }, button));
    form.onsubmit = async (e) => {
      e.preventDefault();
      if (button.disabled) return;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      live.textContent = t.sending;
      err.hidden = true;
      text.removeAttribute("aria-invalid");
      try {
        await request(rt, path + "/messages", { body: { body: text.value }, headers: { ...auth, "Idempotency-Key": (key ||= randomKey()) } });
        key = null;
        text.value = "";
        await load();
        live.textContent = t.sent;
        box.querySelector<HTMLTextAreaElement>("#i-body")?.focus();
      } catch (x) {
        const e2 = x instanceof ApiError ? x : new ApiError(0, "client", String(x));
        err.textContent = e2.details.body || (e2.status == 422 ? e2.message : t.failed);
        err.hidden = false;
        text.setAttribute("aria-invalid", "true");
        text.focus();
        live.textContent = "";
      } finally {
        button.disabled = false;
        button.setAttribute("aria-busy", "false");
      }
    };
    box.replaceChildren(
      h("header", null,
        h("h2", null, t.title.replace("{id}", String(ticket.id)) + " — " + ticket.subject),
        h("span", null, t.status + ": ", h("span", { class: "badge" }, label(ticket.status))),
        h("span", null, t.priority + ": ", h("span", { class: "badge" }, label(ticket.priority)))),
      thread,
      form);
  };

  const load = async () => {
    try {
      show(await request<Ticket>(rt, path, { headers: auth }));
    } catch (x) {
      const e = x instanceof ApiError ? x : new ApiError(0, "client", String(x));
      const retry = h("button", { class: "btn ghost", type: "button", onclick: () => load() }, t.retry);
      box.replaceChildren(h("div", { class: "alert", role: "alert" }, h("p", null, e.status == 404 || !token ? t.notFound : t.failed), e.status == 404 ? null : retry));
    }
  };

  box.replaceChildren(h("p", { class: "note", role: "status" }, t.loading));
  if (!id || !token) {
    box.replaceChildren(h("div", { class: "alert", role: "alert" }, h("p", null, t.notFound)));
    return;
  }
  load();
}
