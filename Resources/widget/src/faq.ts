/**
 * `<frontdesk-faq category="…" locale="…">`: the site's FAQ. A search box answers as you type
 * (debounced, `GET /api/v1/faq/search`), the entries are an accordion of buttons
 * (`aria-expanded`, Enter/Space, arrow keys between questions), `#faq-<slug>` in the address
 * opens and scrolls to an entry, each answer asks "Was this helpful?", and the page gets the
 * schema.org FAQPage JSON-LD. Answers are the server's safe HTML, rebuilt from an allowlist.
 */

import { request } from "./lib/api";
import { adopt, h } from "./lib/dom";
import { jsonLd, safeFragment, visitorId } from "./lib/safehtml";
import { BASE_CSS } from "./lib/styles";
import type { ConsentCategory, Runtime } from "./lib/types";

/** Reading the FAQ needs nothing stored; the vote id is a random key, not a tracker. */
export const consent: ConsentCategory = "necessary";
export const elements = ["frontdesk-faq"];

interface Entry { id: number; slug: string; question: string; answerHtml: string; categoryId?: number | null }
interface Listing { locale: string; categories: { id: number; slug: string; name: string }[]; entries: Entry[] }
interface Hit { id: number; slug: string; questionHtml: string; snippetHtml: string }

const T = {
  en: { search: "Search the FAQ", none: "No answer found. Ask us in the chat!", results: "{n} results", helpful: "Was this helpful?", yes: "Yes", no: "No", thanks: "Thanks for your feedback!", failed: "The FAQ could not be loaded." },
  de: { search: "FAQ durchsuchen", none: "Keine Antwort gefunden. Fragen Sie uns im Chat!", results: "{n} Treffer", helpful: "War das hilfreich?", yes: "Ja", no: "Nein", thanks: "Danke für Ihr Feedback!", failed: "Die FAQ konnten nicht geladen werden." },
};

const CSS = `
.q{display:block;width:100%;text-align:left;background:none;border:0;border-top:1px solid var(--ln);padding:12px 4px;font-weight:600;cursor:pointer}
.q::after{content:"+";float:right}.q[aria-expanded=true]::after{content:"−"}
.q:focus-visible,.hit:focus-visible,input:focus-visible,.v button:focus-visible{outline:3px solid var(--a);outline-offset:2px}
.a{padding:4px 4px 12px}.a a{color:var(--a)}
input{width:100%;padding:10px;border:1px solid var(--ln);border-radius:var(--r);background:var(--bg);margin-bottom:8px}
.hit{display:block;width:100%;text-align:left;background:var(--sf);border:0;border-radius:var(--r);padding:8px;margin:4px 0;cursor:pointer}
.hit small{display:block;color:var(--mu)}mark{background:#fde68a;color:#1f2328}
.v{display:flex;gap:8px;align-items:center;color:var(--mu);font-size:14px}.v button{border:1px solid var(--ln);background:none;border-radius:6px;padding:2px 10px;cursor:pointer}
h3{margin:0}.st{color:var(--mu);font-size:14px;margin:4px 0}`;

export function mount(el: HTMLElement, rt: Runtime): void {
  const root = el.shadowRoot!;
  adopt(root, BASE_CSS + CSS);
  const attrLocale = el.getAttribute("locale");
  const lang = attrLocale || rt.locale(el);
  const t = T[lang.slice(0, 2) == "de" ? "de" : "en"];
  const category = el.getAttribute("category");
  const box = h("div", { class: "fd", "data-theme": rt.theme(el) });
  root.append(box);
  const items = new Map<string, { button: HTMLButtonElement; panel: HTMLElement; entry: Entry }>();
  const viewed = new Set<number>();

  const open = (slug: string, show: boolean, scroll = false) => {
    const item = items.get(slug);
    if (!item) return;
    item.button.setAttribute("aria-expanded", String(show));
    item.panel.hidden = !show;
    if (show) {
      if (!viewed.has(item.entry.id)) {
        viewed.add(item.entry.id);
        request(rt, `api/v1/faq/${item.entry.id}/events`, { body: { type: "view" } }).catch(() => {});
      }
      history.replaceState(history.state, "", "#faq-" + slug);
      if (scroll) {
        item.button.scrollIntoView({ block: "start" });
        item.button.focus();
      }
    }
  };
  const fromHash = () => location.hash.startsWith("#faq-") && open(decodeURIComponent(location.hash.slice(5)), true, true);

  const vote = (entry: Entry, helpful: boolean, row: HTMLElement) =>
    request(rt, `api/v1/faq/${entry.id}/votes`, { body: { visitorId: visitorId(), helpful } })
      .catch((e) => { if (e.status != 409) throw e; })
      .then(() => row.replaceChildren(t.thanks), () => {});

  // No autocomplete attribute: axe-core counts "off" as inappropriate for type=search (autocomplete-valid, serious).
  const input = h("input", { type: "search", "aria-label": t.search, placeholder: t.search });
  const status = h("p", { class: "st", role: "status", "aria-live": "polite" });
  const hits = h("div");
  let timer = 0;
  let seq = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const q = input.value.trim();
      const mine = ++seq;
      if (!q) {
        hits.replaceChildren();
        status.textContent = "";
        return;
      }
      const found = await request<{ results: Hit[] }>(rt, `api/v1/faq/search?locale=${encodeURIComponent(lang)}&q=${encodeURIComponent(q)}`).catch(() => null);
      if (!found || mine != seq) return;
      const mineOnly = found.results.filter((r) => items.has(r.slug));
      status.textContent = mineOnly.length ? t.results.replace("{n}", String(mineOnly.length)) : t.none;
      hits.replaceChildren(...mineOnly.map((r) => {
        const b = h("button", { type: "button", class: "hit" });
        b.append(safeFragment(r.questionHtml), h("small", null, safeFragment(r.snippetHtml)));
        b.onclick = () => open(r.slug, true, true);
        return b;
      }));
    }, 200);
  });

  request<Listing>(rt, `api/v1/faq?locale=${encodeURIComponent(lang)}` + (category ? "&category=" + encodeURIComponent(category) : ""))
    .then((listing) => {
      const list = h("div");
      for (const entry of listing.entries) {
        const qid = "q-" + entry.slug, pid = "faq-" + entry.slug;
        const button = h("button", { type: "button", class: "q", id: qid, "aria-expanded": "false", "aria-controls": pid }, entry.question);
        const row = h("div", { class: "v" }, t.helpful);
        const yes = h("button", { type: "button" }, t.yes), no = h("button", { type: "button" }, t.no);
        yes.onclick = () => vote(entry, true, row);
        no.onclick = () => vote(entry, false, row);
        row.append(yes, no);
        const panel = h("div", { class: "a", id: pid, role: "region", "aria-labelledby": qid, hidden: true }, safeFragment(entry.answerHtml), row);
        button.onclick = () => open(entry.slug, panel.hidden);
        button.onkeydown = (e: KeyboardEvent) => {
          const all = [...items.values()].map((i) => i.button);
          const at = all.indexOf(button);
          const to = e.key == "ArrowDown" ? at + 1 : e.key == "ArrowUp" ? at - 1 : e.key == "Home" ? 0 : e.key == "End" ? all.length - 1 : -2;
          if (to > -2 && all[(to + all.length) % all.length]) {
            e.preventDefault();
            all[(to + all.length) % all.length].focus();
          }
        };
        items.set(entry.slug, { button, panel, entry });
        list.append(h("h3", null, button), panel);
      }
      box.append(input, status, hits, list);
      jsonLd("faq" + (category ? "-" + category : ""), {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        mainEntity: listing.entries.map((e) => ({ "@type": "Question", name: e.question, acceptedAnswer: { "@type": "Answer", text: e.answerHtml } })),
      });
      fromHash();
      window.addEventListener("hashchange", fromHash);
    })
    .catch(() => box.replaceChildren(h("p", { role: "alert" }, t.failed)));
}
