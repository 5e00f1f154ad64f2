// Shared pieces of the console's interface: toasts, dialogs, dates, pills, pagers, form fields.

import { describeError } from "./api";
import { Child, h, replace } from "./dom";

let toastRegion: HTMLElement | null = null;

/** A short message in the corner; errors stay a little longer. */
export function toast(message: string, kind: "info" | "error" | "ok" = "info"): void {
  if (!toastRegion) {
    toastRegion = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(toastRegion);
  }
  const item = h("div", { class: `toast toast-${kind}` }, message);
  toastRegion.appendChild(item);
  window.setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

/** Reports a failed call in a toast (a 401 has already sent the user to sign-in). */
export function showError(error: unknown): void {
  if ((error as any)?.status === 401) return;
  toast(describeError(error), "error");
}

/** A modal dialog; resolves with the button's value, or null when dismissed. */
export function modal(title: string, body: Child, buttons: { label: string; value: string; primary?: boolean; danger?: boolean }[]): Promise<string | null> {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "modal", "aria-label": title });
    let answer: string | null = null;
    const form = h("form", { method: "dialog" },
      h("h2", null, title),
      h("div", { class: "modal-body" }, body),
      h("div", { class: "modal-actions" },
        buttons.map((b) => h("button", {
          type: b.primary ? "submit" : "button",
          class: b.danger ? "btn btn-danger" : b.primary ? "btn btn-primary" : "btn",
          value: b.value,
          onclick: (event: Event) => {
            if (!b.primary) { event.preventDefault(); answer = b.value; dialog.close(); }
          },
        }, b.label)),
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      answer = buttons.find((b) => b.primary)?.value ?? null;
      dialog.close();
    });
    dialog.appendChild(form);
    dialog.addEventListener("close", () => { dialog.remove(); resolve(answer); });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

/** Shows a dialog holding `form` until it closes (then removes it), with `focus` focused. */
export function openDialog(dialog: HTMLDialogElement, form: HTMLFormElement, focus: HTMLElement): void {
  dialog.appendChild(form);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  focus.focus();
}

/** Asks before something that cannot be undone. */
export async function confirmAction(title: string, text: string, action: string, danger = false): Promise<boolean> {
  const answer = await modal(title, h("p", null, text), [
    { label: "Cancel", value: "cancel" },
    { label: action, value: "ok", primary: true, danger },
  ]);
  return answer === "ok";
}

const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const yearFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Today: the time; this year: day and month; else the full date. */
export function shortDate(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (isNaN(date.getTime())) return "";
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return timeFormat.format(date);
  if (date.getFullYear() === now.getFullYear()) return dayFormat.format(date);
  return yearFormat.format(date);
}

export function fullDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return isNaN(date.getTime()) ? "—" : fullFormat.format(date);
}

/** A `<time>` showing the short date, the full one on hover. */
export function time(iso: string | null | undefined): HTMLElement {
  return h("time", { datetime: iso ?? "", title: fullDate(iso) }, shortDate(iso));
}

/** A coloured label for a status or priority value. */
export function pill(value: string | null | undefined, prefix = "pill"): HTMLElement {
  const v = value ?? "";
  return h("span", { class: `pill ${prefix}-${v.replace(/[^a-z-]/g, "")}` }, v.replace(/-/g, " "));
}

/** "1–25 of 73" with previous/next buttons. */
export function pager(page: number, perPage: number, total: number, go: (page: number) => void): HTMLElement {
  const first = total === 0 ? 0 : (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  const pages = Math.max(1, Math.ceil(total / perPage));
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("span", { class: "pager-range" }, total === 0 ? "Nothing here" : `${first}–${last} of ${total}`),
    h("button", { class: "btn btn-small", type: "button", disabled: page <= 1, onclick: () => go(page - 1), "aria-label": "Previous page" }, "‹ Prev"),
    h("button", { class: "btn btn-small", type: "button", disabled: page >= pages, onclick: () => go(page + 1), "aria-label": "Next page" }, "Next ›"),
  );
}

/** A labelled form control. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  return h("label", { class: "field" }, h("span", { class: "field-label" }, label), control, hint ? h("span", { class: "field-hint" }, hint) : null);
}

/** A `<select>` from [value, label] pairs. */
export function select(name: string, options: [string, string][], value: string, onchange?: (value: string) => void, label?: string): HTMLSelectElement {
  const el: HTMLSelectElement = h("select", { name, "aria-label": label ?? name, onchange: onchange ? () => onchange(el.value) : null },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  el.value = value;
  return el;
}

/** Shows field errors of a 422 next to the named inputs of `form`, or a message at its top. */
export function showFormError(form: HTMLFormElement, box: HTMLElement, error: unknown): void {
  form.querySelectorAll(".field-error").forEach((el) => el.remove());
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  const details: Record<string, string> = (error as any)?.details ?? {};
  for (const key of Object.keys(details)) {
    const input = form.querySelector(`[name="${CSS.escape(key)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.insertAdjacentElement("afterend", h("span", { class: "field-error" }, details[key]));
    }
  }
  replace(box, h("p", { class: "form-error", role: "alert" }, describeError(error)));
}

/** A centred message for an empty list or a failed load. */
export function emptyState(text: string, extra?: Child): HTMLElement {
  return h("div", { class: "empty" }, h("p", null, text), extra ?? null);
}

/** A random password for new accounts and resets (shown once to the admin). */
export function generatePassword(): string {
  const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let out = "";
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out.replace(/(.{4})(?!$)/g, "$1-");
}
