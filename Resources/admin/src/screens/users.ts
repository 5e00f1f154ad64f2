// Users (admins only): add agents and admins, change a role, disable or enable, reset a
// password. The server refuses all of it to agents; the console also hides the section.

import { ApiError, PublicUser, api } from "../api";
import { ConsoleModule, Screen, state } from "../app";
import { h, replace } from "../dom";
import { confirmAction, emptyState, field, generatePassword, modal, pill, select, showError, showFormError, time, toast, openDialog } from "../ui";
import { Invitation, InvitationList, UserList, UserRole } from "../generated/api-types";

// Every role of the document has a label here (the type says so); agent first, the default.
const ROLE_LABELS: Record<UserRole, string> = { agent: "Agent", admin: "Admin" };
const ROLES = Object.keys(ROLE_LABELS) as UserRole[];

export function usersScreen(): Screen {
  let main: HTMLElement;

  async function load(): Promise<void> {
    try {
      const { users } = await api.get<UserList>("/api/v1/admin/users");
      const { items: invitations } = await api.get<InvitationList>("/api/v1/admin/invitations");
      const open = invitations.filter((i) => i.status === "pending" || i.status === "expired");
      replace(main,
        h("div", { class: "page-head" }, h("h1", null, "Users"),
          h("div", { class: "page-actions" },
            h("button", { class: "btn btn-primary", type: "button", id: "user-invite", onclick: () => void inviteDialog() }, "Invite by mail…"),
            h("button", { class: "btn", type: "button", id: "user-add", onclick: () => void addDialog() }, "Add user…"))),
        h("p", { class: "muted" }, "Agents answer chats and work the inbox; admins also manage users. Disabling someone or resetting their password signs them out everywhere."),
        h("div", { class: "table-wrap" },
          h("table", { class: "table", id: "users-table" },
            h("thead", null, h("tr", null, ["Name", "Email", "Role", "Status", "Added", ""].map((t) => h("th", null, t)))),
            h("tbody", null, users.length ? users.map(row) : h("tr", null, h("td", { colspan: "6" }, emptyState("No users."))))),
        h("section", { class: "card", id: "invitations" }, h("h2", null, "Invitations"),
          open.length ? h("table", { class: "table", id: "invitations-table" },
            h("thead", null, h("tr", null, ["Email", "Role", "Status", "Expires", ""].map((t) => h("th", null, t)))),
            h("tbody", null, open.map(invitationRow)))
            : h("p", { class: "muted" }, "No open invitations. Invite someone by mail: they choose their own name and password."))));
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) {
        replace(main, h("div", { class: "card narrow", id: "admin-only" }, h("h1", null, "Admins only"), h("p", null, error.message)));
        return;
      }
      replace(main, emptyState("Users could not be loaded."));
      showError(error);
    }
  }

  function row(u: PublicUser): HTMLElement {
    const self = u.id === state.user?.id;
    return h("tr", { "data-id": String(u.id), "data-email": u.email, class: u.disabled ? "row-muted" : null },
      h("td", null, u.name || "—", self ? h("span", { class: "muted small" }, " (you)") : null),
      h("td", { class: "email" }, u.email),
      h("td", null, self ? u.role : select("role", ROLES.map((r): [string, string] => [r, r]), u.role, (v) => void update(u, { role: v }, `${u.email} is now ${v === "admin" ? "an admin" : "an agent"}`), `Role of ${u.email}`)),
      h("td", null, pill(u.disabled ? "disabled" : "active", "status")),
      h("td", null, time(u.createdAt)),
      h("td", { class: "actions" },
        h("button", { class: "btn btn-small", type: "button", "data-action": "reset", onclick: () => void resetDialog(u) }, "Reset password…"),
        self ? null : u.disabled
          ? h("button", { class: "btn btn-small", type: "button", "data-action": "enable", onclick: () => void update(u, { disabled: false }, `${u.email} can sign in again`) }, "Enable")
          : h("button", { class: "btn btn-small btn-ghost-danger", type: "button", "data-action": "disable", onclick: () => void disable(u) }, "Disable")));
  }

  function invitationRow(i: Invitation): HTMLElement {
    return h("tr", { "data-invitation": String(i.id), "data-email": i.email },
      h("td", { class: "email" }, i.email), h("td", null, i.role), h("td", null, pill(i.status, "status")), h("td", null, time(i.expiresAt)),
      h("td", { class: "actions" }, h("button", { class: "btn btn-small btn-ghost-danger", type: "button", "data-action": "revoke", onclick: async () => {
        if (!(await confirmAction(`Revoke the invitation of ${i.email}?`, "The link in their mail stops working.", "Revoke", true))) return;
        try { await api.delete(`/api/v1/admin/invitations/${i.id}`); toast("Invitation revoked", "ok"); } catch (error) { showError(error); }
        void load();
      } }, "Revoke")));
  }

  async function inviteDialog(): Promise<void> {
    const email = h("input", { type: "email", name: "email", required: true, id: "invite-email", autocomplete: "off" });
    const role = select("role", ROLES.map((r): [string, string] => [r, ROLE_LABELS[r]]), "agent", undefined, "Role");
    role.id = "invite-role";
    const errors = h("div", { class: "form-errors" });
    const dialog = h("dialog", { class: "modal", "aria-label": "Invite by mail" });
    const form = h("form", { id: "invite-form" },
      h("h2", null, "Invite by mail"), errors,
      field("Email", email), field("Role", role, "They get a link that works once; they choose their own name and password."),
      h("div", { class: "modal-actions" },
        h("button", { class: "btn", type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { class: "btn btn-primary", type: "submit", id: "invite-submit" }, "Send invitation")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const invitation = await api.post<Invitation>("/api/v1/admin/invitations", { email: email.value.trim(), role: role.value });
        toast(`Invitation sent to ${invitation.email}`, "ok");
        dialog.close();
        void load();
      } catch (error) { showFormError(form, errors, error); }
    });
    openDialog(dialog, form, email);
  }

  async function update(u: PublicUser, change: Record<string, unknown>, done: string): Promise<boolean> {
    try {
      await api.patch(`/api/v1/admin/users/${u.id}`, change);
      toast(done, "ok");
      void load();
      return true;
    } catch (error) {
      showError(error);
      void load();
      return false;
    }
  }

  async function disable(u: PublicUser): Promise<void> {
    if (await confirmAction(`Disable ${u.email}?`, "They are signed out at once and cannot sign in until enabled again.", "Disable", true)) {
      await update(u, { disabled: true }, `${u.email} is disabled`);
    }
  }

  async function resetDialog(u: PublicUser): Promise<void> {
    const password = h("input", { type: "text", name: "password", value: generatePassword(), required: true, minlength: "10", id: "reset-password", autocomplete: "off", class: "mono" });
    const answer = await modal(`New password for ${u.email}`, [
      field("New password", withCopy(password), "Give it to them over a safe channel; they are signed out everywhere."),
    ], [{ label: "Cancel", value: "cancel" }, { label: "Set password", value: "set", primary: true }]);
    if (answer === "set") await update(u, { password: password.value }, `Password of ${u.email} changed`);
  }

  async function addDialog(): Promise<void> {
    const name = h("input", { type: "text", name: "name", maxlength: "200", id: "new-user-name" });
    const email = h("input", { type: "email", name: "email", required: true, id: "new-user-email" });
    const role = select("role", ROLES.map((r): [string, string] => [r, ROLE_LABELS[r]]), "agent", undefined, "Role");
    role.id = "new-user-role";
    const password = h("input", { type: "text", name: "password", value: generatePassword(), required: true, minlength: "10", id: "new-user-password", autocomplete: "off", class: "mono" });
    const errors = h("div", { class: "form-errors" });
    const dialog = h("dialog", { class: "modal", "aria-label": "Add a user" });
    const form = h("form", { id: "new-user-form" },
      h("h2", null, "Add a user"),
      errors,
      field("Name", name), field("Email", email), field("Role", role),
      field("Password", withCopy(password), "Share it with them; they can't change it themselves yet, an admin can reset it."),
      h("div", { class: "modal-actions" },
        h("button", { class: "btn", type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { class: "btn btn-primary", type: "submit", id: "new-user-submit" }, "Add user")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const user = await api.post<PublicUser>("/api/v1/admin/users", { name: name.value.trim(), email: email.value.trim(), role: role.value, password: password.value });
        toast(`${user.email} added as ${user.role}`, "ok");
        dialog.close();
        void load();
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

  /** The password input with a button that copies it. */
  function withCopy(input: HTMLInputElement): HTMLElement {
    return h("span", { class: "with-copy" }, input, h("button", {
      type: "button", class: "btn btn-small", onclick: async () => {
        try { await navigator.clipboard.writeText(input.value); toast("Password copied", "ok"); } catch { input.select(); }
      },
    }, "Copy"));
  }

  return {
    section: "users",
    title: "Users",
    render(el) { main = el; void load(); },
  };
}

export const usersModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/users$/, make: usersScreen, adminOnly: true }],
  nav: { section: "users", href: "/admin/users", label: "Users", icon: "users", adminOnly: true },
};
