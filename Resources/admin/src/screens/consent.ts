// Cookie consent: the banner editor with a live preview and publish (a new version), the
// proof-of-consent log searched by consent id and date, the statistics chart (SVG, no library)
// and the export of the log as CSV or JSON.

import { api, withQuery } from "../api";
import { ConsoleModule, Screen } from "../app";
import { h, replace } from "../dom";
import { emptyState, field, pager, select, showError, time, toast } from "../ui";
import type { ConsentBannerState, ConsentConfiguration, ConsentRecordPage, ConsentService, ConsentStatistics, ConsentTexts } from "../generated/api-types";

const LOCALES = ["en", "de", "fr", "es", "it", "nl"] as const;
type Locale = (typeof LOCALES)[number];
const CATEGORIES = ["functional", "analytics", "marketing"] as const;
const TEXT_FIELDS: [keyof ConsentTexts, string][] = [
  ["title", "Title"], ["body", "Text"], ["acceptAll", "Accept all"], ["rejectAll", "Reject all"], ["customize", "Customize"],
  ["save", "Save choice"], ["privacyLink", "Privacy link"], ["gpcNotice", "Global Privacy Control notice"],
];
const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A stacked bar per day: accepted all, custom, rejected all. */
function chart(stats: ConsentStatistics): Element {
  const days = new Map<string, { a: number; c: number; r: number }>();
  for (const row of stats.items) {
    const d = days.get(row.day) ?? { a: 0, c: 0, r: 0 };
    d.a += row.acceptAll; d.c += row.custom; d.r += row.rejectAll;
    days.set(row.day, d);
  }
  const entries = [...days.entries()];
  const max = Math.max(1, ...entries.map(([, d]) => d.a + d.c + d.r));
  const width = Math.max(320, entries.length * 28 + 40), height = 180;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height + 30}`, class: "consent-chart", role: "img", "aria-label": "Consent choices per day" });
  entries.forEach(([day, d], i) => {
    let y = height;
    for (const [value, cls, label] of [[d.a, "bar-accept", "accepted all"], [d.c, "bar-custom", "custom"], [d.r, "bar-reject", "rejected all"]] as const) {
      const hgt = (value / max) * (height - 10);
      y -= hgt;
      const rect = svg("rect", { x: 30 + i * 28, y, width: 20, height: hgt, class: cls });
      rect.appendChild(svg("title", {}, `${day}: ${value} ${label}`));
      root.appendChild(rect);
    }
    if (entries.length <= 14 || i % Math.ceil(entries.length / 14) === 0) root.appendChild(svg("text", { x: 30 + i * 28, y: height + 18, class: "chart-label" }, day.slice(5)));
  });
  root.appendChild(svg("text", { x: 0, y: 12, class: "chart-label" }, String(max)));
  return root;
}

export function consentScreen(_m: RegExpMatchArray, params: URLSearchParams): Screen {
  let main: HTMLElement;
  let state: ConsentBannerState;
  let draft: ConsentConfiguration;
  let locale: Locale = "en";
  const filter = { consentId: params.get("consentId") ?? "", from: params.get("from") ?? "", to: params.get("to") ?? "" };
  let page = 1;
  const preview = h("div", { class: "consent-preview", id: "consent-preview", "aria-label": "Preview" });
  const logBox = h("div", { id: "consent-log" });
  const statsBox = h("div", { id: "consent-stats" });
  const editorBox = h("div", { id: "consent-editor" });

  function renderPreview(): void {
    const t = draft.texts[locale] ?? state.defaults.texts[locale]!;
    replace(preview, h("div", { class: `consent-preview-banner pos-${draft.position}` },
      h("strong", null, t.title), h("p", null, t.body), h("a", { href: draft.privacyPolicyURL, target: "_blank", rel: "noopener" }, t.privacyLink),
      h("div", { class: "consent-preview-actions" },
        h("span", { class: "consent-preview-btn" }, t.acceptAll), h("span", { class: "consent-preview-btn" }, t.rejectAll),
        h("span", { class: "consent-preview-link" }, t.customize))));
  }

  function textsFor(l: Locale): ConsentTexts {
    if (!draft.texts[l]) draft.texts[l] = JSON.parse(JSON.stringify(state.defaults.texts[l] ?? state.published.configuration.texts[l]));
    return draft.texts[l]!;
  }

  function serviceRow(s: ConsentService, index: number): HTMLElement {
    const input = (key: "id" | "name" | "provider" | "purpose" | "retention", label: string) =>
      h("input", { value: s[key], "aria-label": `${label} of service ${index + 1}`, oninput: (e: Event) => { s[key] = (e.target as HTMLInputElement).value; } });
    return h("tr", null,
      h("td", null, input("id", "Id")), h("td", null, input("name", "Name")),
      h("td", null, select(`category-${index}`, [["necessary", "necessary"], ...CATEGORIES.map((c): [string, string] => [c, c])], s.category,
        (v) => { s.category = v as ConsentService["category"]; }, `Category of service ${index + 1}`)),
      h("td", null, input("provider", "Provider")), h("td", null, input("purpose", "Purpose")),
      h("td", null, h("input", { value: s.storage.join(", "), "aria-label": `Storage of service ${index + 1}`,
        oninput: (e: Event) => { s.storage = (e.target as HTMLInputElement).value.split(",").map((x) => x.trim()).filter(Boolean); } })),
      h("td", null, input("retention", "Retention")),
      h("td", null, h("button", { class: "btn btn-small", type: "button", onclick: () => { draft.services.splice(index, 1); renderEditor(); } }, "Remove")));
  }

  function renderEditor(): void {
    const t = textsFor(locale);
    const v = state.published;
    replace(editorBox,
      h("p", { class: "muted" }, `Published: version ${v.version} (${v.source}), asks again everyone who consented before version ${v.promptSince}. `,
        state.draftSavedAt ? h("span", null, "Draft saved ", time(state.draftSavedAt), ".") : null),
      h("div", { class: "consent-editor-grid" },
        h("div", null,
          field("Position", select("position", [["bar", "Bottom bar"], ["box", "Centred box"], ["corner", "Corner"]], draft.position,
            (value) => { draft.position = value as ConsentConfiguration["position"]; renderPreview(); })),
          field("Privacy policy", h("input", { value: draft.privacyPolicyURL, name: "privacyPolicyURL", oninput: (e: Event) => { draft.privacyPolicyURL = (e.target as HTMLInputElement).value; renderPreview(); } })),
          h("fieldset", { class: "field" }, h("legend", null, "Categories offered (necessary is always on)"),
            CATEGORIES.map((c) => h("label", { class: "check" }, h("input", { type: "checkbox", name: `category-${c}`, checked: draft.categories.includes(c),
              onchange: (e: Event) => { draft.categories = (e.target as HTMLInputElement).checked ? [...draft.categories, c] : draft.categories.filter((x) => x !== c); } }), " " + c))),
          h("label", { class: "check" }, h("input", { type: "checkbox", name: "gpcRefusesAnalytics", checked: draft.gpcRefusesAnalytics,
            onchange: (e: Event) => { draft.gpcRefusesAnalytics = (e.target as HTMLInputElement).checked; } }), " Global Privacy Control also refuses analytics"),
          field("Google Consent Mode", select("consentMode", [["auto", "Auto"], ["on", "On"], ["off", "Off"]], draft.consentMode,
            (value) => { draft.consentMode = value as ConsentConfiguration["consentMode"]; })),
          field("Texts in", select("locale", LOCALES.map((l): [string, string] => [l, l]), locale, (value) => { locale = value as Locale; renderEditor(); })),
          TEXT_FIELDS.map(([key, label]) => field(label, key === "body"
            ? h("textarea", { name: `text-${key}`, rows: 4, value: String(t[key]), oninput: (e: Event) => { (t as any)[key] = (e.target as HTMLTextAreaElement).value; renderPreview(); } })
            : h("input", { name: `text-${key}`, value: String(t[key]), oninput: (e: Event) => { (t as any)[key] = (e.target as HTMLInputElement).value; renderPreview(); } })))),
        h("div", null, h("h2", null, "Preview"), preview)),
      h("h2", null, "Services"),
      h("div", { class: "table-wrap" }, h("table", { class: "table", id: "consent-services" },
        h("thead", null, h("tr", null, ["Id", "Name", "Category", "Provider", "Purpose", "Storage", "Retention", ""].map((x) => h("th", null, x)))),
        h("tbody", null, draft.services.map(serviceRow)))),
      h("div", { class: "page-actions" },
        h("button", { class: "btn", type: "button", onclick: () => { draft.services.push({ id: "", name: "", category: "functional", provider: "", purpose: "", storage: [], retention: "" }); renderEditor(); } }, "Add service"),
        h("button", { class: "btn", type: "button", id: "consent-save-draft", onclick: () => void saveDraft() }, "Save draft"),
        h("button", { class: "btn btn-primary", type: "button", id: "consent-publish", onclick: () => void publish() }, "Publish")));
    renderPreview();
  }

  async function saveDraft(): Promise<void> {
    try {
      await api.put("/api/v1/admin/consent/draft", draft);
      toast("Draft saved", "ok");
    } catch (error) { showError(error); }
  }

  async function publish(): Promise<void> {
    try {
      const v = await api.post<{ version: number; promptSince: number }>("/api/v1/admin/consent/versions", draft);
      toast(v.promptSince === v.version ? `Version ${v.version} published: every visitor is asked again` : `Version ${v.version} published`, "ok");
      await loadBanner();
    } catch (error) { showError(error); }
  }

  async function loadBanner(): Promise<void> {
    state = await api.get<ConsentBannerState>("/api/v1/admin/consent/banner");
    draft = JSON.parse(JSON.stringify(state.draft ?? state.published.configuration));
    renderEditor();
  }

  const query = () => ({ consentId: filter.consentId, from: filter.from, to: filter.to });

  async function loadLog(): Promise<void> {
    try {
      const r = await api.get<ConsentRecordPage>("/api/v1/admin/consent/records", { ...query(), page, perPage: 25 });
      replace(logBox,
        h("div", { class: "table-wrap" }, h("table", { class: "table", id: "consent-records" },
          h("thead", null, h("tr", null, ["Time", "Consent id", "Action", "Granted", "Denied", "Version", "Locale", "Page", "Network", "Browser", "GPC"].map((x) => h("th", null, x)))),
          h("tbody", null, r.items.length ? r.items.map((row) => h("tr", null, h("td", null, time(row.createdAt)), h("td", { class: "mono small" }, row.consentId),
            h("td", null, row.action), h("td", null, row.granted.join(", ")), h("td", null, row.denied.join(", ")), h("td", null, String(row.version)),
            h("td", null, row.locale), h("td", null, row.pagePath), h("td", { class: "mono small" }, row.clientNetwork), h("td", null, row.browserFamily),
            h("td", null, row.gpc ? "yes" : "no")))
            : h("tr", null, h("td", { colspan: "11" }, emptyState("No consent records match.")))))),
        h("div", { class: "list-foot" }, pager(page, 25, r.total, (p) => { page = p; void loadLog(); })));
    } catch (error) { showError(error); }
  }

  async function loadStats(): Promise<void> {
    try {
      const stats = await api.get<ConsentStatistics>("/api/v1/admin/consent/stats", { from: filter.from, to: filter.to });
      const totals = stats.items.reduce((t, r) => ({ a: t.a + r.acceptAll, r: t.r + r.rejectAll, c: t.c + r.custom }), { a: 0, r: 0, c: 0 });
      const all = totals.a + totals.r + totals.c;
      const pct = (n: number) => (all ? `${Math.round((n / all) * 100)} %` : "—");
      replace(statsBox,
        h("p", { id: "consent-rates" }, `Accepted all ${pct(totals.a)} · custom ${pct(totals.c)} · rejected all ${pct(totals.r)} of ${all} choices`),
        stats.items.length ? chart(stats) : emptyState("No choices in this range."),
        h("div", { class: "table-wrap" }, h("table", { class: "table", id: "consent-stats-table" },
          h("thead", null, h("tr", null, ["Day", "Version", "Accept all", "Reject all", "Custom", "Withdrawn", "Expired"].map((x) => h("th", null, x)))),
          h("tbody", null, stats.items.map((r) => h("tr", null, h("td", null, r.day), h("td", null, String(r.version)), h("td", null, String(r.acceptAll)),
            h("td", null, String(r.rejectAll)), h("td", null, String(r.custom)), h("td", null, String(r.withdraw)), h("td", null, String(r.expired))))))));
    } catch (error) { showError(error); }
  }

  function searchForm(): HTMLElement {
    const input = (key: "consentId" | "from" | "to", label: string, type: string) =>
      field(label, h("input", { type, name: key, value: filter[key], oninput: (e: Event) => { filter[key] = (e.target as HTMLInputElement).value.trim(); } }));
    return h("form", { class: "consent-search", id: "consent-search", onsubmit: (e: Event) => { e.preventDefault(); page = 1; void loadLog(); void loadStats(); refreshExport(); } },
      input("consentId", "Consent id", "search"), input("from", "From", "date"), input("to", "To", "date"),
      h("button", { class: "btn", type: "submit" }, "Search"), exportLinks);
  }

  const exportLinks = h("span", { class: "consent-export" });
  function refreshExport(): void {
    replace(exportLinks,
      h("a", { class: "btn", href: withQuery("/api/v1/admin/consent/records/export", { ...query(), format: "csv" }), download: "consent-records.csv" }, "Export CSV"),
      h("a", { class: "btn", href: withQuery("/api/v1/admin/consent/records/export", { ...query(), format: "json" }), download: "consent-records.json" }, "Export JSON"));
  }

  return {
    section: "consent",
    title: "Cookie consent",
    render(el) {
      main = el;
      refreshExport();
      replace(main, h("div", { class: "page-head" }, h("h1", null, "Cookie consent")),
        h("section", null, h("h2", null, "Banner"), editorBox),
        h("section", null, h("h2", null, "Proof of consent"), searchForm(), logBox),
        h("section", null, h("h2", null, "Statistics"), statsBox));
      loadBanner().catch(showError);
      void loadLog();
      void loadStats();
    },
  };
}

export const consentModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/consent$/, make: consentScreen }],
  nav: { section: "consent", href: "/admin/consent", label: "Consent", icon: ["M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z", "M9 12l2 2 4-4"] },
};
