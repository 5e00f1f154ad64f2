/**
 * The chat bubble's look, shared by the loader (which draws the bubble before the chat module is
 * loaded) and the chat module (which takes the same button over), so nothing moves on load.
 */

export const BUBBLE_CSS =
  `:host{all:initial!important;display:block!important}` +
  `.bubble{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;display:flex;align-items:center;justify-content:center;` +
  `background:var(--frontdesk-accent,#1d4ed8);color:var(--frontdesk-on-accent,#fff);cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.3)}` +
  `.bubble svg{width:28px;height:28px;fill:currentColor}` +
  `.bubble:focus-visible{outline:3px solid var(--frontdesk-accent,#1d4ed8);outline-offset:3px}`;

/** A speech-bubble icon (decorative: the button carries the label). */
export const BUBBLE_ICON = `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>`;
