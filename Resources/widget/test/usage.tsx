// Type-checked by build.sh against frontdesk.d.ts: how a site's TypeScript (plain or JSX) uses the widget.
/// <reference path="../frontdesk.d.ts" />

export function ContactPage() {
  return (
    <section>
      <frontdesk-contact-form form="quote" data-theme="light" data-locale="de"></frontdesk-contact-form>
      <frontdesk-newsletter ask-name=""></frontdesk-newsletter>
      <frontdesk-ticket-form className="wide"></frontdesk-ticket-form>
      <frontdesk-ticket ticket-id={7} token="abc"></frontdesk-ticket>
      <frontdesk-chat open></frontdesk-chat>
    </section>
  );
}

export function wire(user: { id: string; hash: string }) {
  window.frontdesk.identify({ userId: user.id, hash: user.hash, email: "ada@example.com" });
  const off = window.frontdesk.on("unread", (count) => document.title = `(${count.toFixed(0)}) Shop`);
  window.frontdesk.on("submit", (detail) => console.log(detail.kind, detail.result));
  window.frontdesk.track("signup", { plan: "pro" });
  window.frontdesk.track("video: played", { seconds: 12, autoplay: false });
  window.frontdesk.trackEngagement("video", 12_000);
  if (window.frontdesk.consent?.analytics) console.log("counted as a returning visitor");
  const attributes: FrontdeskScriptAttributes = { "data-track-outbound": "", "data-respect-dnt": "off" };
  console.log(attributes);
  if (!window.frontdesk.isOpen) window.frontdesk.open();
  off();
  document.querySelector("frontdesk-chat")?.addEventListener("toggle", () => undefined);
}

declare global {
  namespace JSX {
    // A minimal JSX runtime for the check (a real project gets these from React's types).
    interface Element {}
    interface ElementChildrenAttribute { children: {} }
    interface IntrinsicElements { section: { children?: unknown } }
  }
}
