// The inbox: contact submissions and tickets in one list (filters, search, paging), with the
// selected item open beside it — a ticket's thread with reply, internal note and triage
// controls, or a contact's message with "processed" and "convert to ticket".

import { api, fetchTop, isOneOf, withQuery } from "../api";
import { ConsoleModule, Screen, Shortcut, navigate, state } from "../app";
import { h, icon, replace } from "../dom";
import { confirmAction, emptyState, fullDate, pager, pill, select, showError, time, toast } from "../ui";
import {
  Agent, AgentList, CONTACT_SUBMISSION_STATUSES, ContactPage, ContactSubmission, TICKET_PRIORITIES, TICKET_STATUSES,
  Ticket as TicketSummary, TicketMessage, TicketPage,
} from "../generated/api-types";

export type { Agent };
/** A ticket as listed, and with its thread once opened (GET /api/v1/admin/tickets/{id}). */
export type Ticket = TicketSummary & { messages?: TicketMessage[] };
export type Contact = ContactSubmission;

type Item = { kind: "ticket"; key: string; data: Ticket } | { kind: "contact"; key: string; data: Contact };

const PER_PAGE = 25;

interface Filters {
  type: string;
  status: string;
  priority: string;
  assignee: string;
  q: string;
  page: number;
}

function readFilters(params: URLSearchParams): Filters {
  return {
    type: params.get("type") ?? "",
    status: params.get("status") ?? "",
    priority: params.get("priority") ?? "",
    assignee: params.get("assignee") ?? "",
    q: params.get("q") ?? "",
    page: Math.max(1, Number(params.get("page")) || 1),
  };
}

function filterQuery(f: Filters): string {
  return withQuery("", { type: f.type, status: f.status, priority: f.priority, assignee: f.assignee, q: f.q, page: f.page > 1 ? f.page : null });
}

let agentsCache: Promise<Agent[]> | null = null;
/** Unsent replies by ticket id, so j/k through the inbox loses no half-written answer. */
const drafts = new Map<number, { text: string; internal: boolean }>();

/** Active users one can assign a ticket to (fetched once per page load). */
export function agents(): Promise<Agent[]> {
  agentsCache ??= api.get<AgentList>("/api/v1/admin/agents").then((r) => r.items).catch((error) => { agentsCache = null; throw error; });
  return agentsCache;
}

/** Loads one page of the merged list: each source sorted newest first, merged by creation time. */
async function loadItems(f: Filters): Promise<{ items: Item[]; total: number }> {
  const wantTickets = f.type !== "contact" && !isOneOf(CONTACT_SUBMISSION_STATUSES, f.status);
  const wantContacts = f.type !== "ticket" && !isOneOf(TICKET_STATUSES, f.status) && !f.priority && !f.assignee;
  const ticketQuery = { status: isOneOf(TICKET_STATUSES, f.status) ? f.status : "", priority: f.priority, assignee: f.assignee, q: f.q, sort: "-createdAt" };
  const contactQuery = { status: isOneOf(CONTACT_SUBMISSION_STATUSES, f.status) ? f.status : "", q: f.q, sort: "-createdAt" };
  const asTicket = (t: Ticket): Item => ({ kind: "ticket", key: `ticket-${t.id}`, data: t });
  const asContact = (c: Contact): Item => ({ kind: "contact", key: `contact-${c.id}`, data: c });
  if (wantTickets !== wantContacts) {
    // One source: the server pages it.
    if (wantTickets) {
      const r = await api.get<TicketPage>("/api/v1/admin/tickets", { ...ticketQuery, page: f.page, perPage: PER_PAGE });
      return { items: r.items.map(asTicket), total: r.total };
    }
    const r = await api.get<ContactPage>("/api/v1/admin/contact-submissions", { ...contactQuery, page: f.page, perPage: PER_PAGE });
    return { items: r.items.map(asContact), total: r.total };
  }
  if (!wantTickets) return { items: [], total: 0 };
  // Both: page p of the merge needs at most the first p×perPage of each.
  const need = f.page * PER_PAGE;
  const [tickets, contacts] = await Promise.all([
    fetchTop<Ticket>("/api/v1/admin/tickets", ticketQuery, need),
    fetchTop<Contact>("/api/v1/admin/contact-submissions", contactQuery, need),
  ]);
  const merged = [...tickets.items.map(asTicket), ...contacts.items.map(asContact)]
    .sort((a, b) => (b.data.createdAt > a.data.createdAt ? 1 : b.data.createdAt < a.data.createdAt ? -1 : 0));
  return { items: merged.slice((f.page - 1) * PER_PAGE, f.page * PER_PAGE), total: tickets.total + contacts.total };
}

/** The key (`ticket-7`, `contact-3`) an inbox path opens, or null for the bare list. */
function openKey(path: string): string | null {
  const m = path.match(/^\/admin\/inbox\/(ticket|contact)\/(\d+)$/);
  return m ? `${m[1]}-${m[2]}` : null;
}

export function inboxScreen(match: RegExpMatchArray, params: URLSearchParams): Screen {
  let filters = readFilters(params);
  let selected = openKey(match[0]);
  let items: Item[] = [];
  let total = 0;
  let loadSeq = 0;
  let listEl: HTMLElement;
  let pagerEl: HTMLElement;
  let detailEl: HTMLElement;
  let layout: HTMLElement;
  let searchInput: HTMLInputElement;
  let detail: { reply?: () => void; close?: () => void } = {};
  /** After j/k crossed a page boundary: open the first or last item once the page loads. */
  let pendingSelect: "first" | "last" | null = null;

  const pathFor = (key: string | null, f = filters) => (key ? `/admin/inbox/${key.replace("-", "/")}` : "/admin/inbox") + filterQuery(f);

  function setFilters(change: Partial<Filters>): void {
    navigate(pathFor(selected, { ...filters, page: 1, ...change }));
  }

  let lastSignature = "";

  async function loadList(quiet = false): Promise<void> {
    const seq = ++loadSeq;
    if (!quiet) listEl.setAttribute("aria-busy", "true");
    try {
      const result = await loadItems(filters);
      if (seq !== loadSeq) return;
      const signature = JSON.stringify([result.total, result.items.map((i) => [i.key, i.data.status, (i.data as Ticket).updatedAt, (i.data as Ticket).priority, (i.data as Ticket).assigneeId, (i.data as Ticket).messageCount])]);
      if (quiet && signature === lastSignature) return;
      lastSignature = signature;
      items = result.items;
      total = result.total;
      renderList();
      if (pendingSelect && items.length) {
        const target = items[pendingSelect === "first" ? 0 : items.length - 1];
        pendingSelect = null;
        navigate(pathFor(target.key));
      }
    } catch (error) {
      if (seq !== loadSeq || quiet) return;
      replace(listEl, emptyState("The inbox could not be loaded."));
      showError(error);
    } finally {
      if (seq === loadSeq) listEl.removeAttribute("aria-busy");
    }
  }

  function renderList(): void {
    replace(pagerEl, pager(filters.page, PER_PAGE, total, (page) => navigate(pathFor(selected, { ...filters, page }))));
    if (!items.length) {
      replace(listEl, emptyState(filters.q || filters.status || filters.type || filters.priority || filters.assignee
        ? "Nothing matches these filters." : "The inbox is empty. Contact messages and tickets will show up here."));
      return;
    }
    replace(listEl, items.map(row));
    listEl.querySelector(".row.selected")?.scrollIntoView({ block: "nearest" });
  }

  function row(item: Item): HTMLElement {
    const isTicket = item.kind === "ticket";
    const d = item.data;
    const subject = isTicket ? (d as Ticket).subject : (d as Contact).subject || firstLine((d as Contact).message);
    const who = d.name ? `${d.name} <${d.email}>` : d.email;
    const preview = isTicket ? (d as Ticket).description : (d as Contact).message;
    const unread = isTicket ? d.status === "open" : d.status === "new";
    return h("li", { class: `row${item.key === selected ? " selected" : ""}${unread ? " unread" : ""}`, "data-key": item.key },
      h("a", { href: pathFor(item.key), class: "row-link", "aria-current": item.key === selected ? "true" : null },
        h("div", { class: "row-top" },
          h("span", { class: `kind kind-${item.kind}` }, isTicket ? `Ticket #${d.id}` : "Contact"),
          h("span", { class: "row-who" }, who),
          time(d.createdAt)),
        h("div", { class: "row-subject" }, subject || "(no subject)"),
        h("div", { class: "row-preview" }, firstLine(preview, 140)),
        h("div", { class: "row-meta" },
          pill(d.status, "status"),
          isTicket ? pill((d as Ticket).priority, "prio") : null,
          isTicket && (d as Ticket).assigneeName ? h("span", { class: "assignee" }, (d as Ticket).assigneeName!) : null,
          isTicket && (d as Ticket).messageCount ? h("span", { class: "count", title: "Messages" }, `${(d as Ticket).messageCount} msg`) : null)));
  }

  async function openDetail(): Promise<void> {
    layout.classList.toggle("has-detail", !!selected);
    detail = {};
    if (!selected) {
      replace(detailEl, emptyState("Select a message or ticket.", h("p", { class: "muted" }, "Press ? for keyboard shortcuts.")));
      return;
    }
    const [kind, idText] = selected.split("-");
    const id = Number(idText);
    replace(detailEl, h("div", { class: "loading" }, "Loading…"));
    try {
      if (kind === "ticket") detail = await ticketView(detailEl, id, onItemChanged);
      else detail = await contactView(detailEl, id, onItemChanged);
    } catch (error) {
      if ((error as any)?.status === 404) replace(detailEl, emptyState("This item does not exist any more."));
      else { replace(detailEl, emptyState("This item could not be loaded.")); showError(error); }
    }
  }

  /** A detail view changed an item: refresh the list around it (and follow a conversion). */
  function onItemChanged(next?: string): void {
    if (next) { selected = next; navigate(pathFor(next)); return; }
    void loadList();
  }

  function move(step: number): void {
    if (!items.length) return;
    const index = items.findIndex((i) => i.key === selected);
    const target = index < 0 ? (step > 0 ? 0 : items.length - 1) : index + step;
    if (target < 0 || target >= items.length) {
      const page = filters.page + (target < 0 ? -1 : 1);
      if (page >= 1 && page <= Math.ceil(total / PER_PAGE)) { pendingSelect = step > 0 ? "first" : "last"; navigate(pathFor(null, { ...filters, page })); }
      return;
    }
    navigate(pathFor(items[target].key));
  }

  function filterBar(): HTMLElement {
    searchInput = h("input", { type: "search", name: "q", placeholder: "Search name, email, subject, text…", value: filters.q, id: "inbox-search", "aria-label": "Search the inbox" });
    const form = h("form", { class: "searchbar", role: "search" }, searchInput);
    form.addEventListener("submit", (e) => { e.preventDefault(); setFilters({ q: searchInput.value.trim() }); });
    const agentOptions: [string, string][] = [["", "Anyone"], ["me", "Me"], ["none", "Unassigned"]];
    const assigneeSelect = select("assignee", agentOptions, filters.assignee, (v) => setFilters({ assignee: v }), "Assignee");
    agents().then((list) => {
      for (const a of list) assigneeSelect.appendChild(h("option", { value: String(a.id), selected: String(a.id) === filters.assignee }, a.name || a.email));
      assigneeSelect.value = filters.assignee;
    }).catch(() => {});
    const statusSelect: HTMLSelectElement = h("select", { name: "status", "aria-label": "Status", onchange: () => setFilters({ status: statusSelect.value }) },
      h("option", { value: "" }, "Any status"),
      h("optgroup", { label: "Tickets" }, TICKET_STATUSES.map((s) => h("option", { value: s }, cap(s.replace("-", " "))))),
      h("optgroup", { label: "Contact messages" }, CONTACT_SUBMISSION_STATUSES.map((s) => h("option", { value: s }, cap(s)))));
    statusSelect.value = filters.status;
    return h("div", { class: "filters", id: "inbox-filters" },
      form,
      select("type", [["", "Everything"], ["ticket", "Tickets"], ["contact", "Contact messages"]], filters.type, (v) => setFilters({ type: v }), "Type"),
      statusSelect,
      select("priority", [["", "Any priority"], ...TICKET_PRIORITIES.map((p): [string, string] => [p, cap(p)])], filters.priority, (v) => setFilters({ priority: v }), "Priority"),
      assigneeSelect,
      filters.type === "contact" ? h("a", { class: "btn btn-small", href: withQuery("/api/v1/admin/contact-submissions/export", { status: isOneOf(CONTACT_SUBMISSION_STATUSES, filters.status) ? filters.status : "", q: filters.q }), download: "contact-submissions.csv", id: "contacts-export" }, "Export CSV") : null,
    );
  }

  // New messages and tickets show up without a reload; a hidden tab does not poll.
  const poll = window.setInterval(() => { if (document.visibilityState === "visible" && listEl?.isConnected) void loadList(true); }, 30000);

  return {
    section: "inbox",
    title: "Inbox",
    dispose() { window.clearInterval(poll); },
    render(main) {
      listEl = h("ul", { class: "rows", id: "inbox-list", "aria-label": "Contact messages and tickets" });
      pagerEl = h("div", { class: "list-foot" });
      detailEl = h("section", { class: "detail", id: "inbox-detail", "aria-label": "Selected item" });
      layout = h("div", { class: "split" },
        h("section", { class: "list-pane" }, filterBar(), listEl, pagerEl),
        detailEl);
      replace(main, h("div", { class: "page-head" }, h("h1", null, "Inbox")), layout);
      void loadList();
      void openDetail();
    },
    update(path, params) {
      const nextFilters = readFilters(params);
      const nextSelected = openKey(path);
      const filtersChanged = filterQuery(nextFilters) !== filterQuery(filters) || !listEl?.isConnected;
      filters = nextFilters;
      if (filtersChanged) {
        replace(layout.firstElementChild!, filterBar(), listEl, pagerEl);
        void loadList();
      }
      if (nextSelected !== selected || !filtersChanged) {
        selected = nextSelected;
        listEl.querySelectorAll(".row").forEach((r) => {
          const on = r.getAttribute("data-key") === selected;
          r.classList.toggle("selected", on);
          r.querySelector("a")?.setAttribute("aria-current", on ? "true" : "false");
          if (on) r.scrollIntoView({ block: "nearest" });
        });
        void openDetail();
      }
      return true;
    },
    shortcuts(): Shortcut[] {
      return [
        { key: "j", label: "Next item", run: () => move(1) },
        { key: "k", label: "Previous item", run: () => move(-1) },
        { key: "r", label: "Reply to the open ticket", run: () => detail.reply?.() },
        { key: "e", label: "Close the ticket / mark the message processed", run: () => detail.close?.() },
        { key: "/", label: "Search", run: () => searchInput.focus() },
        { key: "u", label: "Back to the list", run: () => navigate(pathFor(null)) },
      ];
    },
  };
}

// ---- ticket ---------------------------------------------------------------------------------

async function ticketView(el: HTMLElement, id: number, changed: (next?: string) => void): Promise<{ reply: () => void; close: () => void }> {
  let ticket = await api.get<Ticket>(`/api/v1/admin/tickets/${id}`);
  const agentList = await agents().catch(() => [] as Agent[]);
  const body = h("textarea", { name: "body", id: "reply-body", rows: "5", required: true, placeholder: "Write a reply… (Ctrl+Enter sends)", "aria-label": "Reply" });
  const internal = h("input", { type: "checkbox", name: "internal", id: "reply-internal" });
  const draft = drafts.get(id);
  if (draft) { body.value = draft.text; internal.checked = draft.internal; }
  const saveDraft = () => { if (body.value.trim()) drafts.set(id, { text: body.value, internal: internal.checked }); else drafts.delete(id); };
  body.addEventListener("input", saveDraft);
  const sendButton = h("button", { type: "submit", class: "btn btn-primary", id: "reply-send" }, "Send reply");
  const thread = h("ol", { class: "thread", id: "ticket-thread" });

  async function patch(change: Record<string, unknown>, done: string): Promise<void> {
    try {
      ticket = { ...ticket, ...(await api.patch<Ticket>(`/api/v1/admin/tickets/${id}`, change)) };
      toast(done, "ok");
      draw();
      changed();
    } catch (error) {
      showError(error);
      draw();
    }
  }

  const composer = h("form", { class: "composer", id: "reply-form" },
    body,
    h("div", { class: "composer-bar" },
      h("label", { class: "check" }, internal, " Internal note (never sent to the customer)"),
      sendButton));
  const showMode = () => {
    composer.classList.toggle("is-note", internal.checked);
    sendButton.textContent = internal.checked ? "Add note" : "Send reply";
    body.placeholder = internal.checked ? "Write a note for the team… (Ctrl+Enter saves)" : "Write a reply… (Ctrl+Enter sends)";
  };
  internal.addEventListener("change", () => { showMode(); saveDraft(); });
  showMode();
  body.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); composer.requestSubmit(); } });
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = body.value.trim();
    if (!text) { body.focus(); return; }
    sendButton.disabled = true;
    try {
      await api.post(`/api/v1/admin/tickets/${id}/messages`, { body: text, internal: internal.checked });
      toast(internal.checked ? "Note added" : `Reply sent to ${ticket.email}`, "ok");
      body.value = "";
      drafts.delete(id);
      ticket = await api.get<Ticket>(`/api/v1/admin/tickets/${id}`);
      draw();
      changed();
    } catch (error) {
      showError(error);
    } finally {
      sendButton.disabled = false;
    }
  });

  function draw(): void {
    const messages = ticket.messages ?? [];
    const first = messages[0];
    // The document leaves description optional; the server always sends it.
    const description = ticket.description ?? "";
    const descriptionInThread = first && first.author === "customer" && first.body.trim() === description.trim();
    replace(thread,
      descriptionInThread ? null : message({ id: 0, author: "customer", authorName: ticket.name, body: description, internal: false, createdAt: ticket.createdAt }, ticket),
      messages.map((m) => message(m, ticket)));
    const assignee = select("assigneeId", [["", "Unassigned"], ...agentList.map((a): [string, string] => [String(a.id), a.name || a.email])],
      ticket.assigneeId == null ? "" : String(ticket.assigneeId), (v) => void patch({ assigneeId: v ? Number(v) : null }, "Assignee changed"), "Assignee");
    if (ticket.assigneeId != null && !agentList.some((a) => a.id === ticket.assigneeId)) {
      assignee.appendChild(h("option", { value: String(ticket.assigneeId) }, ticket.assigneeName ?? `User ${ticket.assigneeId}`));
      assignee.value = String(ticket.assigneeId);
    }
    const me = state.user;
    replace(el,
      h("div", { class: "detail-head" },
        h("a", { class: "icon-btn back", href: "/admin/inbox" + location.search, "aria-label": "Back to the list" }, icon("back")),
        h("div", { class: "detail-title" },
          h("h2", { id: "ticket-subject" }, ticket.subject),
          h("p", { class: "muted" }, `Ticket #${ticket.id} · from `, h("span", { class: "customer", id: "ticket-customer" }, ticket.name ? `${ticket.name} <${ticket.email}>` : ticket.email),
            ` · via ${ticket.source} · opened ${fullDate(ticket.createdAt)}`))),
      h("div", { class: "triage", id: "ticket-triage" },
        h("label", null, "Status ", select("status", TICKET_STATUSES.map((s): [string, string] => [s, cap(s.replace("-", " "))]), ticket.status, (v) => void patch({ status: v }, `Status: ${v}`))),
        h("label", null, "Priority ", select("priority", TICKET_PRIORITIES.map((p): [string, string] => [p, cap(p)]), ticket.priority, (v) => void patch({ priority: v }, `Priority: ${v}`))),
        h("label", null, "Assignee ", assignee),
        me && ticket.assigneeId !== me.id ? h("button", { class: "btn btn-small", type: "button", onclick: () => void patch({ assigneeId: me.id }, "Assigned to you") }, "Assign to me") : null,
        ticket.status !== "closed" ? h("button", { class: "btn btn-small", type: "button", id: "ticket-close", onclick: close, title: "Close (e)" }, "Close ticket") : null,
        h("button", { class: "btn btn-small btn-ghost-danger", type: "button", onclick: remove }, "Delete")),
      thread,
      composer,
      h("p", { class: "muted small" }, `Replies are mailed to ${ticket.email} with a link to the ticket.`));
  }

  async function remove(): Promise<void> {
    if (!(await confirmAction("Delete this ticket?", `Ticket #${id} and its whole thread will be deleted for good.`, "Delete ticket", true))) return;
    try {
      await api.delete(`/api/v1/admin/tickets/${id}`);
      toast("Ticket deleted", "ok");
      navigate("/admin/inbox" + location.search);
      changed();
    } catch (error) { showError(error); }
  }

  function close(): void {
    if (ticket.status !== "closed") void patch({ status: "closed" }, "Ticket closed");
  }

  draw();
  return { reply: () => { body.focus(); }, close };
}

function message(m: TicketMessage, ticket: Ticket): HTMLElement {
  const who = m.author === "customer" ? (m.authorName || ticket.name || ticket.email) : m.author === "system" ? "Frontdesk" : (m.authorName || "Agent");
  return h("li", { class: `msg msg-${m.author}${m.internal ? " msg-internal" : ""}`, "data-message-id": String(m.id) },
    h("div", { class: "msg-head" },
      h("span", { class: "msg-author" }, who),
      m.internal ? h("span", { class: "pill pill-note" }, "internal note") : null,
      m.author === "agent" && !m.internal ? h("span", { class: "muted small" }, "replied") : null,
      time(m.createdAt)),
    h("div", { class: "msg-body" }, m.body));
}

// ---- contact --------------------------------------------------------------------------------

async function contactView(el: HTMLElement, id: number, changed: (next?: string) => void): Promise<{ close: () => void }> {
  let contact = await api.get<Contact>(`/api/v1/admin/contact-submissions/${id}`);

  async function setStatus(status: string): Promise<void> {
    try {
      contact = await api.patch<Contact>(`/api/v1/admin/contact-submissions/${id}`, { status });
      toast(status === "processed" ? "Marked processed" : "Marked new", "ok");
      draw();
      changed();
    } catch (error) { showError(error); }
  }

  async function convert(): Promise<void> {
    try {
      const ticket = await api.post<Ticket>(`/api/v1/admin/contact-submissions/${id}/ticket`);
      toast(`Ticket #${ticket.id} created`, "ok");
      changed(`ticket-${ticket.id}`);
    } catch (error) { showError(error); }
  }

  async function remove(): Promise<void> {
    if (!(await confirmAction("Delete this message?", "The contact message will be deleted for good.", "Delete", true))) return;
    try {
      await api.delete(`/api/v1/admin/contact-submissions/${id}`);
      toast("Message deleted", "ok");
      navigate("/admin/inbox" + location.search);
      changed();
    } catch (error) { showError(error); }
  }

  function draw(): void {
    const c = contact;
    const fields = c.fields ? Object.keys(c.fields) : [];
    replace(el,
      h("div", { class: "detail-head" },
        h("a", { class: "icon-btn back", href: "/admin/inbox" + location.search, "aria-label": "Back to the list" }, icon("back")),
        h("div", { class: "detail-title" },
          h("h2", { id: "contact-subject" }, c.subject || "Contact message"),
          h("p", { class: "muted" }, "From ", h("span", { class: "customer", id: "contact-from" }, c.name ? `${c.name} <${c.email}>` : c.email),
            ` · ${fullDate(c.createdAt)} · form “${c.form}”`))),
      h("div", { class: "triage", id: "contact-actions" },
        pill(c.status, "status"),
        c.status === "new"
          ? h("button", { class: "btn btn-small btn-primary", type: "button", id: "contact-processed", onclick: () => void setStatus("processed"), title: "Mark processed (e)" }, "Mark processed")
          : h("button", { class: "btn btn-small", type: "button", id: "contact-unprocess", onclick: () => void setStatus("new") }, "Mark new"),
        h("button", { class: "btn btn-small", type: "button", id: "contact-convert", onclick: convert }, "Convert to ticket"),
        h("button", { class: "btn btn-small btn-ghost-danger", type: "button", onclick: remove }, "Delete")),
      h("dl", { class: "facts" },
        h("dt", null, "Email"), h("dd", null, c.email),
        c.pageUrl ? [h("dt", null, "Sent from page"), h("dd", { class: "mono" }, c.pageUrl)] : null,
        fields.map((k) => [h("dt", null, k), h("dd", null, c.fields![k])]),
        c.processedAt ? [h("dt", null, "Processed"), h("dd", null, fullDate(c.processedAt))] : null),
      h("div", { class: "msg-body contact-message", id: "contact-message" }, c.message));
  }

  draw();
  return { close: () => { if (contact.status === "new") void setStatus("processed"); } };
}

function firstLine(text: string | null | undefined, max = 80): string {
  const line = (text ?? "").trim().split("\n")[0];
  return line.length > max ? line.slice(0, max - 1) + "…" : line;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export { cap };

export const inboxModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/inbox(?:\/(ticket|contact)\/(\d+))?$/, make: inboxScreen }],
  nav: { section: "inbox", href: "/admin/inbox", label: "Inbox", icon: "inbox" },
};
