/**
 * TypeScript declarations for Frontdesk's visitor widget, for the sites that embed it.
 *
 * Copy this file into your project (it is also served at `/widget/frontdesk.d.ts` by your
 * Frontdesk server) and reference it, e.g. `/// <reference path="./frontdesk.d.ts" />` or list it
 * in tsconfig's "include". It declares `window.frontdesk` and the custom elements for the DOM and
 * for JSX (React / Next.js).
 */

export {};

declare global {
  /** The consent categories modules declare (a consent banner gates all but "necessary"). */
  type FrontdeskConsentCategory = "necessary" | "functional" | "analytics" | "marketing";

  /** A custom event's name: 1–64 of A-Z a-z 0-9 _ . : / - and space. */
  type FrontdeskEventName = string;

  /**
   * The tracker is configured on the loader script, e.g.
   * `<script src="…/widget.js" data-track-outbound data-track-downloads async></script>`:
   * `data-track="off"` (no tracking, no request), `data-respect-dnt="off"` (count visitors whose
   * browser sends Do-Not-Track / Global Privacy Control; default: they are not counted),
   * `data-track-outbound` and `data-track-downloads` (also allowed on any element around the
   * links), and `data-404` on `<html>` or `<body>` of a not-found page.
   */
  interface FrontdeskScriptAttributes {
    "data-site-key"?: string;
    "data-track"?: "off";
    "data-respect-dnt"?: "off";
    "data-track-outbound"?: "";
    "data-track-downloads"?: "";
  }

  /** The site's signed identity for the chat: `hash` is HMAC-SHA256(chat.identity_secret, userId), hex, made on your server. */
  interface FrontdeskIdentity {
    userId: string;
    hash: string;
    email?: string;
    name?: string;
  }

  interface FrontdeskEvents {
    /** The chat panel opened or closed (`true` when open). */
    toggle: boolean;
    open: undefined;
    close: undefined;
    /** An agent's message arrived. */
    message: { id: number; text: string; senderName: string | null };
    /** Unread agent messages (shown on the bubble while the panel is closed). */
    unread: number;
    /** An inline form was accepted by the server. */
    submit: { form: string; kind: "contact" | "newsletter" | "ticket"; result: Record<string, unknown> };
    /** The visitor's consent changed (with `data-consent="on"`): the granted categories. */
    consent: FrontdeskConsent;
  }

  /** The granted categories (with `data-consent="on"`); `open()` shows the banner again. */
  type FrontdeskConsent = { [K in FrontdeskConsentCategory]?: boolean } & { open(): void };

  /** `window.frontdesk`, created by /widget.js. Every method is safe to call before it loads, through the queue stub. */
  interface Frontdesk {
    readonly version: string;
    /** Whether the chat panel is open. */
    readonly isOpen: boolean;
    /** Opens the chat panel (loads the chat module on first use). */
    open(): void;
    /** Closes the chat panel. */
    close(): void;
    /** Opens or closes the chat panel. */
    toggle(): void;
    /** Links the chat to a signed-in user of your site. */
    identify(identity: FrontdeskIdentity): void;
    /** Subscribes to an event; returns a function that unsubscribes. Each event is also dispatched on `window` as `frontdesk:<event>`. */
    on<K extends keyof FrontdeskEvents>(event: K, listener: (detail: FrontdeskEvents[K]) => void): () => void;
    /**
     * Records a custom event (calls made before the tracker loaded are replayed). `name`: 1–64 of
     * A-Z a-z 0-9 _ . : / - and space (others are refused with a console warning); `props`: the
     * first 16 keys of 1–64 characters whose values are strings (cut to 256), numbers or booleans.
     */
    track(name: FrontdeskEventName, props?: Record<string, string | number | boolean>): void;
    /** Records time spent on something of your own (a video, a form), `durationMs` up to a day. */
    trackEngagement(type: FrontdeskEventName, durationMs: number): void;
    /** With `data-consent="on"`: what the visitor granted (`null` without a consent banner). */
    readonly consent: FrontdeskConsent | null;
  }

  /** The snippet stub's shape before the loader arrives: calls queued as [method, ...args]. */
  interface FrontdeskStub {
    q: unknown[][];
  }

  interface Window {
    frontdesk: Frontdesk & Partial<FrontdeskStub>;
  }

  /** Attributes every Frontdesk element understands. */
  interface FrontdeskElementAttributes {
    /** "light", "dark" or "auto" (follows the visitor's system); default: the loader's data-theme, else auto. */
    "data-theme"?: "light" | "dark" | "auto";
    /** "en" or "de"; default: the loader's data-locale, else `<html lang>`. */
    "data-locale"?: string;
  }

  interface FrontdeskContactFormAttributes extends FrontdeskElementAttributes {
    /** A form configured on the server as [forms.<id>] (extra fields); default "contact". */
    form?: string;
  }

  interface FrontdeskNewsletterAttributes extends FrontdeskElementAttributes {
    /** Present: also ask for the subscriber's name. */
    "ask-name"?: boolean | "";
  }

  interface FrontdeskTicketAttributes extends FrontdeskElementAttributes {
    /** Default: `?id=` of the page address. */
    "ticket-id"?: string | number;
    /** Default: `#token=` of the page address (the magic link). */
    token?: string;
  }

  interface FrontdeskFAQAttributes extends FrontdeskElementAttributes {
    /** Only this category (its slug in the console); default: every category. */
    category?: string;
    /** The FAQ locale, e.g. "de" or "pt-BR"; default: data-locale or `<html lang>` (en or de). */
    locale?: string;
  }

  interface FrontdeskBannerAttributes extends FrontdeskElementAttributes {
    /** The place's name: inline notification banners with this slot show here (the element keeps its height). */
    slot?: string;
  }

  interface FrontdeskReviewsAttributes extends FrontdeskElementAttributes {
    /** What is reviewed, e.g. "product:blue-mug"; default: the whole site. */
    subject?: string;
    /** The reviewed item's name in the JSON-LD; default: the page title. */
    "item-name"?: string;
    /** The schema.org type of the item; default Product with a subject, else LocalBusiness. */
    "item-type"?: string;
    /** Present: list only, no write-a-review form. */
    "no-form"?: boolean | "";
    /** "en" or "de" for the texts; default: data-locale or `<html lang>`. */
    locale?: string;
  }

  interface FrontdeskPrivacyRequestAttributes extends FrontdeskElementAttributes {
    /** The request preselected: "access" (a copy of the data, the default) or "erasure". */
    kind?: "access" | "erasure";
    /** "en" or "de" for the texts; default: data-locale or `<html lang>`. */
    locale?: string;
  }

  interface FrontdeskChatAttributes extends FrontdeskElementAttributes {
    /** Present: open the panel as soon as the page loads. */
    open?: boolean | "";
  }

  interface HTMLElementTagNameMap {
    "frontdesk-chat": HTMLElement;
    "frontdesk-contact-form": HTMLElement;
    "frontdesk-newsletter": HTMLElement;
    "frontdesk-ticket-form": HTMLElement;
    "frontdesk-ticket": HTMLElement;
    "frontdesk-cookie-declaration": HTMLElement;
    "frontdesk-consent-settings": HTMLElement;
    "frontdesk-faq": HTMLElement;
    "frontdesk-reviews": HTMLElement;
    "frontdesk-banner": HTMLElement;
    "frontdesk-privacy-request": HTMLElement;
  }

  interface HTMLElementEventMap {
    /** On `<frontdesk-chat>`: the panel opened or closed. */
    toggle: Event;
  }

  /** JSX (React, Next.js, Preact, Solid): the custom elements with their attributes. */
  namespace JSX {
    interface IntrinsicElements {
      "frontdesk-chat": FrontdeskChatAttributes & FrontdeskJSXBase;
      "frontdesk-contact-form": FrontdeskContactFormAttributes & FrontdeskJSXBase;
      "frontdesk-newsletter": FrontdeskNewsletterAttributes & FrontdeskJSXBase;
      "frontdesk-ticket-form": FrontdeskElementAttributes & FrontdeskJSXBase;
      "frontdesk-ticket": FrontdeskTicketAttributes & FrontdeskJSXBase;
      "frontdesk-cookie-declaration": FrontdeskElementAttributes & FrontdeskJSXBase;
      "frontdesk-consent-settings": FrontdeskElementAttributes & FrontdeskJSXBase;
      "frontdesk-faq": FrontdeskFAQAttributes & FrontdeskJSXBase;
      "frontdesk-reviews": FrontdeskReviewsAttributes & FrontdeskJSXBase;
      "frontdesk-banner": FrontdeskBannerAttributes & FrontdeskJSXBase;
      "frontdesk-privacy-request": FrontdeskPrivacyRequestAttributes & FrontdeskJSXBase;
    }
  }

  /** What JSX passes to any element: key, ref, id, class and style. */
  interface FrontdeskJSXBase {
    key?: string | number;
    ref?: unknown;
    id?: string;
    class?: string;
    className?: string;
    style?: unknown;
    children?: unknown;
  }
}
