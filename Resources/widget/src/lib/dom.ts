/** Small DOM helpers shared by the modules (no framework: the modules stay a few KB). */

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** Creates an element; `on…` attributes become listeners, `false`/`null` attributes are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...kids: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (typeof v == "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of kids) if (c != null && c !== false) el.append(c);
  return el;
}

const sheets = new Map<string, CSSStyleSheet>();

/**
 * Gives a shadow root its styles. Constructable stylesheets pass a strict `style-src 'self'`
 * policy (an inline <style> would not), and one sheet is shared by every element using it.
 */
export function adopt(root: ShadowRoot, css: string): void {
  if ("adoptedStyleSheets" in root && "replaceSync" in CSSStyleSheet.prototype) {
    let sheet = sheets.get(css);
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      sheets.set(css, sheet);
    }
    root.adoptedStyleSheets = [sheet];
  } else {
    root.querySelector("style")?.remove();
    root.prepend(h("style", null, css));
  }
}

/** A fresh random key, e.g. for `Idempotency-Key`. */
export function randomKey(): string {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Resolves after `ms` milliseconds. */
export const delay = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** A date and time in the visitor's locale, e.g. "26 Nov 2026, 16:00". */
export function formatTime(iso: string, locale: string): string {
  const d = new Date(iso);
  return isNaN(+d) ? iso : d.toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}
