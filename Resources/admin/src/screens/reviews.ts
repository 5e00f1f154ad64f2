// Reviews moderation: the queue (pending first) with filters, keyboard moderation (j/k move,
// a approve, x reject, s spam, r reply), bulk actions on the checked reviews, the owner's reply,
// and the pending count in the navigation.

import { api, withQuery } from "../api";
import { ConsoleModule, Screen, Shortcut, navigate, setNavBadge, state } from "../app";
import { h, replace } from "../dom";
import { emptyState, modal, pager, pill, showError, time, toast } from "../ui";
import { ADMIN_REVIEW_STATUSES, AdminReview, AdminReviewList, AdminReviewPage } from "../generated/api-types";

const PER_PAGE = 25;
type Decision = "approved" | "rejected" | "spam" | "pending";

/** The navigation badge: reviews waiting for moderation. */
async function refreshPendingBadge(): Promise<void> {
  try {
    const r = await api.get<AdminReviewPage>("/api/v1/admin/reviews", { status: "pending", perPage: 1 });
    setNavBadge("reviews", r.total);
  } catch {
    // the badge is a hint; the screen shows errors
  }
}

export function reviewsScreen(_m: RegExpMatchArray, params: URLSearchParams): Screen {
  let status = params.get("status") ?? "pending";
  let page = Math.max(1, Number(params.get("page")) || 1);
  let items: AdminReview[] = [];
  let cursor = 0;
  const checked = new Set<number>();
  let main: HTMLElement;

  const here = () => withQuery("/admin/reviews", { status: status === "pending" ? null : status || "all", page: page > 1 ? page : null });

  async function load(): Promise<void> {
    try {
      const r = await api.get<AdminReviewPage>("/api/v1/admin/reviews", { status: status === "all" ? null : status, page, perPage: PER_PAGE, sort: "-createdAt" });
      items = r.items;
      cursor = Math.min(cursor, Math.max(0, items.length - 1));
      checked.clear();
      const counts = r.counts ?? {};
      setNavBadge("reviews", counts.pending ?? 0);
      replace(main,
        h("div", { class: "page-head" }, h("h1", null, "Reviews"),
          h("div", { class: "page-actions" },
            h("button", { class: "btn", type: "button", id: "bulk-approve", onclick: () => void bulk("approved") }, "Approve checked"),
            h("button", { class: "btn", type: "button", id: "bulk-reject", onclick: () => void bulk("rejected") }, "Reject checked"),
            h("button", { class: "btn", type: "button", id: "bulk-spam", onclick: () => void bulk("spam") }, "Spam checked"))),
        h("div", { class: "counts", id: "review-counts" },
          ["all", ...ADMIN_REVIEW_STATUSES].map((s) => h("button", { type: "button", class: `count-chip${status === s ? " active" : ""}`, "data-status": s,
            onclick: () => { status = s; page = 1; navigate(here()); } },
            h("strong", null, String(s === "all" ? Object.values(counts).reduce((a, b) => a + b, 0) : counts[s] ?? 0)), " " + s))),
        h("p", { class: "hint" }, "Keys: j / k move, a approve, x reject, s spam, r reply, space check."),
        h("div", { id: "review-queue", role: "list" }, items.length ? items.map(card) : emptyState(status === "pending" ? "Nothing waits for moderation." : "No reviews here.")),
        h("div", { class: "list-foot" }, pager(page, PER_PAGE, r.total, (p) => { page = p; navigate(here()); })));
      paintCursor();
    } catch (error) {
      replace(main, h("div", { class: "page-head" }, h("h1", null, "Reviews")), emptyState("The reviews could not be loaded."));
      showError(error);
    }
  }

  function card(r: AdminReview, index: number): HTMLElement {
    const box: HTMLInputElement = h("input", { type: "checkbox", "aria-label": `Check the review by ${r.name}`, onchange: () => (box.checked ? checked.add(r.id) : checked.delete(r.id)) });
    return h("article", { class: "card review-card", role: "listitem", tabindex: "-1", "data-id": String(r.id), "data-index": String(index), onclick: () => { cursor = index; paintCursor(); } },
      h("div", { class: "review-head" }, box, " ",
        h("strong", { "aria-label": `${r.rating} of 5 stars` }, "★".repeat(r.rating) + "☆".repeat(5 - r.rating)), " ",
        r.title ? h("strong", { class: "review-title" }, r.title) : null, " ", pill(r.status, "status"), r.verified ? pill("verified") : null,
        r.reports ? h("span", { class: "pill pill-warn" }, `${r.reports} reports`) : null),
      h("p", { class: "review-content" }, r.content),
      h("p", { class: "small" }, r.name, r.email ? ` <${r.email}>` : "", r.subject ? ` · ${r.subject}` : " · whole site", " · ", time(r.createdAt)),
      r.reply ? h("blockquote", { class: "review-reply" }, h("span", { class: "small" }, "Your reply: "), r.reply) : null);
  }

  function paintCursor(): void {
    main.querySelectorAll<HTMLElement>(".review-card").forEach((el) => {
      const on = Number(el.dataset.index) === cursor;
      el.classList.toggle("current", on);
      el.setAttribute("aria-current", on ? "true" : "false");
      if (on && main.contains(document.activeElement) === false) el.focus({ preventScroll: false });
    });
  }

  const current = () => items[cursor];

  async function decide(ids: number[], decision: Decision): Promise<void> {
    if (!ids.length) { toast("Check some reviews first", "info"); return; }
    try {
      const r = await api.post<AdminReviewList>("/api/v1/admin/reviews/moderation", { ids, status: decision });
      toast(`${r.items.length} review${r.items.length === 1 ? "" : "s"} ${decision === "approved" ? "approved" : decision === "spam" ? "marked as spam" : decision}`, "ok");
      await load();
      const el = main.querySelector<HTMLElement>(".review-card.current");
      el?.focus();
    } catch (error) { showError(error); }
  }

  const bulk = (decision: Decision) => decide([...checked], decision);

  async function reply(): Promise<void> {
    const r = current();
    if (!r) return;
    const text = h("textarea", { name: "reply", rows: 5, maxlength: 5000, "aria-label": "Reply" }) as HTMLTextAreaElement;
    text.value = r.reply ?? "";
    const choice = await modal(`Reply to ${r.name}`, text, [{ label: "Cancel", value: "" }, { label: "Save reply", value: "save", primary: true }]);
    if (choice !== "save") return;
    try {
      if (text.value.trim()) await api.put(`/api/v1/admin/reviews/${r.id}/reply`, { text: text.value });
      else await api.delete(`/api/v1/admin/reviews/${r.id}/reply`);
      toast("Reply saved", "ok");
      await load();
    } catch (error) { showError(error); }
  }

  const move = (by: number) => { cursor = Math.max(0, Math.min(items.length - 1, cursor + by)); paintCursor(); main.querySelector<HTMLElement>(".review-card.current")?.focus(); };

  return {
    section: "reviews",
    title: "Reviews",
    render(el) { main = el; void load(); },
    update(_path, p) {
      status = p.get("status") ?? "pending";
      page = Math.max(1, Number(p.get("page")) || 1);
      void load();
      return true;
    },
    shortcuts(): Shortcut[] {
      return [
        { key: "j", label: "Next review", run: () => move(1) },
        { key: "k", label: "Previous review", run: () => move(-1) },
        { key: "a", label: "Approve", run: () => { const r = current(); if (r) void decide([r.id], "approved"); } },
        { key: "x", label: "Reject", run: () => { const r = current(); if (r) void decide([r.id], "rejected"); } },
        { key: "s", label: "Mark as spam", run: () => { const r = current(); if (r) void decide([r.id], "spam"); } },
        { key: "r", label: "Reply", run: () => void reply() },
        { key: " ", label: "Check / uncheck", run: () => { const box = main.querySelector<HTMLInputElement>(".review-card.current input[type=checkbox]"); if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change")); } } },
      ];
    },
  };
}

export const reviewsModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/reviews$/, make: reviewsScreen }],
  nav: { section: "reviews", href: "/admin/reviews", label: "Reviews", icon: ["M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2L12 17.3 6.5 20.2l1-6.2L3 9.6l6.2-.9z"] },
  start() {
    state.sessionListeners.push((user) => { if (user) void refreshPendingBadge(); });
    window.setInterval(() => { if (state.user) void refreshPendingBadge(); }, 60000);
  },
};
