// The console shell: who is signed in, client-side routing with history.pushState, the
// navigation frame, keyboard shortcuts with their help overlay, and the light/dark theme.

import { PublicUser, api, setCsrfToken } from "./api";
import { Child, IconName, h, icon, replace } from "./dom";
import { showError } from "./ui";

/** A shortcut a screen offers: the key and what it says in the help overlay. */
export interface Shortcut {
  key: string;
  label: string;
  run: () => void;
}

/** One screen of the console. `update` lets a screen take a new URL without being rebuilt. */
export interface Screen {
  /** Nav section to highlight; null for the full-page screens (sign-in, setup). */
  section: string | null;
  title: string;
  render(main: HTMLElement): void | Promise<void>;
  update?(path: string, params: URLSearchParams): boolean;
  dispose?(): void;
  shortcuts?(): Shortcut[];
}

export type ScreenFactory = (match: RegExpMatchArray, params: URLSearchParams) => Screen;

export interface Route {
  pattern: RegExp;
  make: ScreenFactory;
  /** Reached without a session (sign-in, setup). */
  open?: boolean;
  adminOnly?: boolean;
}

/**
 * What one feature adds to the console: its screens' routes, its entry in the navigation (in
 * the order the modules are listed in `modules.ts`) and what it starts at boot (the chat socket).
 * Each screen file exports its module; `modules.ts` lists them.
 */
export interface ConsoleModule {
  routes: Route[];
  nav?: { section: string; href: string; label: string; icon: IconName; adminOnly?: boolean };
  start?(): void;
}

const modules: ConsoleModule[] = [];

/** Takes the features' routes and navigation entries, then runs their boot steps, once. */
export function startModules(list: ConsoleModule[]): void {
  for (const module of list) {
    modules.push(module);
    routes.push(...module.routes);
  }
  for (const module of list) module.start?.();
}

export const state = {
  user: null as PublicUser | null,
  /** Listeners told when sign-in state changes (the chat socket follows it). */
  sessionListeners: [] as ((user: PublicUser | null) => void)[],
};

const routes: Route[] = [];
export const SESSION_HINT = "frontdesk.session";
let current: { route: Route; screen: Screen } | null = null;
let navBadges: Record<string, HTMLElement> = {};
const badgeCounts: Record<string, number> = {};

/** Remembers the signed-in user and CSRF token, or forgets them. */
export function setSession(user: PublicUser | null, csrf = ""): void {
  state.user = user;
  // A hint (not a credential: the cookie is HttpOnly) that a session may exist, so a browser that
  // never signed in goes straight to sign-in instead of asking the server and getting a 401.
  if (user) localStorage.setItem(SESSION_HINT, "1");
  else localStorage.removeItem(SESSION_HINT);
  setCsrfToken(csrf);
  for (const listener of state.sessionListeners) listener(user);
}

/** Goes to a console path (pushState) and renders it. */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, "", path);
  else if (path !== location.pathname + location.search) history.pushState(null, "", path);
  void render();
}

/** Where a sign-in should return to: only console screens, never sign-in or setup themselves. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/admin/") || next.startsWith("//") || /^\/admin\/(signin|setup)\b/.test(next)) return "/admin/inbox";
  return next;
}

/** The session ended (401): back to sign-in, remembering where the user was. */
export function sessionEnded(): void {
  if (!state.user && location.pathname.startsWith("/admin/signin")) return;
  const here = location.pathname + location.search;
  setSession(null);
  navigate(`/admin/signin?next=${encodeURIComponent(here)}&expired=1`, { replace: true });
}

export async function render(): Promise<void> {
  const path = location.pathname.replace(/\/+$/, "") || "/admin";
  const params = new URLSearchParams(location.search);
  if (path === "/admin") return navigate("/admin/inbox", { replace: true });
  const route = routes.find((r) => r.pattern.test(path));
  if (!route) return show(notFound(), null);
  if (!route.open && !state.user) {
    return navigate(`/admin/signin?next=${encodeURIComponent(path + location.search)}`, { replace: true });
  }
  if (current && current.route === route && current.screen.update?.(path, params)) return;
  const screen = route.adminOnly && state.user?.role !== "admin" ? adminOnly() : route.make(path.match(route.pattern)!, params);
  show(screen, route);
}

function show(screen: Screen, route: Route | null): void {
  current?.screen.dispose?.();
  current = route ? { route, screen } : null;
  closeHelp();
  baseTitle = `${screen.title} · Frontdesk`;
  paintTitle();
  const app = document.getElementById("app")!;
  app.className = "";
  let main: HTMLElement;
  if (screen.section === null) {
    main = h("main", { class: "page-center", id: "main" });
    replace(app, main);
  } else {
    main = h("main", { class: "main", id: "main", tabindex: "-1" });
    replace(app, shell(screen.section), main);
  }
  Promise.resolve(screen.render(main)).catch(showError);
}

function shell(section: string): HTMLElement {
  const user = state.user!;
  const link = (href: string, name: string, label: string, ic: IconName) => {
    const badge = h("span", { class: "nav-badge", hidden: true });
    navBadges[name] = badge;
    paintBadge(name);
    return h("a", { href, class: section === name ? "nav-link active" : "nav-link", "aria-current": section === name ? "page" : null, "data-nav": name },
      icon(ic), h("span", { class: "nav-label" }, label), badge);
  };
  navBadges = {};
  return h("header", { class: "shell" },
    h("a", { class: "brand", href: "/admin/inbox", "aria-label": "Frontdesk console" }, h("span", { class: "brand-mark" }, "F"), h("span", { class: "nav-label" }, "Frontdesk")),
    h("nav", { class: "nav", "aria-label": "Sections" },
      ...modules.map(({ nav }) => (nav && (!nav.adminOnly || user.role === "admin") ? link(nav.href, nav.section, nav.label, nav.icon) : null)),
    ),
    h("div", { class: "shell-end" },
      themeButton(),
      h("button", { class: "icon-btn", type: "button", title: "Keyboard shortcuts (?)", "aria-label": "Keyboard shortcuts", onclick: () => toggleHelp() }, icon("help")),
      h("span", { class: "whoami", title: user.email }, h("span", { class: "avatar", "aria-hidden": "true" }, initials(user.name || user.email)),
        h("span", { class: "nav-label" }, user.name || user.email, h("small", null, user.role))),
      h("button", { class: "icon-btn", type: "button", id: "sign-out", title: "Sign out", "aria-label": "Sign out", onclick: signOut }, icon("out")),
    ),
  );
}

let baseTitle = "Frontdesk";
let titleCount = 0;

/** "(3) Inbox · Frontdesk": what needs attention shows in a background tab's title. */
export function setTitleCount(count: number): void {
  titleCount = count;
  paintTitle();
}

function paintTitle(): void {
  document.title = titleCount > 0 ? `(${titleCount}) ${baseTitle}` : baseTitle;
}

/** Shows a count beside a nav section (e.g. visitors waiting in the chat queue). */
export function setNavBadge(name: string, count: number): void {
  badgeCounts[name] = count;
  paintBadge(name);
}

function paintBadge(name: string): void {
  const badge = navBadges[name];
  const count = badgeCounts[name] ?? 0;
  if (!badge) return;
  badge.hidden = count <= 0;
  badge.textContent = count > 99 ? "99+" : String(count);
}

export function initials(text: string): string {
  const parts = text.replace(/@.*/, "").split(/[\s._-]+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "?") + (parts[1]?.[0] ?? "")).toUpperCase();
}

async function signOut(): Promise<void> {
  try {
    await api.signOut();
  } catch (error) {
    if ((error as any)?.status !== 401) { showError(error); return; }
  }
  setSession(null);
  navigate("/admin/signin?signedout=1");
}

function notFound(): Screen {
  return {
    section: null,
    title: "Not found",
    render(main) {
      replace(main, h("div", { class: "card narrow" }, h("h1", null, "Nothing here"),
        h("p", null, "This console address does not exist."), h("a", { href: "/admin/inbox", class: "btn btn-primary" }, "Open the inbox")));
    },
  };
}

function adminOnly(): Screen {
  return {
    section: "users",
    title: "Admins only",
    render(main) {
      replace(main, h("div", { class: "card narrow", id: "admin-only" }, h("h1", null, "Admins only"),
        h("p", null, "Only an admin can manage users. Ask an admin of this Frontdesk if you need an account changed.")));
    },
  };
}

// ---- theme --------------------------------------------------------------------------------

type Theme = "auto" | "light" | "dark";
const THEME_KEY = "frontdesk.theme";

export function applyTheme(): void {
  const theme = (localStorage.getItem(THEME_KEY) as Theme) || "auto";
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

function themeButton(): HTMLElement {
  const theme = (localStorage.getItem(THEME_KEY) as Theme) || "auto";
  const next: Record<Theme, Theme> = { auto: "light", light: "dark", dark: "auto" };
  const names: Record<Theme, string> = { auto: "Theme: follow the system", light: "Theme: light", dark: "Theme: dark" };
  const ic: Record<Theme, "auto" | "sun" | "moon"> = { auto: "auto", light: "sun", dark: "moon" };
  const button = h("button", {
    class: "icon-btn", type: "button", id: "theme-toggle", title: names[theme], "aria-label": names[theme], "data-theme-choice": theme,
    onclick: () => {
      localStorage.setItem(THEME_KEY, next[theme]);
      applyTheme();
      button.replaceWith(themeButton());
    },
  }, icon(ic[theme]));
  return button;
}

// ---- keyboard -----------------------------------------------------------------------------

let helpDialog: HTMLElement | null = null;

function closeHelp(): void {
  helpDialog?.remove();
  helpDialog = null;
}

function toggleHelp(): void {
  if (helpDialog) return closeHelp();
  const screenKeys = current?.screen.shortcuts?.() ?? [];
  const row = (key: string, label: string) => h("tr", null, h("td", null, h("kbd", null, key)), h("td", null, label));
  const rows: Child[] = [
    ...screenKeys.map((s) => row(s.key, s.label)),
    row("?", "Show or hide this help"),
    row("Esc", "Close this help or a dialog"),
    row("g i", "Go to the inbox"),
    row("g c", "Go to the chat"),
    row("g a", "Go to analytics"),
  ];
  helpDialog = h("div", { class: "help-overlay", id: "shortcut-help", role: "dialog", "aria-modal": "true", "aria-label": "Keyboard shortcuts", onclick: (e: Event) => { if (e.target === helpDialog) closeHelp(); } },
    h("div", { class: "help-card" },
      h("h2", null, "Keyboard shortcuts"),
      h("table", { class: "keys" }, h("tbody", null, rows)),
      h("button", { class: "btn", type: "button", id: "shortcut-help-close", onclick: closeHelp }, "Close")));
  document.body.appendChild(helpDialog);
  (helpDialog.querySelector("#shortcut-help-close") as HTMLElement).focus();
}

let pendingG = 0;

export function installKeyboard(): void {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && helpDialog) { closeHelp(); return; }
    const target = event.target as HTMLElement;
    if (target.closest("input, textarea, select, [contenteditable], dialog")) return;
    if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (helpDialog || !state.user) return;
    if (event.key === "g") { pendingG = Date.now(); return; }
    if (Date.now() - pendingG < 1200) {
      pendingG = 0;
      if (event.key === "i") { navigate("/admin/inbox"); return; }
      if (event.key === "c") { navigate("/admin/chat"); return; }
      if (event.key === "a") { navigate("/admin/analytics"); return; }
    }
    const shortcut = current?.screen.shortcuts?.().find((s) => s.key === event.key || s.key.split(" / ").includes(event.key));
    if (shortcut) { event.preventDefault(); shortcut.run(); }
  });
}

/** Same-origin links to console screens navigate in place. */
export function installLinkHandler(): void {
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const link = (event.target as HTMLElement).closest("a");
    if (!link || link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith("/admin")) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  window.addEventListener("popstate", () => void render());
}
