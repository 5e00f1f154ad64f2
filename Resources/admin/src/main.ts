// Boots the Frontdesk console: theme, the features' screens (modules.ts), the session check,
// then the first screen.

import { api, handleUnauthorized } from "./api";
import { SESSION_HINT, applyTheme, installKeyboard, installLinkHandler, render, sessionEnded, setSession, startModules } from "./app";
import { MODULES } from "./modules";

async function boot(): Promise<void> {
  applyTheme();
  installKeyboard();
  installLinkHandler();
  handleUnauthorized(sessionEnded);
  startModules(MODULES);
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
