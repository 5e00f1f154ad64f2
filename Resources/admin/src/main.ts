// Boots the Frontdesk console: theme, routes, the session check, then the first screen.

import { api, handleUnauthorized } from "./api";
import { SESSION_HINT, addRoute, applyTheme, installKeyboard, installLinkHandler, render, sessionEnded, setSession } from "./app";
import { signInScreen, setupScreen } from "./screens/auth";
import { chatScreen, startChat } from "./screens/chat";
import { inboxScreen } from "./screens/inbox";
import { outboxScreen } from "./screens/outbox";
import { subscribersScreen } from "./screens/subscribers";
import { usersScreen } from "./screens/users";

addRoute(/^\/admin\/signin$/, signInScreen, { open: true });
addRoute(/^\/admin\/setup$/, setupScreen, { open: true });
addRoute(/^\/admin\/chat(?:\/(\d+))?$/, chatScreen);
addRoute(/^\/admin\/inbox(?:\/(ticket|contact)\/(\d+))?$/, inboxScreen);
addRoute(/^\/admin\/subscribers$/, subscribersScreen);
addRoute(/^\/admin\/outbox$/, outboxScreen);
addRoute(/^\/admin\/users$/, usersScreen, { adminOnly: true });

async function boot(): Promise<void> {
  applyTheme();
  installKeyboard();
  installLinkHandler();
  handleUnauthorized(sessionEnded);
  startChat();
  if (!location.pathname.startsWith("/admin/setup") && localStorage.getItem(SESSION_HINT)) {
    try {
      const session = await api.session();
      setSession(session.user, session.csrfToken);
    } catch {
      setSession(null);
    }
  }
  await render();
}

void boot();
