// The analytics dashboard: one screen with the range (and the previous period beside it), the
// KPI tiles with their change, the time series, and the breakdown panels. Clicking any row
// filters the whole screen; the filters are chips and live in the URL with the range, so a
// view can be bookmarked. Every figure comes from the admin analytics API with the same query.

import { ApiError, Query, api, withQuery } from "../api";
import { ConsoleModule, Screen, Shortcut, navigate } from "../app";
import { Child, h, replace } from "../dom";
import { emptyState, showError } from "../ui";
import { drawSeries, SeriesChart } from "../charts";
import { analyticsGoalsScreen } from "./analytics-goals";
import { analyticsSettingsScreen } from "./analytics-settings";
import { chat } from "../chat/client";
import type { AnalyticsBreakdown, AnalyticsGoalResults, AnalyticsPoint, AnalyticsRealtime, AnalyticsRow, AnalyticsSeries, AnalyticsSummary, AnalyticsTotals } from "../generated/api-types";

/** The filter parameters of the API, in the order the chips show them. */
export const FILTER_FIELDS = ["page", "entry_page", "exit_page", "source", "referrer", "utm_source", "utm_medium", "utm_campaign",
  "country", "device", "browser", "os", "event", "goal"] as const;
type FilterField = (typeof FILTER_FIELDS)[number];

const FIELD_LABELS: Record<FilterField, string> = {
  page: "Page", entry_page: "Entry page", exit_page: "Exit page", source: "Source", referrer: "Referrer", utm_source: "UTM source",
  utm_medium: "UTM medium", utm_campaign: "UTM campaign", country: "Country", device: "Device", browser: "Browser", os: "OS", event: "Event", goal: "Goal",
};

/** The named ranges of the range picker; `custom` takes from/to from the URL. */
const RANGES: [string, string][] = [
  ["today", "Today"], ["yesterday", "Yesterday"], ["7d", "Last 7 days"], ["30d", "Last 30 days"], ["month", "This month"],
  ["lastmonth", "Last month"], ["12mo", "Last 12 months"], ["custom", "Custom"],
];

/** The panels and their tabs: each tab is one breakdown dimension (or the goals report). */
const PANELS: { id: string; title: string; tabs: [string, string][] }[] = [
  { id: "pages", title: "Pages", tabs: [["page", "Top pages"], ["entry_page", "Entry pages"], ["exit_page", "Exit pages"]] },
  { id: "sources", title: "Sources", tabs: [["source", "Sources"], ["referrer", "Referrers"], ["utm_source", "UTM source"], ["utm_medium", "UTM medium"], ["utm_campaign", "UTM campaign"]] },
  { id: "countries", title: "Countries", tabs: [["country", "Countries"]] },
  { id: "devices", title: "Devices", tabs: [["device", "Devices"], ["browser", "Browsers"], ["os", "OS"]] },
  { id: "goals", title: "Goals", tabs: [["goals", "Goals"]] },
  { id: "events", title: "Custom events", tabs: [["event", "Events"]] },
];

/** The metrics the chart can show. */
const METRICS: [keyof AnalyticsPoint & string, string][] = [["visitors", "Visitors"], ["visits", "Visits"], ["pageviews", "Page views"], ["bounces", "Bounces"], ["events", "Events"]];

const KPIS: { key: keyof AnalyticsTotals; label: string; format: (n: number) => string; lowerIsBetter?: boolean }[] = [
  { key: "visitors", label: "Visitors", format: (n) => n.toLocaleString("en-US") },
  { key: "visits", label: "Visits", format: (n) => n.toLocaleString("en-US") },
  { key: "pageviews", label: "Page views", format: (n) => n.toLocaleString("en-US") },
  { key: "viewsPerVisit", label: "Views per visit", format: (n) => n.toFixed(2) },
  { key: "bounceRate", label: "Bounce rate", format: (n) => `${(n * 100).toFixed(1)} %`, lowerIsBetter: true },
  { key: "visitDuration", label: "Visit duration", format: duration },
];

const ROWS = 10;
const OTHER = "(other)";
const NONE = "(none)";

/** "1 m 05 s" from seconds. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
}

/** A local date as 2027-01-31. */
function iso(date: Date): string {
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}-${String(date.getUTCDate()).padStart(2, "0")}`;
}

function parseDay(text: string): Date {
  return new Date(text + "T00:00:00Z");
}

function addDays(text: string, n: number): string {
  const d = parseDay(text);
  d.setUTCDate(d.getUTCDate() + n);
  return iso(d);
}

/** Days from `from` to `to`, both included. */
function spanDays(from: string, to: string): number {
  return Math.round((parseDay(to).getTime() - parseDay(from).getTime()) / 86400000) + 1;
}

/** The from/to of a named range, given the site's today. */
export function rangeDates(range: string, today: string, from?: string | null, to?: string | null): { from: string; to: string } {
  const d = parseDay(today);
  switch (range) {
    case "today": return { from: today, to: today };
    case "yesterday": { const y = addDays(today, -1); return { from: y, to: y }; }
    case "7d": return { from: addDays(today, -6), to: today };
    case "month": return { from: iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1))), to: today };
    case "lastmonth": return {
      from: iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1))),
      to: iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 0))),
    };
    case "12mo": return { from: iso(new Date(Date.UTC(d.getUTCFullYear() - 1, d.getUTCMonth(), d.getUTCDate() + 1))), to: today };
    case "custom": if (from && to) return { from, to }; return { from: addDays(today, -29), to: today };
    default: return { from: addDays(today, -29), to: today };
  }
}

/** The bucket size that suits a range: hours for a day or two, days up to a quarter, then weeks, then months. */
export function intervalFor(days: number): "hour" | "day" | "week" | "month" {
  if (days <= 2) return "hour";
  if (days <= 92) return "day";
  if (days <= 190) return "week";
  return "month";
}

/** The view the URL describes. */
interface View {
  range: string;
  from: string | null;
  to: string | null;
  compare: boolean;
  metric: string;
  filters: [FilterField, string][];
  tabs: Record<string, string>;
}

function readView(params: URLSearchParams): View {
  const filters: [FilterField, string][] = [];
  for (const field of FILTER_FIELDS) {
    const value = params.get(field);
    if (value) filters.push([field, value]);
  }
  const range = params.get("range") ?? (params.get("from") && params.get("to") ? "custom" : "30d");
  const tabs: Record<string, string> = {};
  for (const panel of PANELS) {
    const tab = params.get(`tab_${panel.id}`);
    if (tab && panel.tabs.some(([id]) => id === tab)) tabs[panel.id] = tab;
  }
  return {
    range: RANGES.some(([id]) => id === range) ? range : "30d",
    from: params.get("from"),
    to: params.get("to"),
    compare: params.get("compare") === "1",
    metric: METRICS.some(([id]) => id === params.get("metric")) ? params.get("metric")! : "visitors",
    filters,
    tabs,
  };
}

function viewPath(view: View): string {
  const query: Query = { range: view.range === "30d" ? null : view.range };
  if (view.range === "custom") { query.from = view.from; query.to = view.to; }
  if (view.compare) query.compare = "1";
  if (view.metric !== "visitors") query.metric = view.metric;
  for (const [field, value] of view.filters) query[field] = value;
  for (const panel of PANELS) if (view.tabs[panel.id]) query[`tab_${panel.id}`] = view.tabs[panel.id];
  return withQuery("/admin/analytics", query);
}

/** The site's today (in tracking.timezone): the `to` of a default summary, asked once. */
let siteToday: Promise<string> | null = null;
function today(): Promise<string> {
  if (!siteToday) {
    siteToday = api.get<AnalyticsSummary>("/api/v1/admin/analytics/summary").then((s) => s.to);
    siteToday.catch(() => { siteToday = null; });
  }
  return siteToday;
}

/** Why an (other) row exists, shown beside it. */
const OTHER_NOTE = "Values past the distinct ones kept per hour (tracking.rollup_max_values) are counted together here, so rare values cannot slow the dashboard.";

function change(current: number, previous: number, lowerIsBetter = false): HTMLElement {
  if (previous === 0) return h("span", { class: "an-change an-flat", "data-change": current === 0 ? "0" : "new" }, current === 0 ? "—" : "new");
  const pct = ((current - previous) / previous) * 100;
  const rounded = Math.round(pct);
  const good = lowerIsBetter ? rounded < 0 : rounded > 0;
  const cls = rounded === 0 ? "an-flat" : good ? "an-up" : "an-down";
  return h("span", { class: `an-change ${cls}`, "data-change": String(rounded), title: "Change from the previous period" },
    `${rounded > 0 ? "↑" : rounded < 0 ? "↓" : "→"} ${Math.abs(rounded)} %`);
}

export function analyticsScreen(_m: RegExpMatchArray, params: URLSearchParams): Screen {
  let view = readView(params);
  let main: HTMLElement;
  let generation = 0;
  let realtimeTimer = 0;
  let chart: SeriesChart | null = null;
  let started = performance.now();
  const els: Record<string, HTMLElement> = {};

  const go = (next: Partial<View>) => {
    view = { ...view, ...next };
    started = performance.now();
    performance.mark("analytics:change");
    navigate(viewPath(view));
  };
  const addFilter = (field: FilterField, value: string) => go({ filters: [...view.filters.filter(([f]) => f !== field), [field, value]] });
  const removeFilter = (field: FilterField) => go({ filters: view.filters.filter(([f]) => f !== field) });

  function frame(): void {
    const rangeSelect: HTMLSelectElement = h("select", { id: "an-range", name: "range", "aria-label": "Date range", onchange: () => {
      const value = rangeSelect.value;
      if (value === "custom") { customBox.hidden = false; (customBox.querySelector("input") as HTMLInputElement).focus(); return; }
      go({ range: value, from: null, to: null });
    } }, RANGES.map(([id, label]) => h("option", { value: id, selected: id === view.range }, label)));
    const fromInput = h("input", { type: "date", id: "an-from", name: "from", "aria-label": "From", value: view.from ?? "" });
    const toInput = h("input", { type: "date", id: "an-to", name: "to", "aria-label": "To", value: view.to ?? "" });
    const customBox = h("form", { class: "an-custom", id: "an-custom", hidden: view.range !== "custom", onsubmit: (e: Event) => {
      e.preventDefault();
      if (fromInput.value && toInput.value) go({ range: "custom", from: fromInput.value, to: toInput.value });
    } }, fromInput, h("span", { "aria-hidden": "true" }, "–"), toInput, h("button", { class: "btn btn-small", type: "submit", id: "an-custom-apply" }, "Apply"));
    const compare: HTMLInputElement = h("input", { type: "checkbox", id: "an-compare", checked: view.compare, onchange: () => go({ compare: compare.checked }) });
    const filterInput = h("input", { type: "search", id: "an-filter", placeholder: "Filter: page=/blog/*, source=Google, country=!DE", "aria-label": "Add a filter (field=value)" });
    const filterForm = h("form", { class: "an-filter-form", role: "search", onsubmit: (e: Event) => {
      e.preventDefault();
      const text = filterInput.value.trim();
      const at = text.indexOf("=");
      const field = text.slice(0, at).trim() as FilterField;
      const value = text.slice(at + 1).trim();
      if (at < 1 || !FILTER_FIELDS.includes(field) || !value) {
        replace(els.filterError, `Write field=value, with a field among ${FILTER_FIELDS.join(", ")} (! in front of the value negates, * matches anything).`);
        filterInput.setAttribute("aria-invalid", "true");
        return;
      }
      addFilter(field, value);
    } }, filterInput);
    els.filterError = h("p", { class: "field-error", id: "an-filter-error", role: "alert" });
    els.range = h("p", { class: "muted small", id: "an-range-text" }, "\u00a0");
    els.chips = h("div", { class: "an-chips", id: "an-chips", "aria-label": "Filters" });
    els.empty = h("div", { id: "an-empty", hidden: true });
    els.kpis = h("div", { class: "an-kpis", id: "an-kpis" },
      h("div", { class: "an-kpi an-kpi-now", "data-kpi": "now" }, h("span", { class: "an-kpi-label" }, h("span", { class: "dot dot-on", "aria-hidden": "true" }), " Visitors now"),
        h("strong", { class: "an-kpi-value", id: "an-now", "data-raw": "" }, "\u00a0"), h("span", { class: "an-change an-flat" }, "last 5 minutes")),
      KPIS.map((k) => h("div", { class: "an-kpi an-skeleton", "data-kpi": k.key }, h("span", { class: "an-kpi-label" }, k.label),
        h("strong", { class: "an-kpi-value", "data-raw": "" }, "\u00a0"), h("span", { class: "an-change an-flat" }, "\u00a0"))));
    els.chart = h("section", { class: "card an-card an-chart-card", id: "an-series", "aria-labelledby": "an-series-title" });
    els.panels = h("div", { class: "an-panels" }, PANELS.map((p) => {
      const box = h("section", { class: "card an-card an-panel", "data-panel": p.id, "aria-label": p.title });
      els[`panel-${p.id}`] = box;
      return box;
    }));
    replace(main,
      h("div", { class: "page-head" }, h("h1", null, "Analytics"),
        h("div", { class: "page-actions an-controls" }, rangeSelect, customBox,
          h("label", { class: "check", for: "an-compare" }, compare, "Compare with the previous period"),
          h("a", { class: "btn btn-small", href: "/admin/analytics/goals", id: "an-goals-link" }, "Goals & funnels"),
          h("a", { class: "btn btn-small", href: "/admin/analytics/settings", id: "an-settings-link" }, "Settings"))),
      els.range,
      h("div", { class: "an-filterbar" }, filterForm, els.chips),
      els.filterError,
      els.empty,
      els.kpis,
      els.chart,
      els.panels);
  }

  /** The API query of the current view: range and filters. */
  function query(dates: { from: string; to: string }): Query {
    const q: Query = { from: dates.from, to: dates.to };
    for (const [field, value] of view.filters) q[field] = value;
    return q;
  }

  function paintChips(): void {
    replace(els.chips, view.filters.map(([field, value]) => h("span", { class: "an-chip", "data-filter": field },
      h("span", null, `${FIELD_LABELS[field]} ${value.startsWith("!") ? "is not" : "is"} `, h("strong", null, value.replace(/^!/, ""))),
      h("button", { type: "button", class: "an-chip-x", "aria-label": `Remove the filter ${FIELD_LABELS[field]} ${value}`, onclick: () => removeFilter(field) }, "×"))));
    if (view.filters.length > 1) els.chips.appendChild(h("button", { type: "button", class: "btn btn-small", id: "an-clear", onclick: () => go({ filters: [] }) }, "Clear filters"));
  }

  function skeletonRows(): HTMLElement {
    return h("div", { class: "an-rows an-skeleton", "aria-hidden": "true" }, Array.from({ length: ROWS }, () => h("div", { class: "an-skel-row" })));
  }

  function paintPanelFrame(panel: (typeof PANELS)[number], tab: string): HTMLElement {
    const box = els[`panel-${panel.id}`];
    const body = h("div", { class: "an-panel-body", "data-dim": tab, "aria-busy": "true" }, skeletonRows());
    const tabs = panel.tabs.length > 1
      ? h("div", { class: "segmented an-tabs", role: "group", "aria-label": `${panel.title}: show` }, panel.tabs.map(([id, label]) =>
        h("button", { type: "button", class: id === tab ? "seg active" : "seg", "aria-pressed": id === tab ? "true" : "false", "data-tab": id,
          onclick: () => go({ tabs: { ...view.tabs, [panel.id]: id } }) }, label)))
      : null;
    replace(box, h("div", { class: "an-panel-head" }, h("h2", null, panel.title), tabs), body);
    return body;
  }

  async function load(): Promise<void> {
    const mine = ++generation;
    paintChips();
    els.filterError.textContent = "";
    let dates: { from: string; to: string };
    try {
      dates = rangeDates(view.range, await today(), view.from, view.to);
    } catch (error) { showError(error); return; }
    if (mine !== generation) return;
    const q = query(dates);
    const days = spanDays(dates.from, dates.to);
    const interval = intervalFor(days);
    replace(els.range, `${dates.from} – ${dates.to} · ${days} day${days === 1 ? "" : "s"}${view.compare ? ` · compared with ${addDays(dates.from, -days)} – ${addDays(dates.from, -1)}` : ""}`);
    els.kpis.querySelectorAll(".an-kpi:not(.an-kpi-now)").forEach((el) => el.classList.add("an-skeleton"));
    const seriesBody = paintSeriesFrame();
    const bodies = PANELS.map((p) => ({ panel: p, tab: view.tabs[p.id] ?? p.tabs[0][0] })).map((x) => ({ ...x, body: paintPanelFrame(x.panel, x.tab) }));
    const summary = api.get<AnalyticsSummary>("/api/v1/admin/analytics/summary", q);
    const series = api.get<AnalyticsSeries>("/api/v1/admin/analytics/timeseries", { ...q, interval });
    const previous = view.compare
      ? api.get<AnalyticsSeries>("/api/v1/admin/analytics/timeseries", { ...q, from: addDays(dates.from, -days), to: addDays(dates.from, -1), interval })
      : Promise.resolve(null);
    const jobs: Promise<unknown>[] = [];
    jobs.push(summary.then((s) => { if (mine === generation) return paintSummary(s, dates); return undefined; }));
    jobs.push(Promise.all([series, previous]).then(([s, p]) => { if (mine === generation) paintSeries(seriesBody, s, p, q, interval); }));
    for (const { panel, tab, body } of bodies) {
      if (tab === "goals") {
        jobs.push(api.get<AnalyticsGoalResults>("/api/v1/admin/analytics/goals", { from: dates.from, to: dates.to })
          .then((r) => { if (mine === generation) paintGoals(body, r); }));
      } else {
        jobs.push(api.get<AnalyticsBreakdown>("/api/v1/admin/analytics/breakdown", { ...q, by: tab, limit: ROWS })
          .then((r) => { if (mine === generation) paintBreakdown(body, panel.id, r, q); }));
      }
    }
    const results = await Promise.allSettled(jobs);
    if (mine !== generation) return;
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) {
      const error = failed.reason;
      if (error instanceof ApiError && error.status === 422) {
        replace(els.filterError, "This view cannot be shown: " + Object.entries(error.details).map(([k, v]) => `${k} ${v}`).join("; "));
      } else showError(error);
    }
    // User Timing: what the browser test and the benchmark read.
    const elapsed = performance.now() - started;
    performance.mark("analytics:drawn");
    main.dataset.drawn = String(generation);
    main.dataset.drawMs = elapsed.toFixed(1);
    (window as any).__analyticsDrawn = { generation, ms: elapsed, sinceNavigation: performance.now() };
  }

  async function paintSummary(s: AnalyticsSummary, dates: { from: string; to: string }): Promise<void> {
    for (const k of KPIS) {
      const tile = els.kpis.querySelector<HTMLElement>(`[data-kpi="${k.key}"]`)!;
      tile.classList.remove("an-skeleton");
      const value = s.current[k.key] as number;
      const value_ = tile.querySelector<HTMLElement>(".an-kpi-value")!;
      value_.textContent = k.format(value);
      value_.dataset.raw = String(value);
      const before = s.previous[k.key] as number;
      const old = tile.querySelector(".an-change")!;
      const next = change(value, before, k.lowerIsBetter);
      next.setAttribute("aria-label", `${k.label}: ${k.format(value)}, previous period ${k.format(before)}`);
      next.dataset.previous = String(before);
      old.replaceWith(next);
    }
    // An empty range on a site that never counted a visit: say how to embed the tracker.
    const nothing = s.current.visits === 0 && s.current.pageviews === 0 && s.current.events === 0;
    if (nothing && view.filters.length === 0) {
      const year = await api.get<AnalyticsSummary>("/api/v1/admin/analytics/summary", { from: addDays(dates.to, -364), to: dates.to });
      if (year.current.visits === 0 && year.current.pageviews === 0 && year.previous.visits === 0) { showEmpty(); return; }
    }
    els.empty.hidden = true;
  }

  function showEmpty(): void {
    const snippet = `<script src="${location.origin}/widget.js" async></script>`;
    replace(els.empty, h("div", { class: "card an-empty" },
      h("h2", null, "No visits counted yet"),
      h("p", null, "Frontdesk counts visitors once its script is on your site's pages. Put this line before </body> on every page:"),
      h("pre", { class: "mono an-snippet", id: "an-snippet" }, snippet),
      h("p", { class: "muted" }, "Visits show here within a second or two. Counting is cookieless; add data-track=\"off\" to the script tag to switch it off."),
      h("a", { class: "btn", href: "/admin/analytics/settings" }, "Tracking settings")));
    els.empty.hidden = false;
  }

  function paintSeriesFrame(): HTMLElement {
    const metrics = h("div", { class: "segmented", role: "group", "aria-label": "Chart metric" }, METRICS.map(([id, label]) =>
      h("button", { type: "button", class: id === view.metric ? "seg active" : "seg", "aria-pressed": id === view.metric ? "true" : "false", "data-metric": id,
        onclick: () => go({ metric: id }) }, label)));
    const body = h("div", { class: "an-series-body", "aria-busy": "true" }, h("div", { class: "an-chart-box an-skeleton" }));
    replace(els.chart, h("div", { class: "an-panel-head" }, h("h2", { id: "an-series-title" }, "Over time"), metrics), body);
    return body;
  }

  function paintSeries(body: HTMLElement, s: AnalyticsSeries, previous: AnalyticsSeries | null, q: Query, interval: string): void {
    const metric = view.metric as keyof AnalyticsPoint;
    const label = METRICS.find(([id]) => id === view.metric)![1];
    const tableBox = h("div", { class: "table-wrap an-series-table", id: "an-series-table", hidden: true });
    const headRow = h("tr", null, h("th", { scope: "col" }, interval), h("th", { scope: "col" }, label), previous ? h("th", { scope: "col" }, `${label}, previous period`) : null);
    replace(tableBox, h("table", { class: "table" }, h("caption", { class: "sr-only" }, `${label} by ${interval}`), h("thead", null, headRow),
      h("tbody", null, s.points.map((p, i) => h("tr", { "data-bucket": p.bucket }, h("td", null, p.bucket), h("td", { "data-col": metric }, String(p[metric])),
        previous ? h("td", { "data-col": "previous" }, String(previous.points[i]?.[metric] ?? "")) : null)))));
    const toggle = h("button", { type: "button", class: "btn btn-small", id: "an-series-toggle", "aria-controls": "an-series-table", "aria-expanded": "false",
      onclick: () => {
        const showTable = tableBox.hidden;
        tableBox.hidden = !showTable;
        chartBox.hidden = showTable;
        toggle.setAttribute("aria-expanded", String(showTable));
        toggle.textContent = showTable ? "Show chart" : "Show table";
      } }, "Show table");
    const chartBox = h("div", { class: "an-chart-box", id: "an-chart-box" });
    replace(body, chartBox, tableBox, h("div", { class: "an-panel-foot" }, toggle,
      h("a", { class: "btn btn-small", id: "an-series-csv", download: "", href: withQuery("/api/v1/admin/analytics/export", { ...q, report: "timeseries", interval, format: "csv" }) }, "CSV")));
    body.removeAttribute("aria-busy");
    chart?.destroy();
    chart = drawSeries(chartBox, {
      labels: s.points.map((p) => p.bucket),
      label,
      values: s.points.map((p) => Number(p[metric])),
      previous: previous ? previous.points.map((p) => Number(p[metric])) : null,
    });
  }

  function paintBreakdown(body: HTMLElement, panelId: string, r: AnalyticsBreakdown, q: Query): void {
    const by = r.by as string;
    const field = (FILTER_FIELDS as readonly string[]).includes(by) ? (by as FilterField) : null;
    const isEvents = by === "event";
    const max = Math.max(1, ...r.items.map((row) => (isEvents ? row.events : row.visitors)));
    const second: [keyof AnalyticsRow, string] = isEvents ? ["events", "Events"] : by === "page" ? ["pageviews", "Page views"] : ["visits", "Visits"];
    const first: [keyof AnalyticsRow, string] = isEvents ? ["visits", "Visits"] : ["visitors", "Visitors"];
    const rows = r.items.map((row) => {
      const other = row.value === OTHER;
      const share = Math.round(((isEvents ? row.events : row.visitors) / max) * 100);
      const cell: Child = other
        ? h("span", { class: "an-other", title: OTHER_NOTE }, OTHER, h("small", { class: "an-other-note" }, " — " + OTHER_NOTE))
        : field
          ? h("button", { type: "button", class: "an-row-filter", "data-field": field, "data-value": row.value, title: `Show only ${FIELD_LABELS[field]} ${row.value}`,
            onclick: () => addFilter(field, row.value) }, row.value === NONE ? `${NONE} — no ${FIELD_LABELS[field].toLowerCase()}` : row.value)
          : row.value;
      return h("tr", { "data-value": row.value },
        h("td", { class: "an-value" }, h("span", { class: `an-bar an-w${Math.round(share / 5) * 5}`, "aria-hidden": "true" }), cell),
        h("td", { class: "an-num", "data-col": first[0] }, String(row[first[0]])),
        h("td", { class: "an-num", "data-col": second[0] }, String(row[second[0]])));
    });
    const table = r.items.length
      ? h("table", { class: "table an-table" }, h("caption", { class: "sr-only" }, `${by.replace(/_/g, " ")}: ${first[1].toLowerCase()} and ${second[1].toLowerCase()}`),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, by.replace(/_/g, " ")), h("th", { scope: "col", class: "an-num" }, first[1]), h("th", { scope: "col", class: "an-num" }, second[1]))),
        h("tbody", null, rows))
      : emptyState(isEvents ? "No custom events in this range. Send them with frontdesk.track(name, props)." : "Nothing in this range.");
    replace(body, h("div", { class: "an-rows" }, table),
      h("div", { class: "an-panel-foot" },
        h("span", { class: "muted small", "data-total": String(r.total) }, `${Math.min(r.items.length, r.total)} of ${r.total}`),
        r.folded ? h("span", { class: "muted small an-folded" }, "Includes (other): rare values folded together") : null,
        h("a", { class: "btn btn-small", download: "", "data-csv": panelId, href: withQuery("/api/v1/admin/analytics/export", { ...q, report: "breakdown", by, limit: 1000, format: "csv" }) }, "CSV")));
    body.removeAttribute("aria-busy");
  }

  function paintGoals(body: HTMLElement, r: AnalyticsGoalResults): void {
    if (!r.items.length) {
      replace(body, emptyState("No goals yet.", h("a", { class: "btn btn-small", href: "/admin/analytics/goals" }, "Define a goal")));
      body.removeAttribute("aria-busy");
      return;
    }
    replace(body, h("div", { class: "an-rows" }, h("table", { class: "table an-table" }, h("caption", { class: "sr-only" }, "Goals: conversions and conversion rate"),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "goal"), h("th", { scope: "col", class: "an-num" }, "Conversions"), h("th", { scope: "col", class: "an-num" }, "Rate"))),
      h("tbody", null, r.items.map((item) => h("tr", { "data-value": item.goal.name },
        h("td", { class: "an-value" }, h("button", { type: "button", class: "an-row-filter", "data-field": "goal", "data-value": item.goal.name,
          onclick: () => addFilter("goal", item.goal.name) }, item.goal.name)),
        h("td", { class: "an-num", "data-col": "conversions" }, String(item.conversions)),
        h("td", { class: "an-num", "data-col": "conversionRate", "data-raw": String(item.conversionRate) }, `${(item.conversionRate * 100).toFixed(1)} %`)))))),
      view.filters.length ? h("p", { class: "muted small" }, "Goal conversions count the whole range; filters do not narrow them.") : null);
    body.removeAttribute("aria-busy");
  }

  /** The agent socket's `visitors.now` pushes keep the tile current (the chat client holds the socket). */
  const onPush = () => { if (chat.visitorsNow) setNow(chat.visitorsNow.visitors); };

  async function pollRealtime(): Promise<void> {
    try {
      const r = await api.get<AnalyticsRealtime>("/api/v1/admin/analytics/realtime");
      setNow(r.visitors);
    } catch { /* the tile is a hint */ }
  }

  function setNow(count: number): void {
    const el = document.getElementById("an-now");
    if (!el) return;
    el.textContent = count.toLocaleString("en-US");
    el.dataset.raw = String(count);
  }

  return {
    section: "analytics",
    title: "Analytics",
    render(el) {
      main = el;
      frame();
      void load();
      void pollRealtime();
      chat.onChange.push(onPush);
      // Without the socket (reconnecting), ask now and then instead.
      realtimeTimer = window.setInterval(() => { if (chat.connection !== "online") void pollRealtime(); }, 30000);
    },
    update(path, p) {
      if (path !== "/admin/analytics") return false;
      const before = view;
      view = readView(p);
      if (before.range !== view.range || before.compare !== view.compare) { frame(); void pollRealtime(); }
      void load();
      return true;
    },
    dispose() {
      window.clearInterval(realtimeTimer);
      chat.onChange = chat.onChange.filter((l) => l !== onPush);
      chart?.destroy();
      generation++;
    },
    shortcuts(): Shortcut[] {
      return [{ key: "/", label: "Add a filter", run: () => document.getElementById("an-filter")?.focus() }];
    },
  };
}

export const analyticsModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/analytics$/, make: analyticsScreen }, { pattern: /^\/admin\/analytics\/goals$/, make: analyticsGoalsScreen },
    { pattern: /^\/admin\/analytics\/settings$/, make: analyticsSettingsScreen }],
  nav: { section: "analytics", href: "/admin/analytics", label: "Analytics", icon: ["M4 20V10", "M10 20V4", "M16 20v-7", "M22 20H2"] },
};
