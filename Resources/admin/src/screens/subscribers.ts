// Newsletter subscribers: counts by status, filter and search, CSV export of exactly what the
// list shows, and CSV import where "already confirmed" is an explicit, deliberate choice.

import { api, withQuery } from "../api";
import { ConsoleModule, Screen, navigate } from "../app";
import { h, replace } from "../dom";
import { confirmAction, emptyState, modal, pager, pill, select, showError, time, toast } from "../ui";
import { cap } from "./inbox";
import { ImportResult, SUBSCRIBER_STATUSES, Subscriber, SubscriberPage } from "../generated/api-types";

const PER_PAGE = 50;

export function subscribersScreen(_m: RegExpMatchArray, params: URLSearchParams): Screen {
  let status = params.get("status") ?? "";
  let q = params.get("q") ?? "";
  let page = Math.max(1, Number(params.get("page")) || 1);
  let main: HTMLElement;

  const here = () => withQuery("/admin/subscribers", { status, q, page: page > 1 ? page : null });

  async function load(): Promise<void> {
    const countsEl = h("div", { class: "counts", id: "subscriber-counts" });
    const table = h("tbody", { id: "subscriber-rows" });
    const foot = h("div", { class: "list-foot" });
    const search = h("input", { type: "search", name: "q", value: q, placeholder: "Search email or name…", "aria-label": "Search subscribers", id: "subscriber-search" });
    const searchForm = h("form", { class: "searchbar", role: "search" }, search);
    searchForm.addEventListener("submit", (e) => { e.preventDefault(); q = search.value.trim(); page = 1; navigate(here()); });
    const exportHref = withQuery("/api/v1/admin/newsletter/subscribers/export", { status, q });
    replace(main,
      h("div", { class: "page-head" }, h("h1", null, "Newsletter subscribers"),
        h("div", { class: "page-actions" },
          h("a", { class: "btn", href: exportHref, download: `subscribers${status ? "-" + status : ""}.csv`, id: "subscribers-export" }, "Export CSV"),
          h("button", { class: "btn btn-primary", type: "button", id: "subscribers-import", onclick: importDialog }, "Import CSV…"))),
      countsEl,
      h("div", { class: "filters" },
        searchForm,
        select("status", [["", "All statuses"], ...SUBSCRIBER_STATUSES.map((s): [string, string] => [s, cap(s)])], status, (v) => { status = v; page = 1; navigate(here()); }, "Status")),
      h("div", { class: "table-wrap" },
        h("table", { class: "table", id: "subscriber-table" },
          h("thead", null, h("tr", null, ["Email", "Name", "Status", "Topics", "Subscribed", "Confirmed", "Source", ""].map((t) => h("th", null, t)))),
          table)),
      foot);
    try {
      const r = await api.get<SubscriberPage>("/api/v1/admin/newsletter/subscribers", { status, q, page, perPage: PER_PAGE, sort: "-subscribedAt" });
      const counts = r.counts ?? {};
      const all = SUBSCRIBER_STATUSES.reduce((n, s) => n + (counts[s] ?? 0), 0);
      replace(countsEl,
        h("button", { type: "button", class: status === "" ? "count-chip active" : "count-chip", onclick: () => { status = ""; page = 1; navigate(here()); } }, h("strong", null, String(all)), " total"),
        SUBSCRIBER_STATUSES.map((s) => h("button", { type: "button", class: status === s ? "count-chip active" : "count-chip", "data-status": s, onclick: () => { status = s; page = 1; navigate(here()); } },
          h("strong", null, String(counts[s] ?? 0)), " " + s)));
      if (!r.items.length) {
        replace(table, h("tr", null, h("td", { colspan: "8" }, emptyState(q || status ? "No subscriber matches." : "No subscribers yet."))));
      } else {
        replace(table, r.items.map((s) => h("tr", { "data-id": String(s.id) },
          h("td", { class: "email" }, s.email),
          h("td", null, s.name ?? ""),
          h("td", null, pill(s.status, "status")),
          h("td", null, (s.topics ?? []).join(", ")),
          h("td", null, time(s.subscribedAt)),
          h("td", null, time(s.confirmedAt)),
          h("td", null, s.source ?? ""),
          h("td", { class: "actions" }, h("button", { class: "btn btn-small btn-ghost-danger", type: "button", onclick: () => void remove(s) }, "Delete")))));
      }
      replace(foot, pager(page, PER_PAGE, r.total, (p) => { page = p; navigate(here()); }));
    } catch (error) {
      replace(table, h("tr", null, h("td", { colspan: "8" }, emptyState("Subscribers could not be loaded."))));
      showError(error);
    }
  }

  async function remove(s: Subscriber): Promise<void> {
    if (!(await confirmAction("Delete this subscriber?", `${s.email} will be removed from the list for good (to keep a record, let them unsubscribe instead).`, "Delete", true))) return;
    try {
      await api.delete(`/api/v1/admin/newsletter/subscribers/${s.id}`);
      toast("Subscriber deleted", "ok");
      void load();
    } catch (error) { showError(error); }
  }

  async function importDialog(): Promise<void> {
    const file = h("input", { type: "file", name: "file", accept: ".csv,text/csv", required: true, id: "import-file" });
    const confirmed = h("input", { type: "checkbox", name: "confirmed", id: "import-confirmed" });
    const answer = await modal("Import subscribers", [
      h("p", null, "A CSV file with the header row email,name,topics (topics separated by spaces or semicolons)."),
      h("label", { class: "field" }, h("span", { class: "field-label" }, "CSV file"), file),
      h("label", { class: "check check-block" }, confirmed,
        h("span", null, h("strong", null, "These people already confirmed their subscription elsewhere. "),
          "Import them as confirmed without a confirmation mail. Leave this off and each address gets a mail asking to confirm.")),
    ], [{ label: "Cancel", value: "cancel" }, { label: "Import", value: "import", primary: true }]);
    if (answer !== "import" || !file.files?.[0]) return;
    const text = await file.files[0].text();
    const rows = text.split(/\r?\n/).filter((line) => line.trim()).length - 1;
    if (confirmed.checked && !(await confirmAction("Import as confirmed?",
      `${rows} address${rows === 1 ? "" : "es"} will be subscribed without a confirmation mail. Only do this when you hold their consent.`, "Import as confirmed"))) return;
    try {
      const result = await api.postText<ImportResult>(withQuery("/api/v1/admin/newsletter/subscribers/import", { confirmed: confirmed.checked ? "true" : "false" }), text, "text/csv");
      await modal("Import finished", h("div", { id: "import-result" },
        h("p", null, `${result.imported} imported, ${result.skipped} skipped.`),
        result.errors.length ? h("ul", { class: "errors" }, result.errors.map((e) => h("li", null, `Line ${e.line}: ${e.message}`))) : null),
        [{ label: "OK", value: "ok", primary: true }]);
      void load();
    } catch (error) { showError(error); }
  }

  return {
    section: "subscribers",
    title: "Subscribers",
    render(el) { main = el; void load(); },
    update(_path, p) {
      status = p.get("status") ?? "";
      q = p.get("q") ?? "";
      page = Math.max(1, Number(p.get("page")) || 1);
      void load();
      return true;
    },
  };
}

export const subscribersModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/subscribers$/, make: subscribersScreen }],
  nav: { section: "subscribers", href: "/admin/subscribers", label: "Subscribers", icon: "news" },
};
