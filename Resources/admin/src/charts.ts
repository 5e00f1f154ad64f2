// Charts of the console, drawn with Chart.js (Debian's libjs-chart.js, only the line and bar
// parts registered so the bundle carries no more of it than needed). Colours come from the
// console's CSS variables, so a chart follows the light/dark theme; tooltips show exact values.
// Every chart sits beside a table with the same numbers (the screens own the table toggle).

import { BarController, BarElement, CategoryScale, Chart, Filler, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from "chart.js";
import { h } from "./dom";

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, LinearScale, CategoryScale, Tooltip, Filler, Legend);

/** A drawn chart that can be redrawn for a new theme and must be destroyed with its screen. */
export interface SeriesChart {
  destroy(): void;
}

const live = new Set<{ repaint(): void }>();
// The theme toggle sets html[data-theme]; the system setting changes prefers-color-scheme.
new MutationObserver(() => live.forEach((c) => c.repaint())).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener?.("change", () => live.forEach((c) => c.repaint()));

function themeColours() {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return { accent: v("--accent", "#8a4b0f"), muted: v("--muted", "#6b665d"), line: v("--line", "#e2ded5"), text: v("--text", "#1f1d1a"), panel: v("--panel", "#ffffff") };
}

function exact(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString("en-US") : n.toFixed(2);
}

function make(box: HTMLElement, label: string, build: (c: ReturnType<typeof themeColours>) => any): SeriesChart {
  const canvas = h("canvas", { role: "img", "aria-label": label });
  box.appendChild(canvas);
  let chart = new Chart(canvas, build(themeColours()));
  const entry = {
    repaint() {
      chart.destroy();
      chart = new Chart(canvas, build(themeColours()));
    },
  };
  live.add(entry);
  return { destroy() { live.delete(entry); chart.destroy(); } };
}

function scales(c: ReturnType<typeof themeColours>, horizontal = false) {
  const axis = { ticks: { color: c.muted, maxRotation: 0, autoSkip: true }, grid: { color: c.line, borderColor: c.line } };
  return horizontal ? { x: { ...axis, beginAtZero: true }, y: { ...axis, grid: { display: false } } } : { x: { ...axis, grid: { display: false } }, y: { ...axis, beginAtZero: true } };
}

function tooltip(c: ReturnType<typeof themeColours>) {
  return {
    backgroundColor: c.panel, titleColor: c.text, bodyColor: c.text, borderColor: c.line, borderWidth: 1,
    callbacks: { label: (item: any) => `${item.dataset.label}: ${exact(item.raw as number)}` },
  };
}

/** The time series of the analytics screen: one line, the previous period dashed beside it. */
export function drawSeries(box: HTMLElement, data: { labels: string[]; label: string; values: number[]; previous: number[] | null }): SeriesChart {
  return make(box, `${data.label} over time; the table beside the chart has the same numbers`, (c) => ({
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.label, data: data.values, borderColor: c.accent, backgroundColor: c.accent + "22", fill: true, tension: 0.25, pointRadius: data.values.length > 60 ? 0 : 2, borderWidth: 2 },
        ...(data.previous ? [{ label: `${data.label}, previous period`, data: data.previous, borderColor: c.muted, borderDash: [5, 4], pointRadius: 0, borderWidth: 1.5, fill: false }] : []),
      ],
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false },
      plugins: { legend: { display: !!data.previous, labels: { color: c.text } }, tooltip: tooltip(c) },
      scales: scales(c),
    },
  }));
}

/** Horizontal bars (a funnel's steps). */
export function drawBars(box: HTMLElement, data: { labels: string[]; label: string; values: number[] }): SeriesChart {
  return make(box, `${data.label}; the table below has the same numbers`, (c) => ({
    type: "bar",
    data: { labels: data.labels, datasets: [{ label: data.label, data: data.values, backgroundColor: c.accent, borderRadius: 4 }] },
    options: {
      indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: false }, tooltip: tooltip(c) },
      scales: scales(c, true),
    },
  }));
}
