// The live chat console: waiting visitors, conversations (mine / unassigned / all), the open
// conversation with typing and receipts, take / transfer / close, the visitor's context,
// canned replies (from the server, `/` in the composer), presence, and desktop notification plus sound on a new conversation.

import { api } from "../api";
import { ConsoleModule, Screen, Shortcut, navigate, setNavBadge, setTitleCount, state } from "../app";
import { Conversation, Message, chat } from "../chat/client";
import { h, icon, replace } from "../dom";
import { emptyState, fullDate, showError, time, toast } from "../ui";
import { Agent, agents } from "./inbox";
import { cannedReplies, expandCanned, matchCanned } from "./canned-replies";
import { CannedReply } from "../generated/api-types";
import { ChatConversationPage, NotificationPreferences, TicketPage } from "../generated/api-types";

let prefs: Promise<NotificationPreferences> | null = null;
let current: NotificationPreferences = { sound: true, desktopNewChats: true, desktopMyMessages: true };

/** The signed-in user's notification preferences, from the server (once per sign-in). */
export function notificationPreferences(): Promise<NotificationPreferences> {
  prefs ??= api.get<NotificationPreferences>("/api/v1/admin/account/notifications").then((p) => (current = p), (error) => { prefs = null; throw error; });
  return prefs;
}

/** Takes preferences just saved (the account screen, the chat toolbar's sound switch). */
export function setNotificationPreferences(p: NotificationPreferences): void {
  current = p;
  prefs = Promise.resolve(p);
}

async function setSound(on: boolean): Promise<void> {
  try {
    setNotificationPreferences(await api.patch<NotificationPreferences>("/api/v1/admin/account/notifications", { sound: on }));
    if (on) chime();
  } catch (error) { showError(error); }
}

/** Opens the socket while signed in, and notifies of new conversations on every screen. */
export function startChat(): void {
  state.sessionListeners.push((user) => {
    prefs = null;
    if (user) { chat.start(); void notificationPreferences().catch(() => {}); } else chat.stop();
  });
  chat.onSessionEnded = () => {
    // A 1008 close: find out whether the session really ended (then the API call sends us to sign-in).
    api.session().then(() => chat.reconnectLater(), (error) => {
      if (error?.status === 401) location.assign(`/admin/signin?expired=1&next=${encodeURIComponent(location.pathname + location.search)}`);
    });
  };
  chat.onNewConversation.push((c) => notify("New chat", `${visitorName(c)} is waiting${c.pageUrl ? " on " + c.pageUrl : ""}`, c.id, current.desktopNewChats));
  chat.onVisitorMessage.push((m, c) => {
    if (chat.viewing === m.conversationId && chat.focused()) return;
    const mine = c?.assignee?.id === chat.me?.id || c?.status === "open";
    if (mine) notify(c ? visitorName(c) : "Visitor", m.text, m.conversationId, current.desktopMyMessages);
  });
  chat.onError.push((message) => toast(message, "error"));
  // Browsers let a page play sound only after the person interacted with it: unlock audio then.
  const unlock = () => {
    if (!current.sound) return;
    try { audio ??= new AudioContext(); void audio.resume(); } catch { /* no audio output */ }
  };
  document.addEventListener("pointerdown", unlock, { once: true });
  document.addEventListener("keydown", unlock, { once: true });
  chat.onChange.push(() => {
    const count = waitingCount() + mineUnread();
    setNavBadge("chat", count);
    setTitleCount(count);
  });
  document.addEventListener("visibilitychange", () => { if (chat.viewing) chat.receiveUpTo(chat.viewing); });
  window.addEventListener("focus", () => { if (chat.viewing) { chat.receiveUpTo(chat.viewing); chat.changed(); } });
}

function waitingCount(): number {
  let n = 0;
  for (const c of chat.conversations.values()) if (c.status === "open") n++;
  return n;
}

function mineUnread(): number {
  let n = 0;
  for (const [id, count] of chat.unread) if (chat.conversations.get(id)?.assignee?.id === chat.me?.id) n += count;
  return n;
}

export function visitorName(c: Conversation): string {
  return c.visitor?.name || c.visitor?.email || `Visitor ${c.visitorId.slice(-6)}`;
}

// ---- notification and sound -------------------------------------------------------------------

let audio: AudioContext | null = null;

/** A short two-note chime made with Web Audio (no file to load). */
function chime(): void {
  if (!current.sound) return;
  try {
    audio ??= new AudioContext();
    const start = audio.currentTime + 0.01;
    [880, 1320].forEach((freq, i) => {
      const osc = audio!.createOscillator();
      const gain = audio!.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + i * 0.14);
      gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.14 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.14 + 0.35);
      osc.connect(gain).connect(audio!.destination);
      osc.start(start + i * 0.14);
      osc.stop(start + i * 0.14 + 0.4);
    });
  } catch {
    // No audio device or not allowed yet: the visual notification still shows.
  }
}

function notify(title: string, body: string, conversationId: number, desktop: boolean): void {
  chime();
  if (!desktop || !("Notification" in window) || Notification.permission !== "granted") return;
  if (chat.focused() && location.pathname.startsWith("/admin/chat")) return;
  try {
    const n = new Notification(title, { body: body.slice(0, 180), tag: `chat-${conversationId}`, icon: "/static/favicon.svg" });
    n.onclick = () => { window.focus(); navigate(`/admin/chat/${conversationId}`); n.close(); };
  } catch {
    // Some browsers only allow notifications from a service worker; the sound still plays.
  }
}

// ---- the screen ------------------------------------------------------------------------------

type Tab = "mine" | "unassigned" | "all";

export function chatScreen(match: RegExpMatchArray, params: URLSearchParams): Screen {
  let selected: number | null = match[1] ? Number(match[1]) : null;
  let tab: Tab = (params.get("tab") as Tab) || "mine";
  let root: HTMLElement;
  let listEl: HTMLElement;
  let convEl: HTMLElement;
  let contextEl: HTMLElement;
  let toolbarEl: HTMLElement;
  let composer: HTMLTextAreaElement | null = null;
  let drawnConversation: number | null = null;
  let threadEl: HTMLElement | null = null;
  let headEl: HTMLElement | null = null;
  let typingEl: HTMLElement | null = null;
  let contextFor: number | null = null;
  /** Every active console user (transfer targets need not be online), with presence from the socket. */
  let directory: Agent[] = [];
  const ticker = window.setInterval(() => { drawList(); drawTyping(); }, 15000);

  const listener = () => draw();
  let historyLoaded = false;

  /** The "All" tab also lists recent closed conversations, from the HTTP API. */
  async function loadHistory(): Promise<void> {
    if (historyLoaded || tab !== "all" || chat.connection !== "online") return;
    historyLoaded = true;
    try {
      const r = await api.get<ChatConversationPage>("/api/v1/admin/chat/conversations", { sort: "-updatedAt", perPage: 50 });
      for (const c of r.items) if (!chat.conversations.has(c.id)) chat.conversations.set(c.id, c);
      draw();
    } catch {
      historyLoaded = false;
    }
  }

  function filtered(): Conversation[] {
    const all = [...chat.conversations.values()].sort((a, b) => (b.lastMessageAt ?? b.createdAt).localeCompare(a.lastMessageAt ?? a.createdAt));
    if (tab === "mine") return all.filter((c) => c.status === "assigned" && c.assignee?.id === chat.me?.id);
    if (tab === "unassigned") return all.filter((c) => c.status === "open");
    return all;
  }

  function draw(): void {
    if (!root?.isConnected) return;
    void loadHistory();
    drawToolbar();
    drawList();
    drawConversation();
  }

  function drawToolbar(): void {
    const conn = chat.connection;
    const perm = "Notification" in window ? Notification.permission : "denied";
    replace(toolbarEl,
      h("h1", null, "Chat"),
      h("span", { class: `conn conn-${conn}`, id: "chat-connection" }, conn === "online" ? "Connected" : conn === "connecting" ? "Connecting…" : conn === "ended" ? "Signed out" : "Offline — reconnecting"),
      conn === "offline" ? h("button", { class: "btn btn-small", type: "button", onclick: () => chat.reconnect() }, "Retry now") : null,
      h("div", { class: "page-actions" },
        h("div", { class: "segmented", role: "group", "aria-label": "My status" },
          (["online", "away"] as const).map((s) => h("button", {
            type: "button", class: chat.presence === s ? "seg active" : "seg", "aria-pressed": String(chat.presence === s), id: `presence-${s}`,
            onclick: () => chat.setPresence(s),
          }, s === "online" ? "Online" : "Away"))),
        perm === "default" ? h("button", {
          class: "btn btn-small", type: "button", id: "enable-notifications",
          onclick: async () => { await Notification.requestPermission(); chime(); draw(); },
        }, icon("bell"), " Enable notifications") : null,
        h("label", { class: "check" }, h("input", {
          type: "checkbox", checked: current.sound, id: "sound-toggle",
          onchange: (e: Event) => void setSound((e.target as HTMLInputElement).checked),
        }), " Sound")));
  }

  function drawList(): void {
    if (!listEl) return;
    const waiting = [...chat.conversations.values()].filter((c) => c.status === "open").sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const items = filtered();
    const counts: Record<Tab, number> = {
      mine: [...chat.conversations.values()].filter((c) => c.status === "assigned" && c.assignee?.id === chat.me?.id).length,
      unassigned: waiting.length,
      all: chat.conversations.size,
    };
    replace(listEl,
      h("div", { class: "queue", id: "chat-queue", "aria-label": "Waiting visitors" },
        h("h2", null, `Waiting (${waiting.length})`),
        waiting.length ? h("ul", null, waiting.map((c) => h("li", { class: "queue-item", "data-conversation": String(c.id) },
          h("a", { href: `/admin/chat/${c.id}?tab=${tab}` }, h("strong", null, visitorName(c)), h("span", { class: "muted small" }, ` waiting ${since(c.createdAt)}`)),
          h("button", { class: "btn btn-small btn-primary", type: "button", "data-take": String(c.id), onclick: () => void take(c.id) }, "Take"))))
          : h("p", { class: "muted small" }, "Nobody is waiting.")),
      visitorsNow(),
      h("div", { class: "tabs", role: "tablist" }, (["mine", "unassigned", "all"] as Tab[]).map((t) => h("a", {
        role: "tab", href: `/admin/chat${selected ? "/" + selected : ""}?tab=${t}`, class: tab === t ? "tab active" : "tab", "aria-selected": String(tab === t), "data-tab": t,
      }, `${t === "mine" ? "Mine" : t === "unassigned" ? "Unassigned" : "All"} (${counts[t]})`))),
      items.length ? h("ul", { class: "conv-list", id: "conversation-list" }, items.map((c) => {
        const unread = chat.unread.get(c.id) ?? 0;
        const typing = chat.typing.get(c.id);
        return h("li", { class: `conv${c.id === selected ? " selected" : ""}${c.status === "closed" ? " closed" : ""}`, "data-conversation": String(c.id) },
          h("a", { href: `/admin/chat/${c.id}?tab=${tab}` },
            h("span", { class: `dot ${c.visitor?.online ? "dot-on" : "dot-off"}`, title: c.visitor?.online ? "Visitor online" : "Visitor offline" }),
            h("span", { class: "conv-name" }, visitorName(c)),
            unread ? h("span", { class: "nav-badge" }, String(unread)) : null,
            h("span", { class: "conv-meta muted small" },
              typing && typing.until > Date.now() ? "typing…" : c.status === "closed" ? "closed" : c.assignee ? c.assignee.name : "waiting",
              " · ", time(c.lastMessageAt ?? c.createdAt))));
      })) : emptyState(tab === "mine" ? "No conversations assigned to you." : "No conversations."));
  }

  function drawConversation(): void {
    if (!convEl) return;
    root.classList.toggle("has-detail", selected !== null);
    if (selected === null) {
      chat.viewing = null;
      drawnConversation = null;
      replace(convEl, emptyState("Pick a conversation.", h("p", { class: "muted" }, chat.connection === "online" ? "New chats show up on the left as they arrive." : "")));
      replace(contextEl, h("p", { class: "muted small" }, "The visitor's page, identity, earlier conversations and tickets show here."));
      return;
    }
    const c = chat.conversations.get(selected);
    if (!chat.messages.has(selected) && chat.connection === "online") chat.resume(selected);
    chat.viewing = selected;
    if (drawnConversation !== selected) {
      drawnConversation = selected;
      threadEl = h("ol", { class: "chat-thread", id: "chat-thread", "aria-live": "polite" });
      headEl = h("div", { class: "detail-head" });
      typingEl = h("div", { class: "typing", id: "chat-typing", "aria-live": "polite" });
      composer = h("textarea", { rows: "3", id: "chat-input", name: "text", placeholder: "Type a reply… (Enter sends, Shift+Enter for a new line)", "aria-label": "Reply" });
      const conversationId = selected;
      composer.addEventListener("input", () => chat.sendTyping(conversationId, composer!.value.trim() !== ""));
      const picker = cannedPicker(composer, () => {
        const c = chat.conversations.get(conversationId);
        return { visitorName: c?.visitor?.name, visitorEmail: c?.visitor?.email, agentName: state.user?.name || chat.me?.name };
      }, () => chat.sendTyping(conversationId, true));
      composer.addEventListener("keydown", (e) => {
        if (picker.handleKey(e)) return;
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
        if (e.key === "Escape") composer!.blur();
      });
      const cannedButton = h("button", { class: "btn btn-small", type: "button", id: "canned-open", title: "Insert a canned reply (type / in the reply)",
        onclick: () => picker.open() }, "Canned replies");
      const form = h("form", { class: "chat-composer", id: "chat-form" }, picker.list, composer,
        h("div", { class: "composer-bar" }, cannedButton, h("a", { class: "small", href: "/admin/canned-replies" }, "Manage"),
          h("button", { class: "btn btn-primary", type: "submit", id: "chat-send" }, "Send")));
      form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
      replace(convEl, headEl, threadEl, typingEl, form);
      contextFor = null;
    }
    drawHead(c);
    drawThread();
    drawTyping();
    if (c && contextFor !== c.id) { contextFor = c.id; void drawContext(c); }
    const closed = c?.status === "closed";
    if (composer) {
      composer.disabled = closed || chat.connection !== "online";
      composer.placeholder = closed ? "This conversation is closed." : chat.connection !== "online" ? "Reconnecting…" : "Type a reply… (Enter sends, Shift+Enter for a new line)";
    }
    chat.receiveUpTo(selected);
  }

  function submit(): void {
    if (!composer || selected === null) return;
    const text = composer.value.trim();
    if (!text) return;
    const c = chat.conversations.get(selected);
    if (c?.status === "closed") { toast("This conversation is closed.", "error"); return; }
    chat.sendMessage(selected, text);
    composer.value = "";
  }

  function drawHead(c: Conversation | undefined): void {
    if (!headEl) return;
    if (!c) { replace(headEl, h("h2", null, `Conversation #${selected}`), h("p", { class: "muted" }, "Loading…")); return; }
    const others = (directory.length ? directory.map((a) => ({ agentId: a.id, name: a.name || a.email, status: chat.agents.get(a.id)?.status ?? "offline" }))
      : [...chat.agents.values()]).filter((a) => a.agentId !== chat.me?.id);
    const canTransfer = c.status === "assigned" && (c.assignee?.id === chat.me?.id || chat.me?.role === "admin") && others.length > 0;
    const canUnassign = c.status === "assigned" && (c.assignee?.id === chat.me?.id || chat.me?.role === "admin");
    // Re-render only on a visible change, so an open "Transfer to…" menu is not pulled away.
    const signature = JSON.stringify([c.id, c.status, c.assignee, c.closedBy, c.visitor, c.ticketId, others, chat.me?.id]);
    if (headEl.dataset.sig === signature) return;
    headEl.dataset.sig = signature;
    replace(headEl,
      h("a", { class: "icon-btn back", href: `/admin/chat?tab=${tab}`, "aria-label": "Back to conversations" }, icon("back")),
      h("div", { class: "detail-title" },
        h("h2", { id: "chat-visitor" }, visitorName(c)),
        h("p", { class: "muted", id: "chat-status" },
          `#${c.id} · `, c.status === "open" ? "waiting in the queue" : c.status === "closed" ? `closed${c.closedBy ? " by " + c.closedBy : ""}` : `with ${c.assignee?.name ?? "an agent"}`,
          c.visitor?.online ? " · visitor online" : " · visitor offline")),
      h("div", { class: "triage" },
        c.status === "open" ? h("button", { class: "btn btn-small btn-primary", type: "button", id: "chat-take", onclick: () => void take(c.id) }, "Take") : null,
        c.status === "assigned" && c.assignee?.id !== chat.me?.id && chat.me?.role === "admin"
          ? h("button", { class: "btn btn-small", type: "button", id: "chat-take-over", onclick: () => void take(c.id, true) }, "Take over") : null,
        canTransfer ? h("select", { "aria-label": "Transfer to", id: "chat-transfer", onchange: (e: Event) => {
          const s = e.target as HTMLSelectElement;
          if (s.value) void transfer(c.id, Number(s.value));
          s.value = "";
        } }, h("option", { value: "" }, "Transfer to…"), others.map((a) => h("option", { value: String(a.agentId) }, `${a.name} (${a.status})`))) : null,
        canUnassign ? h("button", { class: "btn btn-small", type: "button", id: "chat-unassign", title: "Put it back in the queue for anyone to take", onclick: () => void unassign(c.id) }, "Back to queue") : null,
        c.status !== "closed" ? h("button", { class: "btn btn-small", type: "button", id: "chat-close", onclick: () => void close(c.id) }, "Close") : null,
        c.ticketId ? h("a", { class: "btn btn-small", href: `/admin/inbox/ticket/${c.ticketId}` }, `Ticket #${c.ticketId}`) : null));
  }

  function drawThread(): void {
    if (!threadEl || selected === null) return;
    const list = chat.messages.get(selected) ?? [];
    const atBottom = threadEl.scrollHeight - threadEl.scrollTop - threadEl.clientHeight < 40;
    // Re-render only what changed: messages are keyed by id (or clientMessageId while pending).
    const existing = new Map<string, HTMLElement>();
    threadEl.querySelectorAll<HTMLElement>("li[data-key]").forEach((li) => existing.set(li.dataset.key!, li));
    const nodes = list.map((m) => {
      const key = m.id > 0 ? `m${m.id}` : `p${m.clientMessageId}`;
      const sig = `${m.status}|${m.text.length}`;
      const old = existing.get(key);
      if (old && old.dataset.sig === sig) return old;
      const li = bubble(m);
      li.dataset.key = key;
      li.dataset.sig = sig;
      return li;
    });
    if (!list.length) { replace(threadEl, h("li", { class: "muted small center" }, chat.connection === "online" ? "Loading messages…" : "Not connected.")); return; }
    replace(threadEl, nodes);
    if (atBottom || nodes.length < 3) threadEl.scrollTop = threadEl.scrollHeight;
  }

  function drawTyping(): void {
    if (!typingEl || selected === null) return;
    const t = chat.typing.get(selected);
    typingEl.textContent = t && t.until > Date.now() ? `${t.name} is typing…` : "";
  }

  async function drawContext(c: Conversation): Promise<void> {
    const v = c.visitor ?? { name: null, email: null, userId: null, online: false, identified: false };
    const history = h("div", { class: "ctx-section", id: "ctx-history" }, h("h3", null, "Earlier conversations"), h("p", { class: "muted small" }, "Loading…"));
    const tickets = h("div", { class: "ctx-section", id: "ctx-tickets" }, h("h3", null, "Tickets"), h("p", { class: "muted small" }, v.email ? "Loading…" : "No email address known."));
    replace(contextEl,
      h("h2", null, "Visitor"),
      h("dl", { class: "facts", id: "visitor-context" },
        h("dt", null, "Name"), h("dd", null, v.name ?? "—"),
        h("dt", null, "Email"), h("dd", null, v.email ?? "—"),
        h("dt", null, "Identity"), h("dd", null, v.identified ? h("span", { class: "pill status-verified" }, `verified · ${v.userId ?? ""}`) : "anonymous (not verified)"),
        h("dt", null, "Current page"), h("dd", { class: "mono", id: "visitor-page" }, c.pageUrl ?? "—"),
        h("dt", null, "Status"), h("dd", null, v.online ? "online" : "offline"),
        h("dt", null, "Started"), h("dd", null, fullDate(c.createdAt)),
        c.offline ? [h("dt", null, "Note"), h("dd", null, "Started while nobody was available")] : null),
      history, tickets);
    try {
      const r = await api.get<ChatConversationPage>("/api/v1/admin/chat/conversations", { visitorId: c.visitorId, perPage: 10 });
      const earlier = (r.items ?? []).filter((x) => x.id !== c.id && x.visitorId === c.visitorId);
      replace(history, h("h3", null, "Earlier conversations"), earlier.length
        ? h("ul", { class: "ctx-list" }, earlier.map((x) => h("li", null, h("a", { href: `/admin/chat/${x.id}?tab=all` }, `#${x.id}`), ` · ${x.status} · `, time(x.createdAt))))
        : h("p", { class: "muted small" }, "None."));
    } catch {
      replace(history, h("h3", null, "Earlier conversations"), h("p", { class: "muted small" }, "Not available."));
    }
    if (v.email) {
      try {
        const r = await api.get<TicketPage>("/api/v1/admin/tickets", { q: v.email, perPage: 10, sort: "-createdAt" });
        const mine = r.items.filter((t) => t.email.toLowerCase() === v.email!.toLowerCase());
        replace(tickets, h("h3", null, "Tickets"), mine.length
          ? h("ul", { class: "ctx-list" }, mine.map((t) => h("li", null, h("a", { href: `/admin/inbox/ticket/${t.id}` }, `#${t.id} ${t.subject}`), ` · ${t.status}`)))
          : h("p", { class: "muted small" }, "None."));
      } catch {
        replace(tickets, h("h3", null, "Tickets"), h("p", { class: "muted small" }, "Not available."));
      }
    }
  }

  async function take(id: number, force = false): Promise<void> {
    try {
      await chat.take(id, force);
      toast("Conversation taken", "ok");
      navigate(`/admin/chat/${id}?tab=mine`);
    } catch (error: any) { toast(error?.message ?? "Could not take it.", "error"); }
  }

  async function transfer(id: number, agentId: number): Promise<void> {
    try {
      await chat.transfer(id, agentId);
      toast(`Transferred to ${chat.agents.get(agentId)?.name ?? "the agent"}`, "ok");
    } catch (error: any) { toast(error?.message ?? "Could not transfer it.", "error"); }
  }

  async function unassign(id: number): Promise<void> {
    try {
      await api.patch(`/api/v1/admin/chat/conversations/${id}`, { assigneeId: null });
      toast("Back in the queue", "ok");
    } catch (error) { showError(error); }
  }

  async function close(id: number): Promise<void> {
    try {
      await chat.close(id);
      toast("Conversation closed", "ok");
    } catch (error: any) { toast(error?.message ?? "Could not close it.", "error"); }
  }

  function move(step: number): void {
    const items = filtered();
    if (!items.length) return;
    const index = items.findIndex((c) => c.id === selected);
    const next = items[Math.max(0, Math.min(items.length - 1, index < 0 ? 0 : index + step))];
    navigate(`/admin/chat/${next.id}?tab=${tab}`);
  }

  return {
    section: "chat",
    title: "Chat",
    render(main) {
      toolbarEl = h("div", { class: "page-head chat-toolbar" });
      listEl = h("aside", { class: "chat-list", "aria-label": "Conversations" });
      convEl = h("section", { class: "chat-conv", "aria-label": "Conversation" });
      contextEl = h("aside", { class: "chat-context", id: "chat-context", "aria-label": "Visitor context" });
      root = h("div", { class: "chat-layout" }, listEl, convEl, contextEl);
      replace(main, toolbarEl, root);
      main.classList.add("main-chat");
      chat.onChange.push(listener);
      draw();
      agents().then((list) => { directory = list; draw(); }).catch(() => {});
    },
    update(path, p) {
      const m = path.match(/^\/admin\/chat(?:\/(\d+))?$/);
      selected = m?.[1] ? Number(m[1]) : null;
      tab = (p.get("tab") as Tab) || "mine";
      draw();
      if (selected !== null) composer?.focus();
      return true;
    },
    dispose() {
      chat.viewing = null;
      window.clearInterval(ticker);
      chat.onChange = chat.onChange.filter((l) => l !== listener);
    },
    shortcuts(): Shortcut[] {
      return [
        { key: "j", label: "Next conversation", run: () => move(1) },
        { key: "k", label: "Previous conversation", run: () => move(-1) },
        { key: "r", label: "Reply", run: () => composer?.focus() },
        { key: "t", label: "Take the open conversation", run: () => { if (selected !== null) void take(selected); } },
        { key: "e", label: "Close the open conversation", run: () => { if (selected !== null) void close(selected); } },
      ];
    },
  };
}

/** Who is on the site now (the agent socket's `visitors.now`): page, source, time on site. */
function visitorsNow(): HTMLElement | null {
  const now = chat.visitorsNow;
  if (!now) return null;
  return h("details", { class: "queue visitors-now", id: "visitors-now", open: true },
    h("summary", null, h("strong", null, `On the site now (${now.visitors})`)),
    now.visits.length ? h("ul", null, now.visits.slice(0, 20).map((v) => h("li", { class: "queue-item", "data-page": v.page },
      h("span", null, h("strong", { class: "visitor-page" }, v.page),
        h("span", { class: "muted small" }, ` · ${v.source} · ${v.country === "(none)" ? "" : v.country + " · "}${v.device} · on site ${since(v.startedAt)}`)))))
      : h("p", { class: "muted small" }, "Nobody right now."),
    h("a", { class: "small", href: "/admin/analytics" }, "Open analytics"));
}

/**
 * The composer's canned-reply list: typing `/` at the start of a word opens it, the letters
 * after it filter by shortcut; arrow keys move, Enter or Tab inserts (variables filled in),
 * Escape closes. The textarea stays the focus (a combobox with `aria-activedescendant`).
 */
function cannedPicker(input: HTMLTextAreaElement, values: () => Parameters<typeof expandCanned>[1], inserted: () => void) {
  const list = h("ul", { class: "canned-list", id: "canned-list", role: "listbox", "aria-label": "Canned replies", hidden: true });
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", "canned-list");
  input.setAttribute("aria-expanded", "false");
  let replies: CannedReply[] = [];
  let shown: CannedReply[] = [];
  let active = 0;
  let token: { start: number; end: number } | null = null;

  /** The `/word` right before the caret, if any. */
  function slashToken(): { start: number; end: number; query: string } | null {
    const end = input.selectionStart ?? input.value.length;
    const m = input.value.slice(0, end).match(/(^|\s)\/([\w-]*)$/);
    return m ? { start: end - m[2].length - 1, end, query: m[2] } : null;
  }

  function close(): void {
    list.hidden = true;
    token = null;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function draw(): void {
    if (!token) return close();
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (!shown.length) {
      replace(list, h("li", { class: "canned-empty muted small", role: "option", "aria-disabled": "true" }, replies.length ? "No canned reply matches." : "No canned replies yet."));
      input.removeAttribute("aria-activedescendant");
      return;
    }
    replace(list, shown.slice(0, 8).map((r, i) => h("li", {
      id: `canned-option-${r.id}`, role: "option", class: i === active ? "canned-option active" : "canned-option", "aria-selected": String(i === active),
      "data-shortcut": r.shortcut, onmousedown: (e: Event) => { e.preventDefault(); active = i; insert(); },
    }, h("strong", { class: "mono" }, `/${r.shortcut}`), " ", h("span", { class: "muted" }, r.text.length > 80 ? r.text.slice(0, 79) + "…" : r.text))));
    input.setAttribute("aria-activedescendant", `canned-option-${shown[active].id}`);
  }

  async function refresh(): Promise<void> {
    const found = slashToken();
    if (!found) return close();
    try { replies = await cannedReplies(); } catch { replies = []; }
    const again = slashToken();
    if (!again) return close();
    token = again;
    const previous = shown[active]?.id;
    shown = matchCanned(replies, again.query).slice(0, 8);
    active = Math.max(0, shown.findIndex((r) => r.id === previous));
    draw();
  }

  function insert(): void {
    const reply = shown[active];
    if (!reply || !token) return close();
    const text = expandCanned(reply.text, values());
    input.value = input.value.slice(0, token.start) + text + input.value.slice(token.end);
    const caret = token.start + text.length;
    input.setSelectionRange(caret, caret);
    close();
    input.focus();
    inserted();
  }

  input.addEventListener("input", () => void refresh());
  input.addEventListener("blur", () => close());

  return {
    list,
    /** Opens the list from the button: a `/` at the caret (after a space when needed). */
    open(): void {
      input.focus();
      const at = input.selectionStart ?? input.value.length;
      const before = input.value.slice(0, at);
      const slash = before === "" || /\s$/.test(before) ? "/" : " /";
      input.setRangeText(slash, at, input.selectionEnd ?? at, "end");
      void refresh();
    },
    /** Handles the list's keys while it is open; true when the key was for it. */
    handleKey(e: KeyboardEvent): boolean {
      if (list.hidden || !token) return false;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (shown.length) active = (active + (e.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
        draw();
        return true;
      }
      if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && !e.isComposing && shown.length) {
        e.preventDefault();
        insert();
        return true;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        close();
        return true;
      }
      return false;
    },
  };
}

function bubble(m: Message): HTMLElement {
  if (m.sender === "system") return h("li", { class: "sys", "data-id": String(m.id) }, m.text);
  const mine = m.sender === "agent";
  const ticks = m.status === "read" ? "✓✓" : m.status === "delivered" ? "✓✓" : m.status === "sent" ? "✓" : m.status === "failed" ? "!" : "…";
  const label = m.status === "read" ? `Read ${fullDate(m.readAt)}` : m.status === "delivered" ? `Delivered ${fullDate(m.deliveredAt)}` : m.status === "sent" ? "Sent" : m.status === "failed" ? "Not sent" : "Sending";
  return h("li", { class: `bubble ${mine ? "from-agent" : "from-visitor"}`, "data-id": String(m.id), "data-status": m.status },
    mine && m.senderName ? h("span", { class: "bubble-name" }, m.senderName) : null,
    h("div", { class: "bubble-text" }, m.text),
    h("div", { class: "bubble-meta" }, time(m.createdAt),
      mine ? h("span", { class: `ticks ticks-${m.status}`, title: label, "aria-label": label, "data-receipt": m.status }, ticks) : null));
}

function since(iso: string): string {
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h`;
}

export const chatModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/chat(?:\/(\d+))?$/, make: chatScreen }],
  nav: { section: "chat", href: "/admin/chat", label: "Chat", icon: "chat" },
  start: startChat,
};
