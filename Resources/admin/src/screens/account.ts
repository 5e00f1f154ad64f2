// Your account: display name, password (changing it signs you out everywhere else), your
// active sessions with the network each signed in from, and "sign out everywhere".

import { AdminSession, NotificationPreferences, OwnSession, OwnSessionList, PublicUser } from "../generated/api-types";
import { notificationPreferences, setNotificationPreferences } from "./chat";
import { api } from "../api";
import { ConsoleModule, Screen, sessionEnded, setSession, state } from "../app";
import { h, replace } from "../dom";
import { confirmAction, field, showError, showFormError, time, toast } from "../ui";

export function accountScreen(): Screen {
  let main: HTMLElement;
  const sessionsBox = h("div", { id: "account-sessions" });

  function render(): void {
    const name = h("input", { type: "text", name: "name", maxlength: "200", id: "account-name", value: state.user?.name ?? "", autocomplete: "name" });
    const nameErrors = h("div", { class: "form-errors" });
    const nameForm = h("form", { id: "account-name-form", class: "card" },
      h("h2", null, "Profile"), nameErrors, field("Name", name, "Shown to visitors in chat and in ticket replies."),
      h("button", { class: "btn btn-primary", type: "submit", id: "account-name-save" }, "Save name"));
    nameForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const user = await api.patch<PublicUser>("/api/v1/admin/account", { name: name.value.trim() });
        state.user = user;
        toast("Name saved", "ok");
      } catch (error) { showFormError(nameForm, nameErrors, error); }
    });

    const current = h("input", { type: "password", name: "currentPassword", required: true, id: "account-current-password", autocomplete: "current-password" });
    const next = h("input", { type: "password", name: "newPassword", required: true, minlength: "10", id: "account-new-password", autocomplete: "new-password" });
    const pwErrors = h("div", { class: "form-errors" });
    const pwForm = h("form", { id: "account-password-form", class: "card" },
      h("h2", null, "Password"), pwErrors, field("Current password", current), field("New password", next, "At least 10 characters. Every other session of yours ends."),
      h("button", { class: "btn btn-primary", type: "submit", id: "account-password-save" }, "Change password"));
    pwForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const session = await api.renewSession<AdminSession>("/api/v1/admin/account/password", { currentPassword: current.value, newPassword: next.value });
        setSession(session.user, session.csrfToken);
        current.value = ""; next.value = "";
        toast("Password changed; your other sessions have ended", "ok");
        void loadSessions();
      } catch (error) { showFormError(pwForm, pwErrors, error); }
    });

    const prefsBox = h("section", { class: "card", id: "account-notifications" }, h("h2", null, "Notifications"), h("p", { class: "muted" }, "Loading…"));
    void notificationPreferences().then((prefs) => {
      const labels: [keyof NotificationPreferences, string][] = [
        ["sound", "Play a sound for new chats and visitor messages"],
        ["desktopNewChats", "Desktop notification when a new chat waits"],
        ["desktopMyMessages", "Desktop notification for visitor messages in my chats"],
      ];
      replace(prefsBox, h("h2", null, "Notifications"), h("p", { class: "muted" }, "Kept with your account: every browser you sign in with follows them."),
        labels.map(([key, label]) => h("label", { class: "check" }, h("input", {
          type: "checkbox", name: key, id: `pref-${key}`, checked: prefs[key], onchange: async (e: Event) => {
            const input = e.target as HTMLInputElement;
            try {
              const saved = await api.patch<NotificationPreferences>("/api/v1/admin/account/notifications", { [key]: input.checked });
              setNotificationPreferences(saved);
              toast("Notification preferences saved", "ok");
            } catch (error) { input.checked = !input.checked; showError(error); }
          },
        }), " ", label)));
    }, showError);

    replace(main, h("div", { class: "page-head" }, h("h1", null, "Your account")), nameForm, prefsBox, pwForm,
      h("section", { class: "card" }, h("h2", null, "Sessions"),
        h("p", { class: "muted" }, "Where you are signed in to the console."), sessionsBox,
        h("button", { class: "btn btn-ghost-danger", type: "button", id: "account-sign-out-everywhere", onclick: () => void everywhere() }, "Sign out everywhere")));
    void loadSessions();
  }

  async function loadSessions(): Promise<void> {
    try {
      const { items } = await api.get<OwnSessionList>("/api/v1/admin/account/sessions");
      replace(sessionsBox, h("table", { class: "table", id: "sessions-table" },
        h("thead", null, h("tr", null, ["Signed in", "Last used", "Network", ""].map((t) => h("th", null, t)))),
        h("tbody", null, items.map(row))));
    } catch (error) { showError(error); }
  }

  function row(s: OwnSession): HTMLElement {
    return h("tr", { "data-session": s.id, class: s.current ? "current" : null },
      h("td", null, time(s.createdAt), s.current ? h("span", { class: "muted small" }, " (this browser)") : null),
      h("td", null, time(s.lastUsedAt)), h("td", { class: "mono" }, s.network ?? "—"),
      h("td", { class: "actions" }, s.current ? null : h("button", {
        class: "btn btn-small", type: "button", "data-action": "end", onclick: async () => {
          try { await api.delete(`/api/v1/admin/account/sessions/${s.id}`); toast("Session ended", "ok"); } catch (error) { showError(error); }
          void loadSessions();
        },
      }, "End")));
  }

  async function everywhere(): Promise<void> {
    if (!(await confirmAction("Sign out everywhere?", "Every console session of yours ends, this one too.", "Sign out everywhere", true))) return;
    try { await api.delete("/api/v1/admin/account/sessions"); } catch (error) { showError(error); return; }
    sessionEnded();
  }

  return { section: "account", title: "Your account", render(el) { main = el; render(); } };
}

export const accountModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/account$/, make: accountScreen }],
  nav: { section: "account", href: "/admin/account", label: "Your account", icon: ["M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z", "M4 21c0-4 3.6-7 8-7s8 3 8 7"] },
};
