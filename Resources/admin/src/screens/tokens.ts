// API tokens: create one with scopes and an expiry (its secret is shown once), see when and
// from which network each was last used, revoke. Agents see their own, admins everyone's.

import { api } from "../api";
import { ConsoleModule, Screen, state } from "../app";
import { h, replace } from "../dom";
import { confirmAction, emptyState, field, modal, pill, select, showError, showFormError, time, toast } from "../ui";
import { CreatedToken, Token, TokenList, TokenScope } from "../generated/api-types";

// Every scope of the document is listed here (the type says so), by feature.
const SCOPES: Record<TokenScope, true> = {
  "agents:read": true, "agents:write": true, "analytics:read": true, "analytics:write": true, "chat:read": true, "chat:write": true,
  "consent:read": true, "consent:write": true, "contacts:read": true, "contacts:write": true, "engage:read": true, "engage:write": true, "faq:read": true, "faq:write": true,
  "mail:read": true, "mail:write": true, "newsletter:read": true, "newsletter:write": true, "privacy:read": true, "privacy:write": true, "reviews:read": true, "reviews:write": true,
  "settings:read": true, "settings:write": true, "tickets:read": true, "tickets:write": true, "users:read": true, "users:write": true,
};
const ADMIN_ONLY = ["users", "settings", "privacy"];

export function tokensScreen(): Screen {
  let main: HTMLElement;

  async function load(): Promise<void> {
    try {
      const { tokens } = await api.get<TokenList>("/api/v1/admin/tokens");
      replace(main,
        h("div", { class: "page-head" }, h("h1", null, "API tokens"),
          h("div", { class: "page-actions" }, h("button", { class: "btn btn-primary", type: "button", id: "token-add", onclick: () => void addDialog() }, "New token…"))),
        h("p", { class: "muted" }, "Scripts and services send a token as Authorization: Bearer fd_…. A token may only do what its scopes name; revoke one the moment it may have leaked."),
        h("div", { class: "table-wrap" },
          h("table", { class: "table", id: "tokens-table" },
            h("thead", null, h("tr", null, ["Name", "Prefix", "Scopes", "Last used", "Expires", "Status", ""].map((t) => h("th", null, t)))),
            h("tbody", null, tokens.length ? tokens.map(row) : h("tr", null, h("td", { colspan: "7" }, emptyState("No tokens yet.")))))));
    } catch (error) {
      replace(main, emptyState("Tokens could not be loaded."));
      showError(error);
    }
  }

  function status(t: Token): string {
    if (t.revokedAt) return "revoked";
    if (t.expiresAt && Date.parse(t.expiresAt) <= Date.now()) return "expired";
    return "active";
  }

  function row(t: Token): HTMLElement {
    const s = status(t);
    return h("tr", { "data-id": String(t.id), "data-prefix": t.prefix, class: s === "active" ? null : "row-muted" },
      h("td", null, t.name, t.kind === "service" ? h("span", { class: "muted small" }, " (service)") : null),
      h("td", { class: "mono" }, t.prefix + "…"),
      h("td", { class: "small" }, t.scopes.join(" ")),
      h("td", null, t.lastUsedAt ? time(t.lastUsedAt) : "never", t.lastUsedNetwork ? h("span", { class: "muted small" }, ` from ${t.lastUsedNetwork}`) : null),
      h("td", null, t.expiresAt ? time(t.expiresAt) : "never"),
      h("td", null, pill(s, "status")),
      h("td", { class: "actions" }, s === "revoked" ? null
        : h("button", { class: "btn btn-small btn-ghost-danger", type: "button", "data-action": "revoke", onclick: () => void revoke(t) }, "Revoke")));
  }

  async function revoke(t: Token): Promise<void> {
    if (!(await confirmAction(`Revoke “${t.name}”?`, "Every request with it is refused from now on.", "Revoke", true))) return;
    try {
      await api.delete(`/api/v1/admin/tokens/${t.id}`);
      toast(`Token ${t.name} revoked`, "ok");
    } catch (error) {
      showError(error);
    }
    void load();
  }

  async function addDialog(): Promise<void> {
    const admin = state.user?.role === "admin";
    const name = h("input", { type: "text", name: "name", maxlength: "100", required: true, id: "new-token-name" });
    const days = h("input", { type: "number", name: "expiresInDays", min: "1", max: "3650", value: "90", id: "new-token-days" });
    const kind = select("kind", [["personal", "Personal"], ["service", "Service"]], "personal", undefined, "Kind");
    kind.id = "new-token-kind";
    const scopes = (Object.keys(SCOPES) as TokenScope[]).filter((s) => admin || !ADMIN_ONLY.includes(s.split(":")[0]));
    const boxes = scopes.map((s) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "scope", value: s, "data-scope": s }), " ", s));
    const errors = h("div", { class: "form-errors" });
    const dialog = h("dialog", { class: "modal", "aria-label": "New API token" });
    const form = h("form", { id: "new-token-form" },
      h("h2", null, "New API token"),
      errors,
      field("Name", name, "What it is for, e.g. “CRM sync”."),
      admin ? field("Kind", kind, "Service tokens are for machines; both act as you.") : null,
      field("Expires after (days)", days, "Empty for never."),
      h("fieldset", { class: "scopes", id: "new-token-scopes" }, h("legend", null, "Scopes"), ...boxes),
      h("div", { class: "modal-actions" },
        h("button", { class: "btn", type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { class: "btn btn-primary", type: "submit", id: "new-token-submit" }, "Create token")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = boxes.map((b) => b.querySelector("input") as HTMLInputElement).filter((i) => i.checked).map((i) => i.value);
      try {
        const created = await api.post<CreatedToken>("/api/v1/admin/tokens", {
          name: name.value.trim(), kind: admin ? kind.value : "personal", scopes: chosen,
          expiresInDays: days.value.trim() ? Number(days.value) : null,
        });
        dialog.close();
        void load();
        await showSecret(created);
      } catch (error) {
        showFormError(form, errors, error);
      }
    });
    dialog.appendChild(form);
    dialog.addEventListener("close", () => dialog.remove());
    document.body.appendChild(dialog);
    dialog.showModal();
    name.focus();
  }

  async function showSecret(created: CreatedToken): Promise<void> {
    const secret = h("input", { type: "text", readonly: true, value: created.secret, id: "new-token-secret", class: "mono", "aria-label": "Token secret" });
    const copy = h("button", {
      type: "button", class: "btn btn-small", onclick: async () => {
        try { await navigator.clipboard.writeText(secret.value); toast("Token copied", "ok"); } catch { secret.select(); }
      },
    }, "Copy");
    await modal(`Token “${created.token.name}” created`, [
      field("Secret", h("span", { class: "with-copy" }, secret, copy), "Copy it now: it is not shown again."),
    ], [{ label: "Done", value: "done", primary: true }]);
  }

  return {
    section: "tokens",
    title: "API tokens",
    render(el) { main = el; void load(); },
  };
}

export const tokensModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/tokens$/, make: tokensScreen }],
  nav: { section: "tokens", href: "/admin/tokens", label: "API tokens", icon: ["M7 14a4 4 0 1 1 3.9-5H21v3h-2v3h-3v-3h-5.1A4 4 0 0 1 7 14z"] },
};
