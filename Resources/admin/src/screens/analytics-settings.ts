// The tracking settings screen (/admin/analytics/settings): what the running server counts with
// (time zone, retention, GeoIP database), the embed snippet, and the owner's switch that keeps
// this browser's visits out of the figures (the `frontdesk:ignore` flag the loader reads).

import { api } from "../api";
import { Screen } from "../app";
import { h, replace } from "../dom";
import { showError, toast } from "../ui";

interface TrackingSettings {
  timezone: string;
  rawRetentionDays: number;
  hourlyDetailDays: number;
  rollupMaxValues: number;
  siteOrigins: string[];
  publicURL: string;
  geoip: { configured: boolean; path?: string; databaseType?: string; builtAt?: string };
}

/** The localStorage key the widget's loader checks before it loads the tracker. */
export const IGNORE_KEY = "frontdesk:ignore";

export function analyticsSettingsScreen(): Screen {
  let main: HTMLElement;

  function row(label: string, value: string, id: string, hint?: string): HTMLElement {
    return h("tr", null, h("th", { scope: "row" }, label), h("td", { id }, value, hint ? h("span", { class: "field-hint an-hint" }, hint) : null));
  }

  async function load(): Promise<void> {
    let s: TrackingSettings;
    try { s = await api.get<TrackingSettings>("/api/v1/admin/analytics/settings"); } catch (error) { showError(error); return; }
    const origin = (s.publicURL || location.origin).replace(/\/+$/, "");
    const snippet = `<script src="${origin}/widget.js" async></script>`;
    const ignored = localStorage.getItem(IGNORE_KEY) === "1";
    const toggle: HTMLInputElement = h("input", { type: "checkbox", id: "an-ignore", checked: ignored, onchange: () => {
      if (toggle.checked) localStorage.setItem(IGNORE_KEY, "1"); else localStorage.removeItem(IGNORE_KEY);
      replace(state, toggle.checked ? "This browser's visits are not counted on this origin." : "This browser's visits are counted.");
      toast(toggle.checked ? "Your visits from this browser are no longer counted" : "Your visits from this browser are counted again", "ok");
    } });
    const state = h("p", { class: "muted small", id: "an-ignore-state", "aria-live": "polite" }, ignored ? "This browser's visits are not counted on this origin." : "This browser's visits are counted.");
    replace(main,
      h("div", { class: "page-head" }, h("h1", null, "Tracking settings"),
        h("div", { class: "page-actions" }, h("a", { class: "btn btn-small", href: "/admin/analytics" }, "Back to analytics"))),
      h("section", { class: "card an-card", "aria-labelledby": "an-embed-title" },
        h("h2", { id: "an-embed-title" }, "Embed the tracker"),
        h("p", null, "Put this line before </body> on every page of your site. Counting is cookieless; data-track=\"off\" on the tag switches it off."),
        h("div", { class: "with-copy" }, h("pre", { class: "mono an-snippet", id: "an-settings-snippet" }, snippet),
          h("button", { type: "button", class: "btn btn-small", id: "an-copy-snippet", onclick: () => {
            navigator.clipboard?.writeText(snippet).then(() => toast("Copied", "ok"), () => toast("Select the line and copy it", "info"));
          } }, "Copy"))),
      h("section", { class: "card an-card", "aria-labelledby": "an-ignore-title" },
        h("h2", { id: "an-ignore-title" }, "Your own visits"),
        h("label", { class: "check" }, toggle, "Don't count my visits in this browser"),
        state,
        h("p", { class: "field-hint" }, `The switch sets ${IGNORE_KEY} in this browser's storage for ${location.origin}, where the tracker then never loads. `
          + `For a site on another address, run localStorage.setItem("${IGNORE_KEY}", "1") in the browser console on that site once.`)),
      h("section", { class: "card an-card", "aria-labelledby": "an-config-title" },
        h("h2", { id: "an-config-title" }, "How visits are counted"),
        h("div", { class: "table-wrap" }, h("table", { class: "table" }, h("tbody", null,
          row("Time zone", s.timezone, "an-set-timezone", "Days, weeks and months begin here (tracking.timezone)."),
          row("Raw retention", `${s.rawRetentionDays} days`, "an-set-retention", "Page views, events and visits are deleted after this (tracking.raw_retention_days); daily figures stay."),
          row("Hourly detail", `${s.hourlyDetailDays} days`, "an-set-hourly", "Hourly figures per page, source … (tracking.hourly_detail_days)."),
          row("Distinct values per hour", String(s.rollupMaxValues), "an-set-rollup", "Past this, rare values are counted as (other) (tracking.rollup_max_values)."),
          row("Site origins", s.siteOrigins.length ? s.siteOrigins.join(", ") : "none: only this server's own pages are counted", "an-set-origins", "server.site_origins"),
          row("GeoIP database", s.geoip.configured ? `${s.geoip.databaseType ?? "MaxMind DB"}, built ${s.geoip.builtAt?.slice(0, 10) ?? "?"}, ${s.geoip.path}` : "none: countries are unknown",
            "an-set-geoip", "Point tracking.geoip_db at a .mmdb country database (DB-IP Lite or GeoLite2)."),
        ))),
        h("p", { class: "muted small" }, "These come from frontdesk.toml, FRONTDESK_* variables or flags, and change with a restart.")));
  }

  return {
    section: "analytics",
    title: "Tracking settings",
    render(el) { main = el; replace(main, h("div", { class: "an-rows an-skeleton" })); void load(); },
  };
}
