// Privacy: search a person by e-mail, user id, visitor id, consent id or ticket; preview what is
// held (the manifest of every kind searched); download the export; erase with the value typed
// again; the log of access and erasure requests with their due dates (30 days, Art. 12(3)),
// the erasure log, and the record of processing from the running configuration.

import { api } from "../api";
import { ConsoleModule, Screen, state } from "../app";
import { h, replace } from "../dom";
import { emptyState, modal, pill, select, showError, time, toast } from "../ui";

interface ManifestEntry { kind: string; database: string; tables: string[]; rows: number; erasure: string; purpose: string }
interface Subject { emails: string[]; userIds: string[]; visitors: string[]; consentIds: string[]; ticketIds: number[]; conversationIds: number[]; accountIds: number[]; names: string[] }
interface SearchResult { subject: Subject; manifest: ManifestEntry[]; rows: number; files: number }
interface Erasure { dryRun: boolean; counts: Record<string, number>; anonymised: Record<string, string>; files: number; erasureId: number | null }
interface PrivacyRequest { id: number; kind: string; origin: string; email: string | null; status: string; createdAt: string; dueAt: string; completedAt: string | null; overdue: boolean }
interface LogEntry { id: number; actor: string; counts: Record<string, number>; files: number; erasedAt: string }
interface Activity { kind: string; purpose: string; storedIn: string; tables: string[]; retention: string; erasure: string }
interface ProcessingRecord { activities: Activity[]; recipients: string[]; notes: string[]; generatedAt: string }

const KINDS: [string, string][] = [["email", "E-mail"], ["user_id", "User id"], ["visitor", "Visitor id"], ["consent", "Consent id"], ["ticket", "Ticket"]];

/** Saves `text` as a file the browser downloads. */
function saveFile(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A regular expression source matching exactly `text` (for the typed confirmation's pattern). */
function exactly(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function privacyScreen(): Screen {
  let main: HTMLElement;
  let result: HTMLElement;
  let kind = "email";
  const isAdmin = () => state.user?.role === "admin";
  const value: HTMLInputElement = h("input", { type: "search", name: "value", id: "privacy-value", required: true, maxlength: "320", placeholder: "ada@example.com", "aria-label": "Who" });

  async function search(): Promise<void> {
    const v = value.value.trim();
    if (!v) return;
    try {
      const r = await api.post<SearchResult>("/api/v1/admin/privacy/search", { kind, value: v });
      const s = r.subject;
      const ids = [...s.emails, ...s.userIds.map((x) => `user ${x}`), ...s.visitors.map((x) => `visitor ${x}`), ...s.consentIds.map((x) => `consent ${x}`),
        ...s.ticketIds.map((x) => `ticket #${x}`), ...s.conversationIds.map((x) => `chat #${x}`), ...s.accountIds.map((x) => `console account #${x}`)];
      replace(result,
        h("div", { class: "card", id: "privacy-preview" },
          h("h2", null, r.rows || r.files ? `${r.rows} item${r.rows === 1 ? "" : "s"} and ${r.files} mail file${r.files === 1 ? "" : "s"} found` : "Nothing is held about this subject"),
          ids.length ? h("p", { class: "small", id: "privacy-identifiers" }, "Followed: ", ids.join(", "), s.names.length ? ` · names: ${s.names.join(", ")}` : "") : null,
          h("div", { class: "table-wrap" }, h("table", { class: "table", id: "privacy-manifest" },
            h("thead", null, h("tr", null, ["Data", "Stored in", "Tables", "Found", "On erasure"].map((t) => h("th", null, t)))),
            h("tbody", null, r.manifest.map((m) => h("tr", { "data-kind": m.kind, class: m.rows ? null : "muted" },
              h("td", { class: "mono small", title: m.purpose }, m.kind), h("td", null, m.database), h("td", { class: "small" }, m.tables.join(", ")),
              h("td", { "data-rows": String(m.rows) }, String(m.rows)), h("td", null, m.erasure)))))),
          h("div", { class: "page-actions" },
            h("button", { class: "btn", type: "button", id: "privacy-download", onclick: () => void download(v) }, "Download export (JSON)"),
            isAdmin() ? h("button", { class: "btn btn-danger", type: "button", id: "privacy-erase", disabled: !(r.rows || r.files), onclick: () => void erase(v) }, "Erase…") : null)));
    } catch (error) { showError(error); }
  }

  async function download(v: string): Promise<void> {
    try {
      const document = await api.post<unknown>("/api/v1/admin/privacy/export", { kind, value: v, format: "json" });
      saveFile(`privacy-export-${kind}.json`, JSON.stringify(document, null, 2), "application/json");
      toast("Export downloaded", "ok");
    } catch (error) { showError(error); }
  }

  async function erase(v: string): Promise<void> {
    const typed: HTMLInputElement = h("input", { type: "text", id: "privacy-confirm", required: true, pattern: exactly(v), autocomplete: "off", "aria-label": "Type the value again" });
    const answer = await modal("Erase everything about this subject?",
      h("div", null, h("p", null, "This deletes their messages, tickets, chats, reviews, votes, visits, mail and account, and anonymises what must stay (the newsletter's consent proof). It cannot be undone; backups made before keep the data until they rotate out."),
        h("label", { class: "field" }, h("span", null, `Type ${v} to confirm`), typed)),
      [{ label: "Cancel", value: "cancel" }, { label: "Erase", value: "erase", primary: true, danger: true }]);
    if (answer !== "erase") return;
    try {
      const r = await api.post<Erasure>("/api/v1/admin/privacy/erasures", { kind, value: v, confirm: typed.value });
      const rows = Object.values(r.counts).reduce((a, b) => a + b, 0);
      toast(`Erased ${rows} rows and ${r.files} mail files` + (Object.keys(r.anonymised).length ? ` (anonymised: ${Object.keys(r.anonymised).join(", ")})` : ""), "ok");
      await search();
      void loadLogs();
    } catch (error) { showError(error); }
  }

  async function answer(r: PrivacyRequest, action: "approve" | "reject"): Promise<void> {
    try {
      await api.post(`/api/v1/admin/privacy/requests/${r.id}/${action}`);
      toast(action === "approve" ? (r.kind === "access" ? "Download link mailed" : "Erased") : "Request rejected", "ok");
      void loadLogs();
    } catch (error) { showError(error); }
  }

  const logs = h("div", { id: "privacy-logs" });
  async function loadLogs(): Promise<void> {
    try {
      const [requests, erasures, record] = await Promise.all([
        api.get<{ items: PrivacyRequest[] }>("/api/v1/admin/privacy/requests"),
        api.get<{ items: LogEntry[] }>("/api/v1/admin/privacy/erasures"),
        api.get<ProcessingRecord>("/api/v1/admin/privacy/record", { format: "json" }),
      ]);
      replace(logs,
        h("h2", null, "Requests"),
        h("div", { class: "table-wrap" }, h("table", { class: "table", id: "privacy-requests" },
          h("thead", null, h("tr", null, ["#", "Kind", "Who", "Status", "Asked", "Due", ""].map((t) => h("th", null, t)))),
          h("tbody", null, requests.items.length ? requests.items.map((r) => h("tr", { "data-id": String(r.id), "data-status": r.status, class: r.overdue ? "row-warn" : null },
            h("td", null, String(r.id)), h("td", null, r.kind), h("td", { class: "email" }, r.email ?? "—"), h("td", null, pill(r.status, "status")),
            h("td", null, time(r.createdAt)), h("td", { class: r.overdue ? "overdue" : null }, time(r.dueAt), r.overdue ? " (overdue)" : ""),
            h("td", { class: "actions" }, isAdmin() && (r.status === "confirmed" || (r.status === "approved" && r.kind === "access")) ? [
              h("button", { class: "btn btn-small", type: "button", "data-approve": String(r.id), onclick: () => void answer(r, "approve") }, r.kind === "access" ? (r.status === "approved" ? "Mail a new link" : "Approve & mail link") : "Approve & erase"),
              " ", h("button", { class: "btn btn-small", type: "button", "data-reject": String(r.id), onclick: () => void answer(r, "reject") }, "Reject")] : null)))
            : h("tr", null, h("td", { colspan: "7" }, emptyState("No requests yet.")))))),
        h("h2", null, "Erasures"),
        h("div", { class: "table-wrap" }, h("table", { class: "table", id: "privacy-erasures" },
          h("thead", null, h("tr", null, ["#", "When", "By", "Rows", "Mail files"].map((t) => h("th", null, t)))),
          h("tbody", null, erasures.items.length ? erasures.items.map((e) => h("tr", { "data-id": String(e.id) },
            h("td", null, String(e.id)), h("td", null, time(e.erasedAt)), h("td", null, e.actor),
            h("td", { title: Object.entries(e.counts).map(([k, n]) => `${k}: ${n}`).join("\n") }, String(Object.values(e.counts).reduce((a, b) => a + b, 0))),
            h("td", null, String(e.files))))
            : h("tr", null, h("td", { colspan: "5" }, emptyState("No erasures yet.")))))),
        h("h2", null, "Record of processing"),
        h("p", { class: "small" }, "From the running configuration; print it with frontdesk privacy record."),
        h("div", { class: "table-wrap" }, h("table", { class: "table", id: "privacy-record" },
          h("thead", null, h("tr", null, ["Data", "Purpose", "Stored in", "Retention", "On erasure"].map((t) => h("th", null, t)))),
          h("tbody", null, record.activities.map((a) => h("tr", { "data-kind": a.kind },
            h("td", { class: "mono small" }, a.kind), h("td", null, a.purpose), h("td", null, a.storedIn), h("td", null, a.retention), h("td", null, a.erasure)))))),
        h("ul", { class: "small" }, [...record.recipients, ...record.notes].map((t) => h("li", null, t))));
    } catch (error) {
      replace(logs, emptyState("The privacy logs could not be loaded."));
      showError(error);
    }
  }

  return {
    section: "privacy",
    title: "Privacy",
    render(el) {
      main = el;
      result = h("div", { id: "privacy-result" });
      const form = h("form", { class: "toolbar", id: "privacy-search", onsubmit: (event: Event) => { event.preventDefault(); void search(); } },
        select("kind", KINDS, kind, (v) => { kind = v; }, "Search by"), value, h("button", { class: "btn btn-primary", type: "submit" }, "Search"));
      replace(main, h("div", { class: "page-head" }, h("h1", null, "Privacy")),
        h("p", { class: "hint" }, "Find everything held about one person, download it for them, or erase it. Links between features are followed (a chat's e-mail, the ticket it became, the visitor's votes and visits)."),
        form, result, logs);
      void loadLogs();
    },
  };
}

export const privacyModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/privacy$/, make: privacyScreen }],
  nav: { section: "privacy", href: "/admin/privacy", label: "Privacy", icon: ["M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z", "M9 12l2 2 4-4"] },
};
