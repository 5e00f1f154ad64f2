// The FAQ: entries per locale in their order (drag a row, or move it with Alt+↑/↓ or the
// buttons), the editor with a live preview rendered by the server exactly as saving renders it,
// draft/publish, a translation of an entry into another locale under the same slug (so
// `#faq-<slug>` links work in every language), categories (add, rename, order, delete), and the
// statistics: views, helpful %, deflections, and the searches nobody has an answer for.

import { api } from "../api";
import { ConsoleModule, Screen, navigate } from "../app";
import { h, replace } from "../dom";
import { emptyState, field, pill, select, showError, showFormError, toast } from "../ui";
import { FAQCategory, FAQCategoryList, FAQEntry, FAQEntryList, FAQPreview, FAQStats } from "../generated/api-types";

const ALLOWED = new Set(["P", "EM", "STRONG", "CODE", "PRE", "UL", "OL", "LI", "A", "H2", "H3", "H4", "H5", "H6", "BLOCKQUOTE", "HR", "BR"]);

/** The server's safe HTML as nodes, rebuilt from an allowlist (parsed inert; no HTML sink). */
function safeNodes(html: string): Node[] {
  const copy = (from: Node, to: Node) => {
    for (const n of Array.from(from.childNodes)) {
      if (n.nodeType === 3) to.appendChild(document.createTextNode(n.textContent ?? ""));
      else if (n.nodeType === 1) {
        const el = n as Element;
        if (!ALLOWED.has(el.tagName)) { to.appendChild(document.createTextNode(el.textContent ?? "")); continue; }
        const out = document.createElement(el.tagName.toLowerCase());
        const href = el.getAttribute("href");
        if (el.tagName === "A" && href && /^(https?:|mailto:|\/|#|[^:]*$)/i.test(href)) { out.setAttribute("href", href); out.setAttribute("rel", "nofollow noopener"); }
        copy(el, out);
        to.appendChild(out);
      }
    }
  };
  const holder = document.createElement("div");
  copy(new DOMParser().parseFromString(html, "text/html").body, holder);
  return Array.from(holder.childNodes);
}

export function faqScreen(_m: RegExpMatchArray, params: URLSearchParams): Screen {
  let locale = params.get("locale") ?? "en";
  let main: HTMLElement;
  let entries: FAQEntry[] = [];
  let dragged: number | null = null;

  async function load(focusID?: number): Promise<void> {
    try {
      const [list, cats, stats] = await Promise.all([
        api.get<FAQEntryList>("/api/v1/admin/faq/entries", { locale }),
        api.get<FAQCategoryList>("/api/v1/admin/faq/categories"),
        api.get<FAQStats>("/api/v1/admin/faq/stats", { locale }),
      ]);
      entries = list.items;
      const names = new Map(cats.items.map((c) => [c.id, c.name]));
      const figures = new Map(stats.entries.map((e) => [e.id, e]));
      replace(main,
        h("div", { class: "page-head" }, h("h1", null, "FAQ"),
          h("div", { class: "page-actions" },
            select("locale", [["en", "English"], ["de", "Deutsch"]], locale, (v) => { locale = v; navigate(`/admin/faq?locale=${v}`); }, "Locale"),
            h("button", { class: "btn", type: "button", id: "new-category", onclick: () => void newCategory() }, "New category"),
            h("a", { class: "btn btn-primary", href: `/admin/faq/new?locale=${locale}`, id: "new-entry" }, "New entry"))),
        h("p", { class: "hint" }, "Drag a row, or Alt+↑ / Alt+↓ on an entry, to move it."),
        h("div", { class: "table-wrap" }, h("table", { class: "table", id: "faq-table" },
          h("thead", null, h("tr", null, ["Question", "Category", "Status", "Views", "Helpful", "Deflections", "Order"].map((t) => h("th", null, t)))),
          h("tbody", null, entries.length ? entries.map((e, i) => {
            const f = figures.get(e.id);
            const row = h("tr", { "data-id": String(e.id), tabindex: "0", draggable: "true", onkeydown: (ev: KeyboardEvent) => {
              if (ev.altKey && (ev.key === "ArrowUp" || ev.key === "ArrowDown")) { ev.preventDefault(); void move(i, ev.key === "ArrowUp" ? -1 : 1); }
              else if (ev.key === "Enter") navigate(`/admin/faq/${e.id}`);
            },
            ondragstart: (ev: DragEvent) => { dragged = i; ev.dataTransfer?.setData("text/plain", String(e.id)); row.classList.add("dragging"); },
            ondragend: () => { row.classList.remove("dragging"); },
            ondragover: (ev: DragEvent) => { if (dragged !== null) { ev.preventDefault(); row.classList.add("drop-target"); } },
            ondragleave: () => { row.classList.remove("drop-target"); },
            ondrop: (ev: DragEvent) => { ev.preventDefault(); row.classList.remove("drop-target"); if (dragged !== null) void moveTo(dragged, i); dragged = null; } },
              h("td", null, h("a", { href: `/admin/faq/${e.id}` }, e.question)),
              h("td", null, e.categoryId ? names.get(e.categoryId) ?? "—" : "—"),
              h("td", null, pill(e.status, "status")),
              h("td", null, String(e.views)),
              h("td", null, f?.helpfulPercent == null ? "—" : `${f.helpfulPercent} % of ${e.helpfulYes + e.helpfulNo}`),
              h("td", null, String(e.deflections)),
              h("td", { class: "actions" },
                h("button", { class: "btn btn-small", type: "button", "aria-label": `Move ${e.question} up`, disabled: i === 0, onclick: () => void move(i, -1) }, "↑"),
                h("button", { class: "btn btn-small", type: "button", "aria-label": `Move ${e.question} down`, disabled: i === entries.length - 1, onclick: () => void move(i, 1) }, "↓")));
            return row;
          }) : h("tr", null, h("td", { colspan: "7" }, emptyState("No entries in this locale yet.")))))),
        categoryPanel(cats.items, entries),
        h("h2", null, "Questions nobody has answered yet"),
        stats.gaps.length
          ? h("ul", { id: "faq-gaps" }, stats.gaps.map((g) => h("li", null, h("strong", null, g.query), ` — asked ${g.count}×`)))
          : emptyState("Every search found an answer."));
      if (focusID) main.querySelector<HTMLElement>(`tr[data-id="${focusID}"]`)?.focus();
    } catch (error) {
      replace(main, h("div", { class: "page-head" }, h("h1", null, "FAQ")), emptyState("The FAQ could not be loaded."));
      showError(error);
    }
  }

  async function move(index: number, by: number): Promise<void> {
    await moveTo(index, index + by);
  }

  /** Takes the entry at `from` out and puts it in at `to`; every entry of the locale is renumbered. */
  async function moveTo(from: number, to: number): Promise<void> {
    if (to < 0 || to >= entries.length || from === to) return;
    const ids = entries.map((e) => e.id);
    const [id] = ids.splice(from, 1);
    ids.splice(to, 0, id);
    try {
      await api.put("/api/v1/admin/faq/order", { ids });
      await load(id);
    } catch (error) { showError(error); }
  }

  /** Categories: rename in place, move up or down, delete (their entries stay, uncategorised). */
  function categoryPanel(cats: FAQCategory[], all: FAQEntry[]): HTMLElement {
    const used = new Map<number, number>();
    for (const e of all) if (e.categoryId) used.set(e.categoryId, (used.get(e.categoryId) ?? 0) + 1);
    return h("section", { class: "faq-categories", "aria-labelledby": "faq-categories-title" },
      h("h2", { id: "faq-categories-title" }, "Categories"),
      cats.length ? h("ul", { class: "plain-list", id: "faq-category-list" }, cats.map((c, i) => {
        const name = h("input", { name: "name", value: c.name, maxlength: 100, "aria-label": `Name of category ${c.name}` }) as HTMLInputElement;
        const save = async (e: Event) => {
          e.preventDefault();
          if (!name.value.trim() || name.value === c.name) return;
          try { await api.patch(`/api/v1/admin/faq/categories/${c.id}`, { name: name.value }); toast(`Category renamed to ${name.value.trim()}`, "ok"); await load(); }
          catch (error) { showError(error); }
        };
        const swap = async (by: number) => {
          if (!cats[i + by]) return;
          const order = cats.slice();
          [order[i], order[i + by]] = [order[i + by], order[i]];
          try {
            // Positions 0, 1, … in the new order; only the ones that change are sent.
            for (const [position, cat] of order.entries()) {
              if (cat.position !== position) await api.patch(`/api/v1/admin/faq/categories/${cat.id}`, { position });
            }
            await load();
          } catch (error) { showError(error); }
        };
        return h("li", { "data-category": String(c.id) },
          h("form", { class: "inline-form", onsubmit: save }, name,
            h("button", { class: "btn btn-small", type: "submit" }, "Rename"),
            h("button", { class: "btn btn-small", type: "button", "aria-label": `Move category ${c.name} up`, disabled: i === 0, onclick: () => void swap(-1) }, "↑"),
            h("button", { class: "btn btn-small", type: "button", "aria-label": `Move category ${c.name} down`, disabled: i === cats.length - 1, onclick: () => void swap(1) }, "↓"),
            h("button", { class: "btn btn-small btn-danger", type: "button", "aria-label": `Delete category ${c.name}`, onclick: async () => {
              const count = used.get(c.id) ?? 0;
              if (!window.confirm(count ? `Delete ${c.name}? Its ${count} entries stay, without a category.` : `Delete ${c.name}?`)) return;
              try { await api.delete(`/api/v1/admin/faq/categories/${c.id}`); toast(`Category ${c.name} deleted`, "ok"); await load(); }
              catch (error) { showError(error); }
            } }, "Delete")));
      })) : emptyState("No categories yet: entries show in one list."));
  }

  async function newCategory(): Promise<void> {
    const name = window.prompt("Category name");
    if (!name) return;
    try {
      await api.post<FAQCategory>("/api/v1/admin/faq/categories", { name });
      toast(`Category ${name} added`, "ok");
      await load();
    } catch (error) { showError(error); }
  }

  return {
    section: "faq",
    title: "FAQ",
    render(el) { main = el; void load(); },
    update(_p, p) { locale = p.get("locale") ?? "en"; void load(); return true; },
  };
}

export function faqEditorScreen(m: RegExpMatchArray, params: URLSearchParams): Screen {
  const id = m[1] === "new" ? null : Number(m[1]);
  // `?from=<id>&locale=<tag>`: a translation of an entry, prefilled, under the same slug.
  const from = id === null && params.get("from") ? Number(params.get("from")) : null;
  return {
    section: "faq",
    title: id ? "Edit FAQ entry" : "New FAQ entry",
    async render(main) {
      try {
        const [entry, cats, source] = await Promise.all([
          id ? api.get<FAQEntry>(`/api/v1/admin/faq/entries/${id}`) : Promise.resolve(null),
          api.get<FAQCategoryList>("/api/v1/admin/faq/categories"),
          from ? api.get<FAQEntry>(`/api/v1/admin/faq/entries/${from}`) : Promise.resolve(null),
        ]);
        const versions = entry
          ? (await api.get<FAQEntryList>("/api/v1/admin/faq/entries")).items.filter((e) => e.slug === entry.slug && e.id !== entry.id)
          : [];
        const question = h("input", { name: "question", required: true, maxlength: 300, value: entry?.question ?? source?.question ?? "" });
        const answer = h("textarea", { name: "answer", required: true, rows: 12, maxlength: 20000 }) as HTMLTextAreaElement;
        answer.value = entry?.answer ?? source?.answer ?? "";
        const preview = h("div", { class: "faq-preview card", id: "faq-preview", "aria-live": "polite" });
        const category = select("categoryId", [["", "No category"], ...cats.items.map((c): [string, string] => [String(c.id), c.name])], (entry ?? source)?.categoryId ? String((entry ?? source)?.categoryId) : "", undefined, "Category");
        const status = select("status", [["draft", "Draft"], ["published", "Published"]], entry?.status ?? "draft", undefined, "Status");
        const locale = h("input", { name: "locale", maxlength: 6, value: entry?.locale ?? params.get("locale") ?? "en" });
        const errors = h("div");
        let timer = 0;
        const render = async () => {
          try {
            const r = await api.post<FAQPreview>("/api/v1/admin/faq/preview", { markdown: answer.value });
            replace(preview, ...safeNodes(r.html));
          } catch (error) { showError(error); }
        };
        answer.addEventListener("input", () => { window.clearTimeout(timer); timer = window.setTimeout(() => void render(), 250); });
        const form = h("form", { class: "form", id: "faq-form", onsubmit: async (e: Event) => {
          e.preventDefault();
          const body: Record<string, unknown> = { question: question.value, answer: answer.value, locale: locale.value, status: status.value, categoryId: category.value ? Number(category.value) : null };
          if (source) body.slug = source.slug;
          try {
            const saved = id ? await api.patch<FAQEntry>(`/api/v1/admin/faq/entries/${id}`, body) : await api.post<FAQEntry>("/api/v1/admin/faq/entries", body);
            toast(saved.status === "published" ? "Saved and published" : "Saved as draft", "ok");
            navigate(`/admin/faq?locale=${saved.locale}`);
          } catch (error) { showFormError(form, errors, error); }
        } },
          errors,
          field("Question", question),
          h("div", { class: "faq-edit" }, field("Answer (Markdown)", answer, "Raw HTML shows as text; links get rel=nofollow."), h("div", null, h("span", { class: "field-label" }, "Preview"), preview)),
          field("Category", category), field("Locale", locale, "A language tag: en, de, pt-BR"), field("Status", status),
          source ? h("p", { class: "hint", id: "faq-translation-of" }, `A translation of “${source.question}” (${source.locale}), under the same link #faq-${source.slug}.`) : null,
          entry ? h("div", { class: "faq-versions", id: "faq-versions" }, h("span", { class: "field-label" }, "Other languages"),
            versions.length ? h("ul", { class: "plain-list" }, versions.map((v) => h("li", null, h("a", { href: `/admin/faq/${v.id}` }, `${v.locale}: ${v.question}`)))) : h("span", { class: "hint" }, " none yet"),
            h("a", { class: "btn btn-small", id: "faq-translate", href: `/admin/faq/new?from=${entry.id}&locale=${entry.locale === "de" ? "en" : "de"}` }, "Translate…")) : null,
          h("div", { class: "form-actions" },
            h("button", { class: "btn btn-primary", type: "submit" }, "Save"),
            id ? h("button", { class: "btn btn-danger", type: "button", onclick: async () => {
              try { await api.delete(`/api/v1/admin/faq/entries/${id}`); toast("Entry deleted", "ok"); navigate("/admin/faq"); } catch (error) { showError(error); }
            } }, "Delete") : null,
            h("a", { class: "btn", href: "/admin/faq" }, "Cancel")));
        replace(main, h("div", { class: "page-head" }, h("h1", null, id ? "Edit FAQ entry" : "New FAQ entry")), form);
        void render();
      } catch (error) {
        replace(main, emptyState("The entry could not be loaded."));
        showError(error);
      }
    },
  };
}

export const faqModule: ConsoleModule = {
  routes: [
    { pattern: /^\/admin\/faq$/, make: faqScreen },
    { pattern: /^\/admin\/faq\/(new|\d+)$/, make: faqEditorScreen },
  ],
  nav: { section: "faq", href: "/admin/faq", label: "FAQ", icon: "help" },
};
