/** What the loader hands to every module it loads: where the server is and the page's settings. */

/** Consent categories a module declares, so a consent banner can gate it without changing it. */
export type ConsentCategory = "necessary" | "functional" | "analytics" | "marketing";

export type Locale = "en" | "de";
export type Theme = "light" | "dark" | "auto";

/** The loader's side of the contract with a module. */
export interface Runtime {
  /** Frontdesk's base URL with a trailing slash, taken from the loader's own `src`. */
  base: string;
  /** The site key from the loader's `data-site-key`, or "". */
  siteKey: string;
  /** The loader script's own `data-` attributes (e.g. `data-track-outbound`). */
  data: DOMStringMap;
  /** The locale for an element: its (or an ancestor's) `data-locale`, the loader's, or `<html lang>`. */
  locale(el: Element): Locale;
  /** The theme for an element: its `data-theme`, the loader's, or "auto". */
  theme(el: Element): Theme;
  /** Fires `frontdesk.on(event)` listeners and a `frontdesk:<event>` DOM event on window. */
  emit(event: string, detail?: unknown): void;
  /** The identity last passed to `frontdesk.identify()`, if any. */
  identity: Record<string, unknown> | null;
}

/** What the chat module's mount returns, so `frontdesk.open()` and friends can drive it. */
export interface ChatController {
  open(): void;
  close(): void;
  toggle(): void;
  identify(identity: Record<string, unknown>): void;
}

/** Every module exports its consent category and a mount function for its elements. */
export interface WidgetModule {
  consent: ConsentCategory;
  mount(el: HTMLElement, rt: Runtime): unknown;
}
