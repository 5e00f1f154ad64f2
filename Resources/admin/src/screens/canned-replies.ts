// Canned replies: the team's shared ones (admins keep them) and your own, kept on the server.
// The chat composer offers them when you type `/`; `expandCanned` fills in their variables.

import { api } from "../api";
import { ConsoleModule, Screen, state } from "../app";
import { h, replace } from "../dom";
import { confirmAction, emptyState, field, pill, select, showError, showFormError, toast, openDialog } from "../ui";
import { CannedReply, CannedReplyList, CannedReplyScope } from "../generated/api-types";

let cache: Promise<CannedReply[]> | null = null;

/** The replies the signed-in user may insert (shared and own), fetched once until one changes. */
export function cannedReplies(): Promise<CannedReply[]> {
  cache ??= api.get<CannedReplyList>("/api/v1/admin/canned-replies").then((r) => r.items, (error) => { cache = null; throw error; });
  return cache;
}

function changed(): void {
  cache = null;
}

/** What the variables of a reply stand for in one conversation; a missing value gets a fallback. */
export interface CannedValues {
  visitorName?: string | null;
  visitorEmail?: string | null;
  agentName?: string | null;
}

/**
 * The reply's text with its variables filled in. An unknown variable stays as written, so the
 * agent sees it before sending instead of a silent gap; a known one without a value reads
 * naturally ("there", "your e-mail address").
 */
export function expandCanned(text: string, values: CannedValues): string {
  const known: Record<string, string> = {
    "visitor.name": values.visitorName?.trim() || "there",
    "visitor.email": values.visitorEmail?.trim() || "your e-mail address",
    "agent.name": values.agentName?.trim() || "the team",
  };
  return text.replace(/\{\{\s*([a-zA-Z_.]+)\s*\}\}/g, (whole, name: string) => known[name] ?? whole);
}

/** The replies whose shortcut starts with `query` first, then those containing it (case-insensitive). */
export function matchCanned(replies: CannedReply[], query: string): CannedReply[] {
  const q = query.toLowerCase();
  const starts = replies.filter((r) => r.shortcut.startsWith(q));
  const contains = replies.filter((r) => !r.shortcut.startsWith(q) && (r.shortcut.includes(q) || r.text.toLowerCase().includes(q)));
  return [...starts, ...contains];
}

const SCOPE_LABELS: Record<CannedReplyScope, string> = { personal: "Only me", shared: "The whole team" };

export function cannedRepliesScreen(): Screen {
  let main: HTMLElement;

  async function load(): Promise<void> {
    changed();
    try {
      const replies = await cannedReplies();
      replace(main,
        h("div", { class: "page-head" }, h("h1", null, "Canned replies"),
          h("div", { class: "page-actions" }, h("button", { class: "btn btn-primary", type: "button", id: "canned-add", onclick: () => void edit(null) }, "Add reply…"))),
        h("p", { class: "muted" }, "Type / and the shortcut in the chat composer to insert one. ",
          "Variables: {{visitor.name}}, {{visitor.email}}, {{agent.name}}.",
          state.user?.role === "admin" ? " Shared replies are the whole team's; only admins change them." : " Shared replies come from your admins."),
        h("div", { class: "table-wrap" },
          h("table", { class: "table", id: "canned-table" },
            h("thead", null, h("tr", null, ["Shortcut", "Text", "For", ""].map((t) => h("th", null, t)))),
            h("tbody", null, replies.length ? replies.map(row) : h("tr", null, h("td", { colspan: "4" }, emptyState("No canned replies yet.")))))));
    } catch (error) {
      replace(main, emptyState("Canned replies could not be loaded."));
      showError(error);
    }
  }

  function row(r: CannedReply): HTMLElement {
    return h("tr", { "data-id": String(r.id), "data-shortcut": r.shortcut },
      h("td", { class: "mono" }, `/${r.shortcut}`),
      h("td", { class: "canned-text" }, r.text),
      h("td", null, pill(r.scope)),
      h("td", { class: "actions" }, r.editable ? [
        h("button", { class: "btn btn-small", type: "button", "data-action": "edit", onclick: () => void edit(r) }, "Edit…"),
        h("button", { class: "btn btn-small btn-ghost-danger", type: "button", "data-action": "delete", onclick: () => void remove(r) }, "Delete"),
      ] : null));
  }

  async function remove(r: CannedReply): Promise<void> {
    if (!(await confirmAction(`Delete /${r.shortcut}?`, r.scope === "shared" ? "Nobody in the team can insert it any more." : "You cannot insert it any more.", "Delete", true))) return;
    try {
      await api.delete(`/api/v1/admin/canned-replies/${r.id}`);
      toast(`/${r.shortcut} deleted`, "ok");
    } catch (error) { showError(error); }
    void load();
  }

  async function edit(r: CannedReply | null): Promise<void> {
    const shortcut = h("input", { type: "text", name: "shortcut", required: true, maxlength: "32", id: "canned-shortcut", value: r?.shortcut ?? "", autocomplete: "off", class: "mono" });
    const text = h("textarea", { name: "text", required: true, maxlength: "2000", rows: "5", id: "canned-text", class: "wide" });
    text.value = r?.text ?? "";
    const isAdmin = state.user?.role === "admin";
    const scope = select("scope", (Object.keys(SCOPE_LABELS) as CannedReplyScope[]).map((s): [string, string] => [s, SCOPE_LABELS[s]]), r?.scope ?? "personal", undefined, "For");
    scope.id = "canned-scope";
    const errors = h("div", { class: "form-errors" });
    const dialog = h("dialog", { class: "modal", "aria-label": r ? `Edit /${r.shortcut}` : "Add a canned reply" });
    const form = h("form", { id: "canned-form" },
      h("h2", null, r ? `Edit /${r.shortcut}` : "Add a canned reply"),
      errors,
      field("Shortcut", shortcut, "Letters, digits, - and _; you type /shortcut in the composer."),
      field("Text", text, "{{visitor.name}}, {{visitor.email}} and {{agent.name}} are filled in when you insert it."),
      isAdmin ? field("For", scope) : null,
      h("div", { class: "modal-actions" },
        h("button", { class: "btn", type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { class: "btn btn-primary", type: "submit", id: "canned-save" }, r ? "Save" : "Add reply")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body: Record<string, string> = { shortcut: shortcut.value.trim(), text: text.value };
      if (isAdmin) body.scope = scope.value;
      try {
        const saved = r ? await api.patch<CannedReply>(`/api/v1/admin/canned-replies/${r.id}`, body)
          : await api.post<CannedReply>("/api/v1/admin/canned-replies", body);
        toast(`/${saved.shortcut} saved`, "ok");
        dialog.close();
        void load();
      } catch (error) {
        showFormError(form, errors, error);
      }
    });
    openDialog(dialog, form, shortcut);
  }

  return { section: "canned-replies", title: "Canned replies", render(el) { main = el; void load(); } };
}

export const cannedRepliesModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/canned-replies$/, make: cannedRepliesScreen }],
  nav: { section: "canned-replies", href: "/admin/canned-replies", label: "Canned replies", icon: ["M4 5h16v11H8l-4 4z", "M8 9h8", "M8 12h5"] },
};
