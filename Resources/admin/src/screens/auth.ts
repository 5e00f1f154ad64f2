// Sign-in and the first-admin setup page reached from the one-time link `frontdesk serve` prints.

import { ApiError, api } from "../api";
import { ConsoleModule, Screen, navigate, safeNext, setSession, state } from "../app";
import { h, replace } from "../dom";
import { field, showFormError } from "../ui";
import { SetupStatus } from "../generated/api-types";

export function signInScreen(_m: RegExpMatchArray, params: URLSearchParams): Screen {
  return {
    section: null,
    title: "Sign in",
    async render(main) {
      const next = safeNext(params.get("next"));
      if (state.user) return navigate(next, { replace: true });
      const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true, id: "signin-email" });
      const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true, id: "signin-password" });
      const errors = h("div", { class: "form-errors" });
      const submit = h("button", { type: "submit", class: "btn btn-primary btn-wide", id: "signin-submit" }, "Sign in");
      const notice = params.get("expired") ? "Your session ended. Sign in again to carry on where you were."
        : params.get("signedout") ? "You are signed out." : null;
      const form = h("form", { class: "card auth-card", id: "signin-form", novalidate: false },
        h("div", { class: "auth-brand" }, h("span", { class: "brand-mark" }, "F"), "Frontdesk"),
        h("h1", null, "Sign in to the console"),
        notice ? h("p", { class: "notice", id: "signin-notice" }, notice) : null,
        errors,
        field("Email", email),
        field("Password", password),
        submit,
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        submit.disabled = true;
        try {
          const session = await api.signIn("/api/v1/admin/session", { email: email.value.trim(), password: password.value });
          setSession(session.user, session.csrfToken);
          navigate(next, { replace: true });
        } catch (error) {
          if (error instanceof ApiError && error.status === 429) {
            showFormError(form, errors, new ApiError(429, error.code, `Too many attempts. Try again in ${error.retryAfter ?? 60} seconds.`));
          } else {
            showFormError(form, errors, error);
          }
          password.select();
        } finally {
          submit.disabled = false;
        }
      });
      replace(main, form);
      email.focus();
    },
  };
}

export function setupScreen(): Screen {
  // Read the one-time token and take it out of the address bar (and so out of history).
  const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
  if (location.hash) history.replaceState(null, "", location.pathname);
  return {
    section: null,
    title: "Set up Frontdesk",
    async render(main) {
      const status = await api.get<SetupStatus>("/api/v1/admin/setup");
      if (!status.required) {
        replace(main, h("div", { class: "card auth-card", id: "setup-done" },
          h("h1", null, "Frontdesk is set up"),
          h("p", null, "An admin account exists already. Sign in with it, or ask its owner to add you."),
          h("a", { class: "btn btn-primary btn-wide", href: "/admin/signin" }, "Go to sign-in")));
        return;
      }
      if (!token) {
        replace(main, h("div", { class: "card auth-card", id: "setup-no-token" },
          h("h1", null, "Open the setup link"),
          h("p", null, "Use the setup link that `frontdesk serve` printed when it started; it carries a one-time token."),
          h("p", null, "Or create the first admin from the command line: frontdesk user add --role admin --email … --password-stdin")));
        return;
      }
      const name = h("input", { type: "text", name: "name", autocomplete: "name", id: "setup-name", maxlength: "200" });
      const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true, id: "setup-email" });
      const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: "10", id: "setup-password" });
      const again = h("input", { type: "password", name: "again", autocomplete: "new-password", required: true, id: "setup-again" });
      const errors = h("div", { class: "form-errors" });
      const submit = h("button", { type: "submit", class: "btn btn-primary btn-wide", id: "setup-submit" }, "Create admin account");
      const form = h("form", { class: "card auth-card", id: "setup-form" },
        h("div", { class: "auth-brand" }, h("span", { class: "brand-mark" }, "F"), "Frontdesk"),
        h("h1", null, "Create the first admin"),
        h("p", { class: "muted" }, "This account can add agents and other admins later."),
        errors,
        field("Your name", name),
        field("Email", email),
        field("Password", password, "At least 10 characters; a passphrase is best."),
        field("Password again", again),
        submit,
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (password.value !== again.value) {
          showFormError(form, errors, new ApiError(422, "mismatch", "The two passwords differ.", { again: "must match the password" }));
          return;
        }
        submit.disabled = true;
        try {
          const session = await api.signIn("/api/v1/admin/setup", { token, email: email.value.trim(), name: name.value.trim(), password: password.value });
          setSession(session.user, session.csrfToken);
          navigate("/admin/inbox", { replace: true });
        } catch (error) {
          showFormError(form, errors, error);
        } finally {
          submit.disabled = false;
        }
      });
      replace(main, form);
      name.focus();
    },
  };
}

export const authModule: ConsoleModule = {
  routes: [
    { pattern: /^\/admin\/signin$/, make: signInScreen, open: true },
    { pattern: /^\/admin\/setup$/, make: setupScreen, open: true },
  ],
};
