/**
 * `<frontdesk-reviews subject="…" item-name="…" item-type="…">`: approved reviews of a subject
 * (empty: the whole site) with the rating histogram, sorting and paging, helpful and report
 * buttons, and a write-a-review form with the inbox's spam defences (honeypot, form token,
 * proof of work). Everything visitors wrote is shown as text. The page gets schema.org
 * AggregateRating and Review JSON-LD about the item (`item-name`, default the page title).
 * A page opened from a review request's link (`#review=<token>`, the `/review` page) sends the
 * token with the review, which makes it verified and spends the link.
 */

import { ApiError, request } from "./lib/api";
import { adopt, h, randomKey } from "./lib/dom";
import { solve, type PowChallenge } from "./lib/pow";
import { jsonLd, visitorId } from "./lib/safehtml";
import { BASE_CSS } from "./lib/styles";
import type { ConsentCategory, Runtime } from "./lib/types";

export const consent: ConsentCategory = "necessary";
export const elements = ["frontdesk-reviews"];

interface Review { id: number; rating: number; title?: string | null; content: string; name: string; verified: boolean; helpful: number; reply?: string | null; createdAt: string }
interface Page { items: Review[]; total: number; page: number; perPage: number }
interface Summary { count: number; average: number | null; histogram: Record<string, number> }
interface Form { honeypotField: string; formToken: string; minFillSeconds: number; proofOfWork?: PowChallenge | null }

const T = {
  en: { reviews: "{n} reviews", avg: "{a} out of 5", stars: "{n} of 5 stars", sort: "Sort", newest: "Newest", highest: "Highest rated", lowest: "Lowest rated", helpfulSort: "Most helpful",
    prev: "Previous", next: "Next", helpful: "Helpful ({n})", report: "Report", reported: "Reported", verified: "Verified", reply: "Reply from the owner",
    write: "Write a review", rating: "Your rating", title: "Title (optional)", text: "Your review", name: "Your name", email: "Email (optional, never shown)",
    send: "Send review", sending: "Sending…", thanks: "Thank you! Your review will appear once it has been checked.", failed: "Failed. Please try again.", none: "No reviews yet.",
    linkUsed: "This review link was used already: each link writes one review.", linkExpired: "This review link has expired.", linkBad: "This review link is not valid." },
  de: { reviews: "{n} Bewertungen", avg: "{a} von 5", stars: "{n} von 5 Sternen", sort: "Sortieren", newest: "Neueste", highest: "Beste", lowest: "Schlechteste", helpfulSort: "Hilfreichste",
    prev: "Zurück", next: "Weiter", helpful: "Hilfreich ({n})", report: "Melden", reported: "Gemeldet", verified: "Verifiziert", reply: "Antwort des Inhabers",
    write: "Bewertung schreiben", rating: "Ihre Bewertung", title: "Titel (optional)", text: "Ihre Bewertung", name: "Ihr Name", email: "E-Mail (optional, nie angezeigt)",
    send: "Bewertung senden", sending: "Wird gesendet…", thanks: "Danke! Ihre Bewertung erscheint nach der Prüfung.", failed: "Fehler. Bitte erneut versuchen.", none: "Noch keine Bewertungen.",
    linkUsed: "Dieser Bewertungslink wurde schon benutzt: Jeder Link schreibt eine Bewertung.", linkExpired: "Dieser Bewertungslink ist abgelaufen.", linkBad: "Dieser Bewertungslink ist ungültig." },
};

const CSS = `
.hist{display:grid;grid-template-columns:auto 1fr auto;gap:4px 8px;align-items:center;max-width:360px}progress{width:100%}
.r{border-top:1px solid var(--ln);padding:10px 0}.s{color:#b45309;letter-spacing:2px}.m{color:var(--mu);font-size:13px}
.b{background:var(--ok);color:#fff;padding:0 6px;margin-left:6px}
.rep{border-left:3px solid var(--a);padding-left:8px;margin-top:6px}
button,select,input,textarea{border:1px solid var(--ln);border-radius:6px;background:var(--bg);padding:4px 10px}
:focus-visible{outline:3px solid var(--a);outline-offset:2px}
label{display:block;margin-top:8px}label>input:not([type=radio]),textarea{width:100%}
fieldset{border:0;padding:0;margin:8px 0}.hp{position:absolute;left:-9999px}p{margin:6px 0}`;

const fill = (s: string, n: unknown) => s.replace("{n}", String(n));
const stars = (n: number) => "★★★★★".slice(0, n) + "☆☆☆☆☆".slice(0, 5 - n);

export function mount(el: HTMLElement, rt: Runtime): void {
  const root = el.shadowRoot!;
  adopt(root, BASE_CSS + CSS);
  const lang = el.getAttribute("locale") || rt.locale(el);
  const t = T[lang.slice(0, 2) == "de" ? "de" : "en"];
  const subject = el.getAttribute("subject") || "";
  const q = (extra = "") => "subject=" + encodeURIComponent(subject) + extra;
  const box = h("div", { class: "fd", "data-theme": rt.theme(el) });
  const head = h("div"), list = h("div", { "aria-live": "polite" }), nav = h("div"), form = h("form");
  box.append(head, nav, list, form);
  root.append(box);
  let sort = "newest", page = 1;

  const summary = (s: Summary, items: Review[]) => {
    head.replaceChildren(
      h("p", null, h("strong", null, s.average == null ? t.none : t.avg.replace("{a}", String(s.average))), " · " + fill(t.reviews, s.count)),
      h("div", { class: "hist" }, ...[5, 4, 3, 2, 1].flatMap((n) => [
        h("span", { class: "s" }, stars(n)),
        h("progress", { max: Math.max(1, s.count), value: s.histogram[n] || 0, "aria-label": fill(t.stars, n) }),
        String(s.histogram[n] || 0),
      ])));
    if (!s.count) return;
    const name = el.getAttribute("item-name") || document.title;
    jsonLd("reviews-" + subject, {
      "@context": "https://schema.org",
      "@type": el.getAttribute("item-type") || (subject ? "Product" : "LocalBusiness"),
      name,
      aggregateRating: { "@type": "AggregateRating", ratingValue: s.average, reviewCount: s.count },
      review: items.map((r) => ({
        "@type": "Review", author: { "@type": "Person", name: r.name }, datePublished: r.createdAt.slice(0, 10), name: r.title || undefined, reviewBody: r.content,
        reviewRating: { "@type": "Rating", ratingValue: r.rating },
      })),
    });
  };

  const act = (b: HTMLButtonElement, path: string, done: () => void) => {
    b.disabled = true;
    request(rt, path, { body: { visitorId: visitorId() } }).catch((e) => { if (e.status != 409) throw e; }).then(done, () => (b.disabled = false));
  };

  const load = async () => {
    const [s, p] = await Promise.all([
      request<Summary>(rt, "api/v1/reviews/summary?" + q()),
      request<Page>(rt, "api/v1/reviews?" + q(`&sort=${sort}&page=${page}&perPage=10`)),
    ]);
    summary(s, p.items);
    list.replaceChildren(...p.items.map((r) => {
      const helpful = h("button", null, fill(t.helpful, r.helpful));
      helpful.onclick = () => act(helpful, `api/v1/reviews/${r.id}/votes`, () => (helpful.textContent = fill(t.helpful, r.helpful + 1)));
      const report = h("button", null, t.report);
      report.onclick = () => act(report, `api/v1/reviews/${r.id}/reports`, () => (report.textContent = t.reported));
      return h("article", { class: "r" },
        h("p", null, h("span", { class: "s", role: "img", "aria-label": fill(t.stars, r.rating) }, stars(r.rating)), " ", r.title ? h("strong", null, r.title) : null),
        h("p", null, r.content),
        h("p", { class: "m" }, r.name + " · " + r.createdAt.slice(0, 10), r.verified ? h("span", { class: "b" }, t.verified) : null),
        r.reply ? h("div", { class: "rep" }, h("p", { class: "m" }, t.reply), h("p", null, r.reply)) : null,
        h("p", null, helpful, " ", report));
    }));
    const prev = h("button", { disabled: page <= 1 }, t.prev), next = h("button", { disabled: page * p.perPage >= p.total }, t.next);
    prev.onclick = () => (page--, load());
    next.onclick = () => (page++, load());
    const select = h("select", { "aria-label": t.sort },
      ...(["newest", "highest", "lowest", "helpful"] as const).map((v) => h("option", { value: v, selected: v == sort }, v == "helpful" ? t.helpfulSort : t[v])));
    select.onchange = () => ((sort = select.value), (page = 1), load());
    nav.replaceChildren(select, " ", prev, " ", next);
  };

  const writeForm = async () => {
    const cfg = await request<Form>(rt, "api/v1/forms/review");
    const shown = Date.now();
    const pow = cfg.proofOfWork ? solve(cfg.proofOfWork) : null;
    const msg = h("p", { role: "status" });
    const send = h("button", { type: "submit" }, t.send);
    form.replaceChildren(
      h("h3", null, t.write),
      h("fieldset", null, h("legend", null, t.rating), ...[1, 2, 3, 4, 5].map((n) =>
        h("label", null, h("input", { type: "radio", name: "rating", value: n, required: true }), " " + fill(t.stars, n)))),
      h("label", null, t.title, h("input", { name: "title", maxlength: 120 })),
      h("label", null, t.text, h("textarea", { name: "content", required: true, maxlength: 5000, rows: 4 })),
      h("label", null, t.name, h("input", { name: "name", required: true, maxlength: 100 })),
      h("label", null, t.email, h("input", { type: "email", name: "email", maxlength: 254 })),
      h("input", { class: "hp", name: cfg.honeypotField, tabindex: -1, autocomplete: "off", "aria-hidden": "true" }),
      send, msg);
    form.onsubmit = async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const body: Record<string, unknown> = { rating: Number(data.get("rating")), content: data.get("content"), name: data.get("name"), subject, formToken: cfg.formToken };
      for (const k of ["title", "email", cfg.honeypotField]) if (data.get(k)) body[k] = data.get(k);
      if (rt.identity && typeof rt.identity.id == "string" && typeof rt.identity.signature == "string") body.identity = { userId: rt.identity.id, hash: rt.identity.signature };
      const link = /review=([\w-]+)/.exec(location.hash);
      if (link) body.requestToken = link[1];
      send.disabled = true;
      msg.textContent = t.sending;
      const wait = cfg.minFillSeconds * 1000 + 250 - (Date.now() - shown);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (pow) body.proofOfWork = await pow.catch(() => undefined);
      try {
        await request(rt, "api/v1/reviews", { body, headers: { "Idempotency-Key": randomKey() } });
        form.replaceChildren(h("p", { role: "status" }, t.thanks));
      } catch (err) {
        // A refused review link is said in the visitor's language, and sending again cannot help.
        const refused = err instanceof ApiError ? err.details.requestToken : undefined;
        msg.textContent = refused ? (/used/.test(refused) ? t.linkUsed : /expired/.test(refused) ? t.linkExpired : t.linkBad)
          : err instanceof ApiError && err.status == 422 ? err.message : t.failed;
        send.disabled = !!refused;
        if (err instanceof ApiError && (err.details.formToken || err.details.proofOfWork)) writeForm();
      }
    };
  };

  load().catch(() => list.replaceChildren(h("p", { role: "alert" }, t.failed)));
  if (!el.hasAttribute("no-form")) writeForm().catch(() => {});
}
