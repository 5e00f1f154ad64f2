/**
 * The chat module behind `<frontdesk-chat>`: the panel the bubble opens, talking to Frontdesk
 * over one WebSocket (`/api/v1/ws`, protocol version 1 — see the chat protocol document).
 *
 * - Messages are ordered and de-duplicated by server id; a message typed offline or during a
 *   reconnect is shown as "sending" and re-sent with the same `clientMessageId` until acked, so
 *   the server stores it once.
 * - After a reconnect the module sends `resume` with the last id it has and applies the receipts
 *   it gets back, so ticks catch up and nothing shows twice.
 * - Receipts: `delivered` as soon as an agent's message arrives, `read` only while the panel is
 *   open in a visible, focused tab.
 * - Accessibility: the panel is a modal dialog (focus moves in, is trapped, and returns to where
 *   it was on close; Escape closes); the message list is a `log` live region.
 */

import { BUBBLE_CSS } from "./lib/bubble";
import { request } from "./lib/api";
import { adopt, h, randomKey } from "./lib/dom";
import { solve, type PowChallenge } from "./lib/pow";
import { BASE_CSS } from "./lib/styles";
import type { ChatController, ConsentCategory, Locale, Runtime } from "./lib/types";

/** Keeps a visitor id in localStorage so a conversation survives page loads: functional. */
export const consent: ConsentCategory = "functional";

type Status = "sending" | "failed" | "sent" | "delivered" | "read";

interface Message {
  id: number;
  conversationId: number;
  clientMessageId: string | null;
  sender: "visitor" | "agent" | "system";
  senderName: string | null;
  text: string;
  systemEvent: string | null;
  status: Status;
  createdAt: string;
}

interface Conversation {
  id: number;
  status: "open" | "assigned" | "closed";
  offline: boolean;
  ticketId: number | null;
  assignee: { id: number; name: string } | null;
}

interface Availability {
  available: boolean;
  reason: string | null;
}

interface Frame {
  v?: number;
  type: string;
  ref?: string;
  data: any;
}

const EN = {
  open: "Open chat",
  openUnread: "Open chat, {n} unread",
  close: "Close chat",
  title: "Chat with us",
  online: "We're online and reply in minutes.",
  away: "We're away right now. Leave a message and your email, and we'll answer by mail.",
  awayShort: "We're away right now and answer by email.",
  messages: "Messages",
  message: "Message",
  placeholder: "Write a message…",
  send: "Send",
  you: "You",
  agent: "Support",
  sending: "Sending…",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
  failed: "Not sent.",
  retry: "Retry",
  typing: "{name} is typing…",
  someone: "Someone",
  reconnecting: "Connection lost. Reconnecting…",
  unavailable: "The chat is unavailable right now.",
  empty: "Hi! How can we help you today?",
  email: "Email address",
  name: "Name (optional)",
  leaveEmail: "Get the answer by email",
  leaveEmailSend: "Send",
  ticketed: "Thanks! We'll answer {email} by mail (ticket #{id}).",
  transcript: "Email transcript",
  transcriptSend: "Send transcript",
  transcriptQueued: "The transcript is on its way to {email}.",
  closed: "This conversation has ended. Write to start a new one.",
  error: "That did not work: {msg}",
};
type Strings = typeof EN;
const DE: Strings = {
  open: "Chat öffnen",
  openUnread: "Chat öffnen, {n} ungelesen",
  close: "Chat schließen",
  title: "Schreiben Sie uns",
  online: "Wir sind online und antworten in wenigen Minuten.",
  away: "Gerade ist niemand da. Hinterlassen Sie eine Nachricht und Ihre E-Mail-Adresse, wir antworten per Mail.",
  awayShort: "Gerade ist niemand da – wir antworten per E-Mail.",
  messages: "Nachrichten",
  message: "Nachricht",
  placeholder: "Nachricht schreiben…",
  send: "Senden",
  you: "Sie",
  agent: "Support",
  sending: "Wird gesendet…",
  sent: "Gesendet",
  delivered: "Zugestellt",
  read: "Gelesen",
  failed: "Nicht gesendet.",
  retry: "Erneut senden",
  typing: "{name} schreibt…",
  someone: "Jemand",
  reconnecting: "Verbindung unterbrochen. Neuer Versuch…",
  unavailable: "Der Chat ist gerade nicht verfügbar.",
  empty: "Hallo! Wie können wir helfen?",
  email: "E-Mail-Adresse",
  name: "Name (optional)",
  leaveEmail: "Antwort per E-Mail erhalten",
  leaveEmailSend: "Senden",
  ticketed: "Danke! Wir antworten an {email} per Mail (Ticket #{id}).",
  transcript: "Verlauf per E-Mail",
  transcriptSend: "Verlauf senden",
  transcriptQueued: "Der Verlauf ist unterwegs an {email}.",
  closed: "Dieses Gespräch ist beendet. Schreiben Sie, um ein neues zu beginnen.",
  error: "Das hat nicht geklappt: {msg}",
};
const STRINGS: Record<Locale, Strings> = { en: EN, de: DE };

const CSS_TEXT = BUBBLE_CSS + BASE_CSS + `
:host{display:block!important}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b42318;color:#fff;font:700 12px/22px system-ui,sans-serif;text-align:center}
.panel{position:fixed;right:20px;bottom:88px;z-index:2147483001;width:370px;max-width:calc(100vw - 40px);height:min(600px,calc(100vh - 120px));display:flex;flex-direction:column;
background:var(--bg);border-radius:var(--r);box-shadow:0 12px 40px rgba(0,0,0,.3);overflow:hidden;transition:opacity .18s,transform .18s}
.panel[hidden]{display:none!important}
.panel.enter{opacity:0;transform:translateY(12px)}
.head{display:flex;gap:8px;align-items:flex-start;padding:14px 14px 12px 16px;background:var(--a);color:var(--oa)}
.head div{flex:1}
.head h2{font-size:16px}
.head p{font-size:13px;margin-top:2px}
.icon{all:unset;display:inline-flex;align-items:center;justify-content:center;min-width:36px;height:36px;border-radius:8px;cursor:pointer;font-size:13px;padding:0 6px;color:inherit}
.icon:hover{background:rgba(255,255,255,.15)}
.icon:focus-visible{outline:3px solid var(--oa);outline-offset:-3px}
.icon svg{width:20px;height:20px;fill:currentColor}
.log{flex:1;overflow-y:auto;list-style:none;margin:0;padding:14px;display:flex;flex-direction:column;gap:8px;overscroll-behavior:contain}
.m{max-width:85%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}
.m.visitor{align-self:flex-end;background:var(--a);color:var(--oa);border-bottom-right-radius:4px}
.m.agent{align-self:flex-start;background:var(--sf);border-bottom-left-radius:4px}
.m.system,.m.hint{align-self:center;text-align:center;color:var(--mu);font-size:13px;background:none;max-width:95%}
.who{display:block;font-size:12px;font-weight:600;color:var(--mu)}
.st{display:block;text-align:right;font-size:11px;opacity:.9;margin-top:2px}
.st button{all:unset;text-decoration:underline;cursor:pointer;margin-left:4px}
.st button:focus-visible{outline:2px solid currentColor}
.typing{min-height:20px;padding:0 16px;font-size:13px;color:var(--mu)}
.conn{padding:6px 16px;font-size:13px;background:var(--sf);color:var(--fg)}
.box{padding:12px 16px;border-top:1px solid var(--sf)}
.box .f{margin-bottom:8px}
.box .in{min-height:40px}
.faq{padding:0 12px}.faq-q{display:block;width:100%;text-align:left;border:0;background:var(--sf);border-radius:8px;padding:6px 8px;margin-top:6px;cursor:pointer}.faq-a{font-size:14px;margin:4px 8px}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid var(--sf)}
.composer textarea{flex:1;min-height:44px;max-height:140px;resize:none}
.composer .btn{padding:10px 14px}
@media (max-width:480px){.panel{inset:0;width:auto;max-width:none;height:auto;border-radius:0;bottom:0;right:0}}
`;

const CLOSE_ICON = `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z"/></svg>`;
const RANK: Record<Status, number> = { failed: 0, sending: 0, sent: 1, delivered: 2, read: 3 };
/**
 * The page address as the chat may send it: no #fragment (it can carry tokens), no user info,
 * and of the query only parameters matching `allowed` (names or `prefix*`; the server's
 * `chat.page_url_query_params`, remembered from the last welcome, `utm_*` before that). The
 * server applies its own list again whatever arrives.
 */
export function pageUrl(href: string, allowed: string[]): string {
  let url: URL;
  try { url = new URL(href); } catch { return ""; }
  url.hash = "";
  url.username = url.password = "";
  const keep = (name: string) => allowed.some((p) => p == "*" || (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name == p));
  for (const name of [...new Set(url.searchParams.keys())]) if (!keep(name)) url.searchParams.delete(name);
  return url.href.slice(0, 2000);
}

const store = {
  get: (k: string) => {
    try {
      return localStorage.getItem("frontdesk:" + k);
    } catch {
      return null;
    }
  },
  set: (k: string, v: string | null) => {
    try {
      v == null ? localStorage.removeItem("frontdesk:" + k) : localStorage.setItem("frontdesk:" + k, v);
    } catch {
      // storage blocked: the chat still works for this page view
    }
  },
};

/** Mounts the chat into `el` (whose shadow root already holds the loader's bubble). */
export function mount(el: HTMLElement, rt: Runtime): ChatController {
  return new Chat(el, rt);
}

class Chat implements ChatController {
  private readonly t: Strings;
  private readonly locale: Locale;
  private readonly root: ShadowRoot;
  private readonly bubble: HTMLButtonElement;
  private readonly badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
  private readonly panel: HTMLDivElement;
  private readonly status = h("p");
  // A plain list that announces what is added (aria-live): role="log" on the <ol> would take
  // away its list semantics, leaving every message an <li> outside a list (axe: listitem).
  private readonly log = h("ol", { class: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: 0 });
  private readonly typing = h("p", { class: "typing", "aria-live": "polite" });
  private readonly conn = h("p", { class: "conn", role: "status", hidden: true });
  private readonly extra = h("div", { class: "box", hidden: true });
  /** FAQ entries matching the first message while it is typed (chat deflection). */
  private readonly faq = h("div", { class: "faq", "aria-live": "polite" });
  private faqTimer = 0;
  /** FAQ entries opened from the suggestions; counted as deflections unless a message follows. */
  private faqOpened = new Set<number>();
  private readonly text: HTMLTextAreaElement;
  private readonly transcriptButton: HTMLButtonElement;

  private ws: WebSocket | null = null;
  private connected = false;
  private everConnected = false;
  private readonly nodes = new Map<string, HTMLElement>();
  private retries = 0;
  private retryTimer = 0;
  private fatal = false;
  private refs = 0;
  private visitorId = store.get("visitor");
  private conversation: Conversation | null = null;
  /** Unknown until the server's welcome. */
  private availability: Availability | null = null;
  private typingInterval = 2000;
  private lastTypingSent = 0;
  private typingTimer = 0;
  /** Messages by server id; pending sends by clientMessageId until their ack. */
  private readonly messages = new Map<number, Message>();
  private readonly pending = new Map<string, Message>();
  private readonly sendRefs = new Map<string, string>();
  private deliveredSent = 0;
  private readSent = 0;
  private lastRead = Number(store.get("read")) || 0;
  /** The e-mail `identify.ok` confirmed on this socket: the only address a transcript may go to. */
  private verifiedEmail: string | null = null;
  private isOpen = false;
  private returnFocus: HTMLElement | null = null;

  constructor(private readonly el: HTMLElement, private readonly rt: Runtime) {
    this.locale = rt.locale(el);
    this.t = STRINGS[this.locale];
    const t = this.t;
    this.root = el.shadowRoot || el.attachShadow({ mode: "open" });
    adopt(this.root, CSS_TEXT);
    this.bubble = (this.root.querySelector("button.bubble") as HTMLButtonElement) || h("button", { class: "bubble", type: "button" });
    this.bubble.onclick = () => this.toggle();
    this.bubble.setAttribute("aria-controls", "fd-panel");
    this.bubble.setAttribute("aria-haspopup", "dialog");
    this.bubble.append(this.badge);

    // Named by aria-label: a visually hidden <label for> inside the shadow root is taken for a
    // hidden label by axe-core (label, critical), and the placeholder is no name.
    this.text = h("textarea", { class: "in", id: "fd-text", name: "text", rows: 1, placeholder: t.placeholder, maxlength: 4096, autocomplete: "off",
      "aria-label": t.message });
    this.text.addEventListener("keydown", (e) => {
      if (e.key == "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.text.addEventListener("input", () => (this.typed(), this.suggestFAQ()));
    window.addEventListener("pagehide", () => this.countDeflections());
    this.transcriptButton = h("button", { class: "icon", type: "button", onclick: () => this.showTranscriptForm() }, t.transcript);
    this.transcriptButton.hidden = true;
    const close = h("button", { class: "icon", type: "button", "aria-label": t.close, onclick: () => this.close() });
    close.innerHTML = CLOSE_ICON;
    this.panel = h("div", { class: "fd panel", id: "fd-panel", role: "dialog", "aria-modal": "true", "aria-labelledby": "fd-title", "aria-describedby": "fd-status", "data-theme": rt.theme(el), lang: this.locale, hidden: true },
      h("div", { class: "head" }, h("div", null, h("h2", { id: "fd-title" }, t.title), this.status), this.transcriptButton, close),
      this.conn,
      this.log,
      this.typing,
      this.faq,
      this.extra,
      h("form", { class: "composer", onsubmit: (e: Event) => (e.preventDefault(), this.submit()) },
        this.text,
        h("button", { class: "btn", type: "submit" }, t.send)));
    this.status.id = "fd-status";
    this.panel.addEventListener("keydown", (e) => this.trap(e));
    this.root.append(this.bubble, this.panel);
    this.log.setAttribute("aria-label", t.messages);
    this.renderStatus();
    this.renderMessages();

    const refresh = () => this.sendReceipts();
    document.addEventListener("visibilitychange", refresh);
    window.addEventListener("focus", refresh);
    window.addEventListener("online", () => this.reconnectNow());
    this.connect();
    // The visitor withdrew functional consent (the consent banner): stop at once, no reconnect.
    window.addEventListener("frontdesk:consent", (e) => {
      if ((e as CustomEvent).detail?.functional) return;
      this.fatal = true;
      clearTimeout(this.retryTimer);
      const ws = this.ws;
      this.ws = null;
      ws?.close(1000);
    });
  }

  // MARK: ChatController

  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    const active = document.activeElement as HTMLElement | null;
    this.returnFocus = !active || active == document.body || active == this.el ? this.bubble : active;
    this.panel.hidden = false;
    this.panel.classList.add("enter");
    requestAnimationFrame(() => this.panel.classList.remove("enter"));
    this.bubble.setAttribute("aria-expanded", "true");
    this.el.setAttribute("open", "");
    this.text.focus();
    this.scrollDown();
    this.sendReceipts();
    this.announceToggle();
  }

  close(): void {
    if (!this.isOpen) return;
    this.countDeflections();
    this.isOpen = false;
    this.panel.hidden = true;
    this.bubble.setAttribute("aria-expanded", "false");
    this.el.removeAttribute("open");
    const back = this.returnFocus && this.returnFocus.isConnected ? this.returnFocus : this.bubble;
    this.returnFocus = null;
    back.focus();
    this.announceToggle();
  }

  toggle(): void {
    this.isOpen ? this.close() : this.open();
  }

  identify(identity: Record<string, unknown>): void {
    if (this.connected) this.sendIdentity(identity);
  }

  private announceToggle(): void {
    this.rt.emit("toggle", this.isOpen);
    this.rt.emit(this.isOpen ? "open" : "close");
    this.el.dispatchEvent(new CustomEvent("toggle", { detail: { open: this.isOpen } }));
  }

  /** Tab and Shift+Tab cycle inside the open panel; Escape closes it. */
  private trap(e: KeyboardEvent): void {
    if (e.key == "Escape") {
      e.preventDefault();
      this.close();
      return;
    }
    if (e.key != "Tab") return;
    const items = Array.from(this.panel.querySelectorAll<HTMLElement>("button,textarea,input,select,a[href],[tabindex='0']"))
      .filter((x) => !(x as HTMLButtonElement).disabled && x.getClientRects().length > 0);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    const current = this.root.activeElement;
    if (e.shiftKey && (current == first || !this.panel.contains(current))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (current == last || !this.panel.contains(current))) {
      e.preventDefault();
      first.focus();
    }
  }

  // MARK: Socket

  private connect(): void {
    clearTimeout(this.retryTimer);
    if (this.fatal) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.rt.base.replace(/^http/, "ws") + "api/v1/ws");
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.send("hello", { visitorId: this.visitorId, pageUrl: pageUrl(location.href, (store.get("pq") || "utm_*").split(",")) });
    ws.onmessage = (e) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      this.handle(frame);
    };
    ws.onclose = (e) => {
      if (this.ws != ws) return;
      this.ws = null;
      this.connected = false;
      // 1008 (policy), 1003/1007/1009 (a client bug): reconnecting in a loop would not help.
      if ([1003, 1007, 1008, 1009].includes(e.code)) this.fatal = true;
      this.renderStatus();
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.fatal) return;
    const wait = Math.min(30000, 1000 * 2 ** this.retries) * (0.75 + Math.random() * 0.5);
    this.retries = Math.min(this.retries + 1, 5);
    this.retryTimer = window.setTimeout(() => this.connect(), wait);
  }

  private reconnectNow(): void {
    if (!this.ws && !this.fatal) {
      this.retries = 0;
      this.connect();
    }
  }

  private send(type: string, data: object, ref = "r" + ++this.refs): string {
    if (this.ws && this.ws.readyState == WebSocket.OPEN) this.ws.send(JSON.stringify({ v: 1, type, ref, data }));
    return ref;
  }

  private handle(f: Frame): void {
    const d = f.data || {};
    switch (f.type) {
      case "welcome":
        this.connected = this.everConnected = true;
        this.retries = 0;
        this.visitorId = d.visitorId;
        store.set("visitor", d.visitorId);
        this.availability = d.availability || this.availability;
        this.typingInterval = (d.limits && d.limits.typingIntervalMs) || 2000;
        if (Array.isArray(d.pageUrlQueryParams)) store.set("pq", d.pageUrlQueryParams.join(","));
        if (this.rt.identity) this.sendIdentity(this.rt.identity);
        this.adopt(d.conversation);
        this.renderStatus();
        break;
      case "identify.ok":
        // The identified id is not kept: identification is never resumed from storage (the next
        // person on this browser must not see a signed-out user's chat); identify follows every welcome.
        this.verifiedEmail = d.email || null;
        this.transcriptButton.hidden = !this.conversation || !this.verifiedEmail;
        if (d.conversation && d.conversation.id != this.conversation?.id) this.adopt(d.conversation);
        break;
      case "resume.done":
        // The replay comes 200 messages at a time: ask for the next page from the cursor.
        if (d.hasMore) {
          this.send("resume", { conversationId: d.conversationId, lastMessageId: d.lastMessageId });
          break;
        }
        this.setConversation(d.conversation);
        if (d.receipts) {
          this.tick("delivered", d.receipts.deliveredUpTo);
          this.tick("read", d.receipts.readUpTo);
        }
        this.flushPending();
        this.sendReceipts();
        break;
      case "chat.ack": {
        this.setConversation(d.conversation);
        this.pending.delete(d.clientMessageId);
        this.sendRefs.delete(d.clientMessageId);
        this.add(d.message);
        break;
      }
      case "chat.message":
        this.add(d.message);
        break;
      case "chat.status":
        for (const id of d.messageIds || []) this.setStatus(this.messages.get(id), d.status);
        if (d.upTo) this.tick(d.status, d.upTo);
        this.renderMessages();
        break;
      case "chat.typing":
        if (d.sender == "agent") this.showTyping(d.typing ? d.name || this.t.someone : null);
        break;
      case "conversation.updated":
        this.setConversation(d.conversation);
        break;
      case "presence.agent":
        if (d.availability) this.availability = d.availability;
        this.renderStatus();
        break;
      case "offline.ticket":
        this.extra.replaceChildren(h("p", { role: "status" }, this.t.ticketed.replace("{email}", d.email).replace("{id}", String(d.ticketId))));
        this.extra.hidden = false;
        break;
      case "transcript.queued":
        this.extra.replaceChildren(h("p", { role: "status" }, this.t.transcriptQueued.replace("{email}", d.email)));
        this.extra.hidden = false;
        break;
      case "error":
        this.failed(f.ref, d);
        break;
    }
  }

  private sendIdentity(identity: Record<string, unknown>): void {
    const { userId, email, name, hash } = identity as Record<string, string>;
    if (userId && hash) this.send("identify", { userId, email, name, hash });
  }

  /** Shows the conversation the server says is current and asks for what this tab lacks. */
  private adopt(conversation: Conversation | null): void {
    if (conversation && conversation.id != this.conversation?.id) {
      for (const [id, m] of this.messages) if (m.conversationId != conversation.id) this.messages.delete(id);
    }
    this.setConversation(conversation);
    if (conversation) {
      const ids = [...this.messages.keys()];
      this.send("resume", { conversationId: conversation.id, lastMessageId: ids.length ? Math.max(...ids) : 0 });
    } else {
      this.flushPending();
    }
    this.renderMessages();
  }

  private setConversation(c: Conversation | null | undefined): void {
    if (c === undefined) return;
    this.conversation = c;
    store.set("chat", c && c.status != "closed" ? String(c.id) : null);
    // Transcripts go only to the address of an identified visitor (the server checks it).
    this.transcriptButton.hidden = !c || !this.verifiedEmail;
    this.renderStatus();
  }

  /** Re-sends every message that has no ack yet, with its original clientMessageId. */
  private flushPending(): void {
    for (const m of this.pending.values()) if (m.status == "sending") this.sendMessage(m);
  }

  private sendMessage(m: Message): void {
    const open = this.conversation && this.conversation.status != "closed" ? this.conversation.id : null;
    const ref = this.send("chat.send", { conversationId: open, clientMessageId: m.clientMessageId, text: m.text });
    this.sendRefs.set(m.clientMessageId!, ref);
  }

  private submit(): void {
    const text = this.text.value.trim();
    if (!text) return;
    this.faqOpened.clear();
    this.faq.replaceChildren();
    const m: Message = {
      id: 0, conversationId: 0, clientMessageId: randomKey(), sender: "visitor", senderName: null, text,
      systemEvent: null, status: "sending", createdAt: new Date().toISOString(),
    };
    this.pending.set(m.clientMessageId!, m);
    this.text.value = "";
    this.sendTyping(false);
    if (this.connected) this.sendMessage(m);
    this.renderMessages();
    this.text.focus();
  }

  private add(m: Message): void {
    if (!m || typeof m.id != "number") return;
    if (m.clientMessageId) this.pending.delete(m.clientMessageId);
    const known = this.messages.get(m.id);
    if (known) {
      this.setStatus(known, m.status);
      this.renderMessages();
      return;
    }
    this.messages.set(m.id, m);
    if (m.sender == "agent") {
      this.showTyping(null);
      this.rt.emit("message", { text: m.text, senderName: m.senderName, id: m.id });
    }
    if (m.systemEvent == "offline") this.showOfflineForm();
    this.renderMessages();
    this.sendReceipts();
  }

  private setStatus(m: Message | undefined, status: Status): void {
    if (m && RANK[status] > RANK[m.status]) m.status = status;
  }

  /** Every own message up to `upTo` is at least `status`. */
  private tick(status: Status, upTo: number): void {
    for (const m of this.messages.values()) if (m.sender == "visitor" && m.id <= upTo) this.setStatus(m, status);
    this.renderMessages();
  }

  /** `delivered` for every agent message this tab has; `read` while a person can see them. */
  private sendReceipts(): void {
    const c = this.conversation;
    if (!c || !this.connected) return;
    let latest = 0;
    for (const m of this.messages.values()) if (m.sender == "agent" && m.conversationId == c.id && m.id > latest) latest = m.id;
    if (latest > this.deliveredSent) {
      this.deliveredSent = latest;
      this.send("chat.receipt", { conversationId: c.id, messageId: latest, status: "delivered" });
    }
    const seen = this.isOpen && document.visibilityState == "visible" && document.hasFocus();
    if (seen && latest > this.readSent) {
      this.readSent = latest;
      this.send("chat.receipt", { conversationId: c.id, messageId: latest, status: "read" });
    }
    if (seen && latest > this.lastRead) {
      this.lastRead = latest;
      store.set("read", String(latest));
    }
    this.renderBadge();
  }

  private failed(ref: string | undefined, e: { code: string; message: string; details?: Record<string, unknown> }): void {
    for (const [cid, r] of this.sendRefs) {
      if (r != ref) continue;
      const m = this.pending.get(cid);
      if (!m) break;
      if (e.code == "conversation_closed") {
        // The conversation ended meanwhile: the message starts a new one.
        this.conversation = null;
        this.sendMessage(m);
        return;
      }
      if (e.code == "rate_limited") {
        setTimeout(() => this.connected && this.sendMessage(m), 1000 * (Number(e.details?.retryAfterSeconds) || 2));
        return;
      }
      m.status = "failed";
      this.renderMessages();
      return;
    }
    if (e.code == "identity_invalid" || e.code == "identity_not_configured") return;
    if (ref && ref.startsWith("x")) {
      this.extra.append(h("p", { class: "err", role: "alert" }, this.t.error.replace("{msg}", e.message)));
      this.extra.hidden = false;
    }
  }

  // MARK: Typing

  /** Up to three FAQ matches for the first message, debounced; opening one shows its snippet. */
  private suggestFAQ(): void {
    clearTimeout(this.faqTimer);
    this.faqTimer = window.setTimeout(async () => {
      const q = this.text.value.trim();
      const found = this.conversation || q.length < 3 ? null : await request<{ results: { id: number; slug: string; question: string; snippetHtml: string }[] }>(
        this.rt, `api/v1/faq/search?limit=3&locale=${this.locale}&q=${encodeURIComponent(q)}`).catch(() => null);
      this.faq.replaceChildren(...(found ? found.results : []).map((r) => {
        const b = h("button", { type: "button", class: "faq-q", "aria-expanded": "false" }, r.question);
        const a = h("p", { class: "faq-a", hidden: true }, new DOMParser().parseFromString(r.snippetHtml, "text/html").body.textContent || "");
        b.onclick = () => {
          a.hidden = !a.hidden;
          b.setAttribute("aria-expanded", String(!a.hidden));
          this.faqOpened.add(r.id);
          location.hash = "#faq-" + r.slug;
        };
        return h("div", null, b, a);
      }));
    }, 300);
  }

  private countDeflections(): void {
    for (const id of this.faqOpened) {
      fetch(this.rt.base + `api/v1/faq/${id}/events`, { method: "POST", keepalive: true, headers: { "Content-Type": "application/json" }, body: '{"type":"deflection"}' }).catch(() => {});
    }
    this.faqOpened.clear();
  }

  private typed(): void {
    const now = Date.now();
    if (!this.text.value) this.sendTyping(false);
    else if (now - this.lastTypingSent > this.typingInterval) {
      this.lastTypingSent = now;
      this.sendTyping(true);
    }
  }

  private sendTyping(typing: boolean): void {
    if (!this.conversation || !this.connected || this.conversation.status == "closed") return;
    if (!typing && !this.lastTypingSent) return; // the other side was never told we were typing
    if (!typing) this.lastTypingSent = 0;
    this.send("chat.typing", { conversationId: this.conversation.id, typing });
  }

  private showTyping(name: string | null): void {
    clearTimeout(this.typingTimer);
    this.typing.textContent = name ? this.t.typing.replace("{name}", name) : "";
    if (name) this.typingTimer = window.setTimeout(() => this.showTyping(null), 6000);
  }

  // MARK: Offline and transcript

  private showOfflineForm(): void {
    const c = this.conversation;
    if (!c || c.ticketId || this.extra.querySelector("#fd-oe")) return;
    const t = this.t;
    const email = h("input", { class: "in", id: "fd-oe", name: "email", type: "email", autocomplete: "email", required: true, value: String(this.rt.identity?.email || "") });
    const name = h("input", { class: "in", id: "fd-on", name: "name", type: "text", autocomplete: "name" });
    const form = h("form", { novalidate: true },
      h("p", { class: "note" }, t.away),
      h("div", { class: "f" }, h("label", { for: "fd-oe" }, t.email), email),
      h("div", { class: "f" }, h("label", { for: "fd-on" }, t.name), name),
      h("button", { class: "btn", type: "submit" }, t.leaveEmailSend));
    // The offline e-mail is a form post: it carries form `ticket`'s token (and proof of work when asked).
    type Guard = { formToken?: string; minFillSeconds?: number; proofOfWork?: PowChallenge | null };
    const shown = Date.now();
    const guard = request<Guard>(this.rt, "api/v1/forms/ticket").catch((): Guard => ({}));
    const proof = guard.then((g) => (g.proofOfWork ? solve(g.proofOfWork) : undefined)).catch(() => undefined);
    form.onsubmit = async (e) => {
      e.preventDefault();
      const g = await guard;
      // Wait out the minimum fill time rather than be refused for it.
      const wait = (g.minFillSeconds || 0) * 1000 + 200 - (Date.now() - shown);
      if (g.formToken && wait > 0) await new Promise((done) => setTimeout(done, wait));
      this.send("offline.leave_email", { conversationId: this.conversation?.id, email: email.value.trim(), name: name.value.trim() || undefined,
                                         formToken: g.formToken, proofOfWork: await proof }, "x" + ++this.refs);
    };
    this.extra.replaceChildren(h("h3", null, t.leaveEmail), form);
    this.extra.hidden = false;
  }

  private showTranscriptForm(): void {
    const c = this.conversation;
    const t = this.t;
    if (!c || !this.verifiedEmail) return;
    const email = h("input", { class: "in", id: "fd-te", name: "email", type: "email", readonly: true, value: this.verifiedEmail });
    const form = h("form", { novalidate: true, class: "row" },
      h("div", { class: "f" }, h("label", { for: "fd-te" }, t.email), email),
      h("button", { class: "btn", type: "submit" }, t.transcriptSend));
    form.onsubmit = (e) => {
      e.preventDefault();
      this.send("transcript.request", { conversationId: c.id }, "x" + ++this.refs);
    };
    this.extra.replaceChildren(form);
    this.extra.hidden = false;
    email.focus();
  }

  // MARK: Rendering

  private renderStatus(): void {
    const t = this.t;
    this.status.textContent = !this.availability ? "" : this.availability.available ? t.online : t.awayShort;
    // Nothing to say while the first connection is being made; after that, say it is gone.
    this.conn.hidden = this.connected || (!this.everConnected && !this.fatal && this.retries < 2);
    this.conn.textContent = this.everConnected && !this.fatal ? t.reconnecting : t.unavailable;
  }

  /**
   * Brings the list up to date in place: a message's node is kept (keyed by clientMessageId or
   * id) and only its status line changes, so the log live region announces each message once.
   */
  private renderMessages(): void {
    const t = this.t;
    const list = [...this.messages.values()].sort((a, b) => a.id - b.id);
    const wanted: [string, () => HTMLElement, Message | null][] = [];
    if (!list.length && !this.pending.size) wanted.push(["hint-empty", () => h("li", { class: "m hint" }, t.empty), null]);
    for (const m of [...list, ...this.pending.values()]) {
      const key = m.clientMessageId || "id" + m.id;
      if (m.sender == "system") {
        wanted.push([key, () => h("li", { class: "m system", "data-id": m.id }, m.text), null]);
        continue;
      }
      const own = m.sender == "visitor";
      wanted.push([key, () => h("li", { class: "m " + m.sender, "data-id": m.id || null },
        h("span", { class: own ? "sr" : "who" }, own ? t.you + ": " : (m.senderName || t.agent) + ":"), m.text), own ? m : null]);
    }
    if (this.conversation?.status == "closed") wanted.push(["hint-closed", () => h("li", { class: "m hint" }, t.closed), null]);

    let cursor = this.log.firstElementChild;
    const keep = new Set<string>();
    for (const [key, build, own] of wanted) {
      keep.add(key);
      let node = this.nodes.get(key);
      if (!node) this.nodes.set(key, (node = build()));
      if (own) {
        if (own.id) node.dataset.id = String(own.id);
        const st = node.querySelector<HTMLElement>(".st");
        if (!st || st.dataset.status != own.status) {
          const next = h("span", { class: "st", "data-status": own.status }, own.status == "failed" ? t.failed : t[own.status]);
          if (own.status == "failed") {
            next.append(h("button", { type: "button", onclick: () => ((own.status = "sending"), this.sendMessage(own), this.renderMessages()) }, t.retry));
          }
          st ? st.replaceWith(next) : node.append(next);
        }
      }
      if (node != cursor) this.log.insertBefore(node, cursor);
      else cursor = cursor.nextElementSibling;
    }
    for (const [key, node] of this.nodes) {
      if (!keep.has(key)) {
        node.remove();
        this.nodes.delete(key);
      }
    }
    this.scrollDown();
    this.renderBadge();
  }

  private scrollDown(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }

  private renderBadge(): void {
    let unread = 0;
    for (const m of this.messages.values()) if (m.sender == "agent" && m.id > this.lastRead) unread++;
    const show = unread > 0 && !this.isOpen;
    this.badge.hidden = !show;
    this.badge.textContent = String(unread);
    this.bubble.setAttribute("aria-label", show ? this.t.openUnread.replace("{n}", String(unread)) : this.t.open);
    this.rt.emit("unread", unread);
  }
}
