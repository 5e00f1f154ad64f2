// The mail outbox: what is queued, sent, failed (with the reason) or dead, and a retry button.

import { api, withQuery } from "../api";
import { ConsoleModule, Screen, navigate } from "../app";
import { h, replace } from "../dom";
import { emptyState, fullDate, pager, pill, showError, time, toast } from "../ui";
import { MAIL_ITEM_STATUSES, MailItem, MailPage } from "../generated/api-types";

const PER_PAGE = 50;
const LABELS: Record<string, string> = { queued: "queued", sending: "sending", sent: "sent", failed: "failed, will retry", dead: "failed for good" };

export function outboxScreen(_m: RegExpMatchArray, params: URLSearchParams): Screen {
  let status = params.get("status") ?? "";
  let page = Math.max(1, Number(params.get("page")) || 1);
  let main: HTMLElement;
  let timer = 0;

  const here = () => withQuery("/admin/outbox", { status, page: page > 1 ? page : null });

  async function load(): Promise<void> {
    window.clearTimeout(timer);
    try {
      const r = await api.get<MailPage>("/api/v1/admin/mail", { status, page, perPage: PER_PAGE, sort: "-createdAt" });
      const counts = r.counts ?? {};
      const all = MAIL_ITEM_STATUSES.reduce((n, s) => n + (counts[s] ?? 0), 0);
      replace(main,
        h("div", { class: "page-head" }, h("h1", null, "Mail outbox"),
          h("div", { class: "page-actions" }, h("button", { class: "btn", type: "button", onclick: () => void load() }, "Refresh"))),
        h("div", { class: "counts", id: "mail-counts" },
          h("button", { type: "button", class: status === "" ? "count-chip active" : "count-chip", onclick: () => { status = ""; page = 1; navigate(here()); } }, h("strong", null, String(all)), " total"),
          MAIL_ITEM_STATUSES.map((s) => h("button", { type: "button", class: `count-chip${status === s ? " active" : ""}${s === "dead" || s === "failed" ? " warn" : ""}`, "data-status": s, onclick: () => { status = s; page = 1; navigate(here()); } },
            h("strong", null, String(counts[s] ?? 0)), " " + LABELS[s]))),
        h("div", { class: "table-wrap" },
          h("table", { class: "table", id: "mail-table" },
            h("thead", null, h("tr", null, ["To", "Subject", "Kind", "Status", "Tries", "Created", "Sent / next try", ""].map((t) => h("th", null, t)))),
            h("tbody", null, r.items.length ? r.items.map(row) : h("tr", null, h("td", { colspan: "8" }, emptyState(status ? `No ${LABELS[status]} mail.` : "No mail yet.")))))),
        h("div", { class: "list-foot" }, pager(page, PER_PAGE, r.total, (p) => { page = p; navigate(here()); })));
      // Queued mail changes state on its own; look again in a little while.
      if ((counts.queued ?? 0) > 0 || (counts.failed ?? 0) > 0) timer = window.setTimeout(() => void load(), 10000);
    } catch (error) {
      replace(main, h("div", { class: "page-head" }, h("h1", null, "Mail outbox")), emptyState("The outbox could not be loaded."));
      showError(error);
    }
  }

  function row(m: MailItem): HTMLElement {
    return h("tr", { "data-id": String(m.id), class: m.status === "dead" || m.status === "failed" ? "row-warn" : null },
      h("td", { class: "email" }, m.to),
      h("td", null, m.subject, m.lastError ? h("div", { class: "mail-error" }, m.lastError) : null),
      h("td", { class: "mono small" }, m.template),
      h("td", null, pill(m.status, "status")),
      h("td", null, String(m.attempts)),
      h("td", null, time(m.createdAt)),
      h("td", null, m.sentAt ? time(m.sentAt) : m.nextAttemptAt && m.status !== "dead" ? h("span", { title: fullDate(m.nextAttemptAt) }, "next ", time(m.nextAttemptAt)) : "—"),
      h("td", { class: "actions" }, m.status === "failed" || m.status === "dead"
        ? h("button", { class: "btn btn-small", type: "button", "data-retry": String(m.id), onclick: () => void retry(m) }, "Retry now") : null));
  }

  async function retry(m: MailItem): Promise<void> {
    try {
      await api.post(`/api/v1/admin/mail/${m.id}/retry`);
      toast(`Mail to ${m.to} queued again`, "ok");
      void load();
    } catch (error) { showError(error); }
  }

  return {
    section: "outbox",
    title: "Mail outbox",
    render(el) { main = el; void load(); },
    update(_path, p) {
      status = p.get("status") ?? "";
      page = Math.max(1, Number(p.get("page")) || 1);
      void load();
      return true;
    },
    dispose() { window.clearTimeout(timer); },
  };
}

export const outboxModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/outbox$/, make: outboxScreen }],
  nav: { section: "outbox", href: "/admin/outbox", label: "Mail outbox", icon: "mail" },
};
