// The agent's chat socket (`/api/v1/admin/ws`, protocol version 1): one per console tab, open
// while signed in, so new conversations notify on every screen. Keeps conversations, messages,
// typing and presence; re-sends unacknowledged messages after a reconnect with the same
// clientMessageId (the server stores them once); sends delivered/read receipts.

import { AnalyticsRealtime, ChatConversation, ChatMessage, ChatMessageStatus } from "../generated/api-types";

export type Conversation = ChatConversation;

/** A message as the server sends it, or one of ours still "pending" (sent, not acknowledged)
 *  or "failed" (refused); those two states exist only in this tab. */
export type Message = Omit<ChatMessage, "status"> & { status: ChatMessageStatus | "pending" | "failed" };

export interface AgentPresence {
  agentId: number;
  name: string;
  status: "online" | "away" | "offline";
}

interface Frame {
  v?: number;
  type: string;
  ref?: string;
  data: any;
}

export type Connection = "connecting" | "online" | "offline" | "ended";

type Pending = { resolve: (data: any) => void; reject: (error: { code: string; message: string }) => void };

const PRESENCE_KEY = "frontdesk.presence";

/** What the chat screen and the notifier need to know, with change listeners. */
export class ChatClient {
  conversations = new Map<number, Conversation>();
  messages = new Map<number, Message[]>();
  /** Conversation id → who is typing there (cleared 6 s after the last `typing: true`). */
  typing = new Map<number, { name: string; until: number }>();
  agents = new Map<number, AgentPresence>();
  unread = new Map<number, number>();
  me: { id: number; name: string; role: string; status: string } | null = null;
  connection: Connection = "offline";
  presence: "online" | "away" = (localStorage.getItem(PRESENCE_KEY) as "online" | "away") || "online";
  /** The latest `visitors.now` push: visitors on the site in the last 5 minutes and their visits. */
  visitorsNow: AnalyticsRealtime | null = null;
  /** The conversation the chat screen shows, if any (for read receipts and unread counts). */
  viewing: number | null = null;

  onChange: (() => void)[] = [];
  onNewConversation: ((c: Conversation) => void)[] = [];
  onVisitorMessage: ((m: Message, c: Conversation | undefined) => void)[] = [];
  onError: ((message: string) => void)[] = [];
  onSessionEnded: () => void = () => {};

  private socket: WebSocket | null = null;
  private wanted = false;
  private backoff = 1000;
  private retryTimer = 0;
  private refSeq = 0;
  private pending = new Map<string, Pending>();
  /** Sends without a chat.ack yet, by clientMessageId: re-sent after a reconnect. */
  private unacked = new Map<string, { conversationId: number; text: string }>();
  private acknowledged = new Map<number, { delivered: number; read: number }>();
  private changeQueued = false;

  start(): void {
    this.wanted = true;
    if (!this.socket) this.connect();
  }

  stop(): void {
    this.wanted = false;
    window.clearTimeout(this.retryTimer);
    this.socket?.close(1000);
    this.socket = null;
    this.conversations.clear();
    this.messages.clear();
    this.unread.clear();
    this.acknowledged.clear();
    this.setConnection("offline");
  }

  private setConnection(state: Connection): void {
    this.connection = state;
    this.changed();
  }

  /** Coalesces bursts of frames into one re-render. */
  changed(): void {
    if (this.changeQueued) return;
    this.changeQueued = true;
    queueMicrotask(() => {
      this.changeQueued = false;
      for (const listener of this.onChange) listener();
    });
  }

  private connect(): void {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/admin/ws`;
    this.setConnection("connecting");
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.send({ type: "hello", data: { status: this.presence } });
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      let frame: Frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame && typeof frame.type === "string") this.handle(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      for (const p of this.pending.values()) p.reject({ code: "disconnected", message: "The connection to the server dropped." });
      this.pending.clear();
      if (event.code === 1008) {
        // Session ended (or a policy close): do not reconnect in a loop; let the app re-check.
        this.setConnection("ended");
        this.onSessionEnded();
        return;
      }
      this.setConnection("offline");
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (!this.wanted) return;
    window.clearTimeout(this.retryTimer);
    const delay = this.backoff * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(30000, this.backoff * 2);
    this.retryTimer = window.setTimeout(() => { if (this.wanted && !this.socket) this.connect(); }, delay);
  }

  /** Reconnects after the usual backoff (a policy close while the session is still valid). */
  reconnectLater(): void {
    this.backoff = 30000;
    this.scheduleReconnect();
  }

  /** Reconnects now (the "retry" button). */
  reconnect(): void {
    this.backoff = 1000;
    if (!this.socket) { this.wanted = true; this.connect(); }
  }

  private send(frame: Omit<Frame, "data"> & { data: any }): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify({ v: 1, ...frame }));
    return true;
  }

  /** Sends a frame that the server answers (ack, updated or error) and resolves with the answer. */
  request(type: string, data: any): Promise<any> {
    const ref = `c-${++this.refSeq}`;
    return new Promise((resolve, reject) => {
      if (!this.send({ type, ref, data })) {
        reject({ code: "disconnected", message: "Not connected to the chat server." });
        return;
      }
      this.pending.set(ref, { resolve, reject });
    });
  }

  private handle(frame: Frame): void {
    const data = frame.data ?? {};
    const pending = frame.ref ? this.pending.get(frame.ref) : undefined;
    if (pending) this.pending.delete(frame.ref!);
    switch (frame.type) {
      case "welcome": {
        this.backoff = 1000;
        this.me = data.agent;
        if (data.agent?.status === "online" || data.agent?.status === "away") this.presence = data.agent.status;
        this.agents.clear();
        for (const a of data.agents ?? []) this.agents.set(a.agentId, a);
        const fresh = new Set<number>();
        for (const c of data.conversations ?? []) { this.conversations.set(c.id, c); fresh.add(c.id); }
        // Conversations closed while we were away are no longer listed: mark them closed.
        for (const c of this.conversations.values()) if (!fresh.has(c.id) && c.status !== "closed") c.status = "closed";
        this.setConnection("online");
        // Catch up on what we show, then re-send what never got an ack.
        for (const id of this.messages.keys()) this.resume(id);
        for (const [clientMessageId, m] of this.unacked) this.send({ type: "chat.send", ref: `s-${clientMessageId}`, data: { conversationId: m.conversationId, clientMessageId, text: m.text } });
        break;
      }
      case "conversation.created": {
        const c: Conversation = data.conversation;
        const known = this.conversations.has(c.id);
        this.conversations.set(c.id, c);
        if (!known) for (const listener of this.onNewConversation) listener(c);
        break;
      }
      case "conversation.updated":
        if (data.conversation) this.conversations.set(data.conversation.id, { ...this.conversations.get(data.conversation.id), ...data.conversation });
        break;
      case "resume.done":
        if (data.conversation) this.conversations.set(data.conversation.id, data.conversation);
        if (data.receipts) this.applyReceipts(data.conversationId, data.receipts.deliveredUpTo ?? 0, data.receipts.readUpTo ?? 0);
        this.receiveUpTo(data.conversationId);
        break;
      case "chat.message":
        this.addMessage(data.message, true);
        break;
      case "chat.ack": {
        if (data.clientMessageId) this.unacked.delete(data.clientMessageId);
        if (data.message) this.addMessage(data.message, false);
        if (data.conversation) this.conversations.set(data.conversation.id, data.conversation);
        break;
      }
      case "chat.status": {
        const list = this.messages.get(data.conversationId) ?? [];
        const ids = new Set<number>(data.messageIds ?? []);
        for (const m of list) {
          if (!ids.has(m.id)) continue;
          if (data.status === "read") { m.status = "read"; m.readAt = data.at; m.deliveredAt ??= data.at; }
          else if (data.status === "delivered" && m.status !== "read") { m.status = "delivered"; m.deliveredAt = data.at; }
        }
        break;
      }
      case "chat.typing": {
        if (data.sender === "agent" && data.agentId === this.me?.id) break;
        if (data.typing) this.typing.set(data.conversationId, { name: data.name || (data.sender === "visitor" ? "The visitor" : "An agent"), until: Date.now() + 6000 });
        else this.typing.delete(data.conversationId);
        window.setTimeout(() => this.changed(), 6100);
        break;
      }
      case "presence.agent": {
        this.agents.set(data.agentId, { agentId: data.agentId, name: data.name, status: data.status });
        if (data.agentId === this.me?.id && (data.status === "online" || data.status === "away")) this.presence = data.status;
        break;
      }
      case "visitors.now":
        this.visitorsNow = data as AnalyticsRealtime;
        break;
      case "presence.visitor": {
        const c = this.conversations.get(data.conversationId);
        if (c) c.visitor = { ...c.visitor, online: data.status === "online" };
        break;
      }
      case "error": {
        if (frame.ref?.startsWith("s-")) {
          const id = frame.ref.slice(2);
          const m = this.unacked.get(id);
          if (m && data.code !== "rate_limited") {
            this.unacked.delete(id);
            const local = (this.messages.get(m.conversationId) ?? []).find((x) => x.clientMessageId === id);
            if (local) local.status = "failed";
          }
        }
        if (pending) pending.reject(data);
        else for (const listener of this.onError) listener(data.message ?? "The chat server refused that.");
        this.changed();
        return;
      }
    }
    pending?.resolve(data);
    this.changed();
  }

  private addMessage(message: Message, fromOthers: boolean): void {
    let list = this.messages.get(message.conversationId);
    const c = this.conversations.get(message.conversationId);
    if (c && (!c.lastMessageId || message.id > c.lastMessageId)) { c.lastMessageId = message.id; c.lastMessageAt = message.createdAt; }
    if (!list) {
      // Not loaded yet: count it as unread and let `resume` fetch the thread when it is opened.
      if (fromOthers && message.sender === "visitor") {
        this.unread.set(message.conversationId, (this.unread.get(message.conversationId) ?? 0) + 1);
        for (const listener of this.onVisitorMessage) listener(message, c);
        this.receipt(message.conversationId, message.id, "delivered");
      }
      return;
    }
    const pendingIndex = message.clientMessageId ? list.findIndex((m) => m.id < 0 && m.clientMessageId === message.clientMessageId) : -1;
    if (pendingIndex >= 0) list.splice(pendingIndex, 1);
    const existing = list.find((m) => m.id === message.id);
    if (existing) Object.assign(existing, message);
    else {
      list.push(message);
      list.sort((a, b) => (a.id < 0 ? Infinity : a.id) - (b.id < 0 ? Infinity : b.id));
      if (fromOthers && message.sender === "visitor") {
        if (this.viewing !== message.conversationId || !this.focused()) {
          this.unread.set(message.conversationId, (this.unread.get(message.conversationId) ?? 0) + 1);
        }
        for (const listener of this.onVisitorMessage) listener(message, c);
      }
    }
    if (message.sender === "visitor") this.typing.delete(message.conversationId);
    this.receiveUpTo(message.conversationId);
  }

  private applyReceipts(conversationId: number, deliveredUpTo: number, readUpTo: number): void {
    for (const m of this.messages.get(conversationId) ?? []) {
      if (m.sender !== "agent" || m.id < 0) continue;
      if (m.id <= readUpTo) m.status = "read";
      else if (m.id <= deliveredUpTo && m.status === "sent") m.status = "delivered";
    }
  }

  focused(): boolean {
    return document.visibilityState === "visible" && document.hasFocus();
  }

  /** Acknowledges the visitor's messages: delivered always, read when on screen in a focused tab. */
  receiveUpTo(conversationId: number): void {
    const list = this.messages.get(conversationId) ?? [];
    let last = 0;
    for (const m of list) if (m.sender === "visitor" && m.id > last) last = m.id;
    if (!last) return;
    this.receipt(conversationId, last, "delivered");
    if (this.viewing === conversationId && this.focused()) {
      this.receipt(conversationId, last, "read");
      this.unread.delete(conversationId);
    }
  }

  private receipt(conversationId: number, messageId: number, status: "delivered" | "read"): void {
    const done = this.acknowledged.get(conversationId) ?? { delivered: 0, read: 0 };
    if (done[status] >= messageId) return;
    if (this.send({ type: "chat.receipt", data: { conversationId, messageId, status } })) {
      done[status] = messageId;
      if (status === "read") done.delivered = Math.max(done.delivered, messageId);
      this.acknowledged.set(conversationId, done);
    }
  }

  /** Loads a conversation's thread (and subscribes to it) — everything after what we have. */
  resume(conversationId: number): void {
    if (!this.messages.has(conversationId)) this.messages.set(conversationId, []);
    const list = this.messages.get(conversationId)!;
    const last = list.reduce((n, m) => (m.id > n ? m.id : n), 0);
    this.send({ type: "resume", ref: `r-${conversationId}-${++this.refSeq}`, data: { conversationId, lastMessageId: last } });
  }

  /** Sends a message; it shows at once as pending and turns into the stored one on ack. */
  sendMessage(conversationId: number, text: string): void {
    const clientMessageId = crypto.randomUUID ? crypto.randomUUID() : `m-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    this.unacked.set(clientMessageId, { conversationId, text });
    const list = this.messages.get(conversationId) ?? [];
    this.messages.set(conversationId, list);
    list.push({
      id: -Date.now(), conversationId, clientMessageId, sender: "agent", agentId: this.me?.id ?? null, senderName: this.me?.name ?? null,
      text, systemEvent: null, status: "pending", createdAt: new Date().toISOString(), deliveredAt: null, readAt: null,
    });
    this.send({ type: "chat.send", ref: `s-${clientMessageId}`, data: { conversationId, clientMessageId, text } });
    this.sendTyping(conversationId, false);
    this.changed();
  }

  private lastTyping = 0;
  private typingSent = false;

  /** `typing: true` at most every 2 s while typing; `false` once when stopped. */
  sendTyping(conversationId: number, typing: boolean): void {
    if (typing) {
      if (Date.now() - this.lastTyping < 2000) return;
      this.lastTyping = Date.now();
      this.typingSent = true;
      this.send({ type: "chat.typing", data: { conversationId, typing: true } });
    } else if (this.typingSent) {
      this.typingSent = false;
      this.lastTyping = 0;
      this.send({ type: "chat.typing", data: { conversationId, typing: false } });
    }
  }

  setPresence(status: "online" | "away"): void {
    this.presence = status;
    localStorage.setItem(PRESENCE_KEY, status);
    this.send({ type: "presence.set", data: { status } });
    this.changed();
  }

  take(conversationId: number, force = false): Promise<any> {
    return this.request("conversation.take", force ? { conversationId, force: true } : { conversationId });
  }

  transfer(conversationId: number, agentId: number): Promise<any> {
    return this.request("conversation.transfer", { conversationId, agentId });
  }

  close(conversationId: number): Promise<any> {
    return this.request("conversation.close", { conversationId });
  }
}

export const chat = new ChatClient();
