// The goals and funnels editor of the analytics screen (/admin/analytics/goals): page-view goals
// by path glob and event goals by name and property match, funnels of 2–8 goals in order. Each
// form previews what it would count over the last 30 days before it is saved; the API's 422
// shows beside the field it names. A funnel shows as a bar chart and a table of the same numbers.

import { api, withQuery } from "../api";
import { Screen } from "../app";
import { h, replace } from "../dom";
import { confirmAction, emptyState, field, showError, showFormError, toast } from "../ui";
import { drawBars, SeriesChart } from "../charts";
import type { AnalyticsFunnel, AnalyticsFunnelList, AnalyticsFunnelResult, AnalyticsGoal, AnalyticsGoalResults } from "../generated/api-types";

interface GoalPreview { conversions: number; visitors: number; conversionRate: number }
interface FunnelPreview { steps: AnalyticsFunnelResult["steps"] }
type Steps = AnalyticsFunnelResult["steps"];

const pct = (n: number) => `${(n * 100).toFixed(1)} %`;

/** Runs `fn` once input has paused for `ms`. */
function debounce(fn: () => void, ms = 250): () => void {
  let timer = 0;
  return () => { window.clearTimeout(timer); timer = window.setTimeout(fn, ms); };
}

/** The funnel's steps as a table: visits, drop-off and conversion per step. */
function stepsTable(steps: Steps, id: string): HTMLElement {
  return h("div", { class: "table-wrap" }, h("table", { class: "table an-table", id },
    h("caption", { class: "sr-only" }, "Funnel steps: visits, drop-off from the step before, conversion from the first step"),
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "Step"), h("th", { scope: "col", class: "an-num" }, "Visits"),
      h("th", { scope: "col", class: "an-num" }, "Drop-off"), h("th", { scope: "col", class: "an-num" }, "Conversion"))),
    h("tbody", null, steps.map((s, i) => h("tr", { "data-step": String(i + 1) }, h("td", null, `${i + 1}. ${s.goal}`),
      h("td", { class: "an-num", "data-col": "visits" }, String(s.visits)), h("td", { class: "an-num", "data-col": "dropOff" }, String(s.dropOff)),
      h("td", { class: "an-num", "data-col": "conversionRate", "data-raw": String(s.conversionRate) }, pct(s.conversionRate)))))));
}

export function analyticsGoalsScreen(): Screen {
  let main: HTMLElement;
  let goals: AnalyticsGoalResults["items"] = [];
  let funnels: AnalyticsFunnel[] = [];
  const charts: SeriesChart[] = [];
  const els: Record<string, HTMLElement> = {};

  async function load(): Promise<void> {
    try {
      const [g, f] = await Promise.all([
        api.get<AnalyticsGoalResults>("/api/v1/admin/analytics/goals"),
        api.get<AnalyticsFunnelList>("/api/v1/admin/analytics/funnels"),
      ]);
      goals = g.items;
      funnels = f.items;
      paintGoals();
      paintFunnels();
      paintFunnelForm();
    } catch (error) { showError(error); }
  }

  function paintGoals(): void {
    replace(els.goals, goals.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "table an-table", id: "goal-list" },
        h("caption", { class: "sr-only" }, "Goals and their conversions over the last 30 days"),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Goal"), h("th", { scope: "col" }, "Matches"),
          h("th", { scope: "col", class: "an-num" }, "Conversions"), h("th", { scope: "col", class: "an-num" }, "Rate"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
        h("tbody", null, goals.map((item) => h("tr", { "data-goal": item.goal.name },
          h("td", null, h("a", { href: withQuery("/admin/analytics", { goal: item.goal.name }) }, item.goal.name)),
          h("td", { class: "mono small" }, item.goal.kind === "page" ? `page ${item.goal.pattern}` : `event ${item.goal.pattern}${item.goal.propertyKey ? ` with ${item.goal.propertyKey} = ${item.goal.propertyValue}` : ""}`),
          h("td", { class: "an-num", "data-col": "conversions" }, String(item.conversions)),
          h("td", { class: "an-num", "data-col": "conversionRate" }, pct(item.conversionRate)),
          h("td", { class: "actions" }, h("button", { type: "button", class: "btn btn-small btn-ghost-danger", "aria-label": `Delete the goal ${item.goal.name}`,
            onclick: () => void deleteGoal(item.goal) }, "Delete")))))))
      : emptyState("No goals yet: define one below."));
  }

  async function deleteGoal(goal: AnalyticsGoal): Promise<void> {
    if (!(await confirmAction("Delete the goal?", `“${goal.name}” and its figures go; the visits stay counted.`, "Delete", true))) return;
    try { await api.delete(`/api/v1/admin/analytics/goals/${goal.id}`); toast("Goal deleted", "ok"); await load(); } catch (error) { showError(error); }
  }

  function goalForm(): HTMLElement {
    const name = h("input", { name: "name", id: "goal-name", required: true, maxlength: 100, placeholder: "Signed up" });
    const kind: HTMLSelectElement = h("select", { name: "kind", id: "goal-kind", onchange: () => { eventOnly.hidden = kind.value !== "event"; pattern.placeholder = kind.value === "page" ? "/pricing or /blog/*" : "signup"; preview(); } },
      h("option", { value: "page" }, "Page view (path glob)"), h("option", { value: "event" }, "Custom event (name, optional property)"));
    const pattern = h("input", { name: "pattern", id: "goal-pattern", required: true, maxlength: 2048, placeholder: "/pricing or /blog/*", oninput: () => preview() });
    const key = h("input", { name: "propertyKey", id: "goal-key", maxlength: 64, placeholder: "plan", oninput: () => preview() });
    const value = h("input", { name: "propertyValue", id: "goal-value", maxlength: 256, placeholder: "pro", oninput: () => preview() });
    const eventOnly = h("div", { hidden: true }, field("Property", key, "Only events whose property has this value count (optional)."), field("Value", value));
    const result = h("p", { class: "notice", id: "goal-preview", "aria-live": "polite" }, "Type a pattern to see how many visits would count.");
    const box = h("div", { id: "goal-form-error" });
    const body = () => {
      const b: Record<string, string> = { kind: kind.value, pattern: pattern.value };
      if (kind.value === "event" && (key.value || value.value)) { b.propertyKey = key.value; b.propertyValue = value.value; }
      return b;
    };
    let asked = 0;
    const preview = debounce(async () => {
      if (!pattern.value.trim()) return;
      const mine = ++asked;
      try {
        const p = await api.get<GoalPreview>("/api/v1/admin/analytics/goals/preview", body());
        if (mine !== asked) return;
        form.querySelectorAll(".field-error").forEach((el) => el.remove());
        form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
        replace(box);
        result.dataset.conversions = String(p.conversions);
        replace(result, `${p.conversions.toLocaleString("en-US")} visits (${p.visitors.toLocaleString("en-US")} visitors, ${pct(p.conversionRate)}) in the last 30 days would have reached this goal.`);
      } catch (error) {
        if (mine !== asked) return;
        delete result.dataset.conversions;
        replace(result, "No preview until the definition is valid.");
        showFormError(form, box, error);
      }
    });
    const form: HTMLFormElement = h("form", { class: "card an-card", id: "goal-form", "aria-labelledby": "goal-form-title", novalidate: true, onsubmit: async (e: Event) => {
      e.preventDefault();
      try {
        await api.post("/api/v1/admin/analytics/goals", { name: name.value, ...body() });
        toast(`Goal “${name.value.trim()}” saved`, "ok");
        form.reset();
        eventOnly.hidden = true;
        replace(result, "Type a pattern to see how many visits would count.");
        await load();
      } catch (error) { showFormError(form, box, error); }
    } },
      h("h2", { id: "goal-form-title" }, "New goal"), box,
      field("Name", name), field("Kind", kind), field("Pattern", pattern, "Pages: a path starting with /; * matches any characters. Events: the event's name."),
      eventOnly, result,
      h("button", { class: "btn btn-primary", type: "submit", id: "goal-save" }, "Save goal"));
    return form;
  }

  function paintFunnels(): void {
    charts.splice(0).forEach((c) => c.destroy());
    replace(els.funnels, funnels.length ? funnels.map((f) => {
      const box = h("section", { class: "card an-card", "data-funnel": f.name, "aria-label": `Funnel ${f.name}` },
        h("div", { class: "an-panel-head" }, h("h3", null, f.name),
          h("button", { type: "button", class: "btn btn-small btn-ghost-danger", "aria-label": `Delete the funnel ${f.name}`, onclick: () => void deleteFunnel(f) }, "Delete")),
        h("div", { class: "an-rows an-skeleton", "aria-busy": "true" }));
      void api.get<AnalyticsFunnelResult>(`/api/v1/admin/analytics/funnels/${f.id}/results`).then((r) => {
        const chartBox = h("div", { class: "an-funnel-box" });
        box.lastElementChild!.replaceWith(chartBox, stepsTable(r.steps, `funnel-${f.id}-table`));
        charts.push(drawBars(chartBox, { labels: r.steps.map((s, i) => `${i + 1}. ${s.goal}`), label: "Visits", values: r.steps.map((s) => s.visits) }));
        box.dataset.drawn = "1";
      }, showError);
      return box;
    }) : emptyState("No funnels yet: define goals, then put them in order below."));
  }

  async function deleteFunnel(f: AnalyticsFunnel): Promise<void> {
    if (!(await confirmAction("Delete the funnel?", `“${f.name}” goes; its goals stay.`, "Delete", true))) return;
    try { await api.delete(`/api/v1/admin/analytics/funnels/${f.id}`); toast("Funnel deleted", "ok"); await load(); } catch (error) { showError(error); }
  }

  function paintFunnelForm(): void {
    if (goals.length < 2) { replace(els.funnelForm, h("p", { class: "muted" }, "A funnel needs at least two goals.")); return; }
    const name = h("input", { name: "name", id: "funnel-name", required: true, maxlength: 100, placeholder: "Pricing to sign-up" });
    const list = h("ol", { class: "an-steps", id: "funnel-steps" });
    const result = h("div", { id: "funnel-preview", "aria-live": "polite" });
    const box = h("div", { id: "funnel-form-error" });
    const stepSelect = (value: number) => {
      const s: HTMLSelectElement = h("select", { "aria-label": "Goal of this step", onchange: () => preview() },
        goals.map((g) => h("option", { value: String(g.goal.id), selected: g.goal.id === value }, g.goal.name)));
      return h("li", { class: "an-step" }, s, h("button", { type: "button", class: "btn btn-small", "aria-label": "Remove this step", onclick: (e: Event) => {
        if (list.children.length <= 2) return;
        (e.target as HTMLElement).closest("li")!.remove();
        preview();
      } }, "×"));
    };
    list.append(stepSelect(goals[0].goal.id), stepSelect(goals[1].goal.id));
    // Each select is named after its place, so a 422 naming steps[i] shows beside it.
    const steps = () => [...list.querySelectorAll("select")].map((s, i) => { s.name = `steps[${i}]`; return Number(s.value); });
    let asked = 0;
    const preview = debounce(async () => {
      const mine = ++asked;
      try {
        const p = await api.get<FunnelPreview>("/api/v1/admin/analytics/funnels/preview", { steps: steps().join(",") });
        if (mine === asked) { replace(box); replace(result, stepsTable(p.steps, "funnel-preview-table")); }
      } catch (error) { if (mine === asked) showFormError(form, box, error); }
    }, 100);
    const form: HTMLFormElement = h("form", { class: "card an-card", id: "funnel-form", "aria-labelledby": "funnel-form-title", novalidate: true, onsubmit: async (e: Event) => {
      e.preventDefault();
      try {
        await api.post("/api/v1/admin/analytics/funnels", { name: name.value, steps: steps() });
        toast(`Funnel “${name.value.trim()}” saved`, "ok");
        await load();
      } catch (error) { showFormError(form, box, error); }
    } },
      h("h2", { id: "funnel-form-title" }, "New funnel"), box, field("Name", name),
      h("p", { class: "field-label" }, "Steps, in order (2 to 8)"), list,
      h("button", { type: "button", class: "btn btn-small", id: "funnel-add-step", onclick: () => { if (list.children.length < 8) { list.append(stepSelect(goals[0].goal.id)); preview(); } } }, "Add a step"),
      h("h3", null, "Preview, last 30 days"), result,
      h("button", { class: "btn btn-primary", type: "submit", id: "funnel-save" }, "Save funnel"));
    replace(els.funnelForm, form);
    preview();
  }

  return {
    section: "analytics",
    title: "Goals and funnels",
    render(el) {
      main = el;
      els.goals = h("div", { id: "goals" }, h("div", { class: "an-rows an-skeleton" }));
      els.funnels = h("div", { id: "funnels" });
      els.funnelForm = h("div", { id: "funnel-form-box" });
      replace(main,
        h("div", { class: "page-head" }, h("h1", null, "Goals and funnels"),
          h("div", { class: "page-actions" }, h("a", { class: "btn btn-small", href: "/admin/analytics" }, "Back to analytics"))),
        h("p", { class: "muted" }, "Figures are for the last 30 days."),
        h("div", { class: "an-editor" },
          h("section", { "aria-label": "Goals" }, h("h2", null, "Goals"), els.goals, goalForm()),
          h("section", { "aria-label": "Funnels" }, h("h2", null, "Funnels"), els.funnels, els.funnelForm)));
      void load();
    },
    dispose() { charts.splice(0).forEach((c) => c.destroy()); },
  };
}
