// Webhooks (admins only): endpoints with the events they want, the signing secret shown once,
// each endpoint's deliveries with their attempt log, "send test event" and "redeliver".

import { ApiError, api } from "../api";
import { ConsoleModule, Screen } from "../app";
import { h, replace } from "../dom";
import { confirmAction, emptyState, field, modal, pill, showError, showFormError, time, toast } from "../ui";
import { WebhookDelivery, WebhookDeliveryList, WebhookEndpoint, WebhookEndpointList, WebhookEvent } from "../generated/api-types";

// Every event of the document is listed here (the type says so).
const EVENTS: Record<WebhookEvent, string> = {
  "contact.created": "Contact form sent", "ticket.created": "Ticket opened", "ticket.updated": "Ticket status, priority or assignee changed",
  "ticket.message.created": "Ticket reply (not internal notes)", "chat.conversation.started": "Chat started", "chat.conversation.closed": "Chat closed",
  "chat.message.created": "Chat message", "newsletter.confirmed": "Newsletter sign-up confirmed", "newsletter.unsubscribed": "Newsletter unsubscribe",
};

export function webhooksScreen(): Screen {
  let main: HTMLElement;

  async function load(): Promise<void> {
    try {
      const { items } = await api.get<WebhookEndpointList>("/api/v1/admin/webhooks");
      replace(main,
        h("div", { class: "page-head" }, h("h1", null, "Webhooks"),
          h("div", { class: "page-actions" }, h("button", { class: "btn btn-primary", type: "button", id: "webhook-add", onclick: () => void addDialog() }, "Add endpoint…"))),
        h("p", { class: "muted" }, "Frontdesk POSTs each event, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), to https addresses; failures are retried with backoff."),
        items.length ? h("div", { id: "webhook-list" }, ...items.map(card)) : emptyState("No endpoints yet."));
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) {
        replace(main, h("div", { class: "card narrow", id: "admin-only" }, h("h1", null, "Admins only"), h("p", null, error.message)));
        return;
      }
      replace(main, emptyState("Webhooks could not be loaded."));
      showError(error);
    }
  }

  function card(e: WebhookEndpoint): HTMLElement {
    const log = h("div", { class: "webhook-log" });
    // Endpoints from the configuration file are changed there; the console only tests and reads them.
    const fromFile = e.managedBy === "config";
    const el = h("section", { class: "card", "data-id": String(e.id) },
      h("h2", { class: "mono" }, e.url), e.description ? h("p", null, e.description) : null,
      h("p", { class: "small" }, pill(e.enabled ? "enabled" : "disabled", "status"), " ",
        fromFile ? h("span", { class: "pill", title: "Set in the configuration file ([[webhooks.endpoints]]); change it there." }, "from frontdesk.toml") : null,
        fromFile ? " " : null, e.events.join(", ")),
      h("div", { class: "page-actions" },
        h("button", { class: "btn btn-small", type: "button", "data-action": "test", onclick: () => void test(e, log) }, "Send test event"),
        fromFile ? null : h("button", { class: "btn btn-small", type: "button", "data-action": "toggle", onclick: () => void toggle(e) }, e.enabled ? "Disable" : "Enable"),
        fromFile ? null : h("button", { class: "btn btn-small btn-ghost-danger", type: "button", "data-action": "delete", onclick: () => void remove(e) }, "Delete")),
      log);
    void deliveries(e, log);
    return el;
  }

  async function deliveries(e: WebhookEndpoint, into: HTMLElement): Promise<void> {
    try {
      const { items } = await api.get<WebhookDeliveryList>(`/api/v1/admin/webhooks/${e.id}/deliveries`);
      replace(into, items.length ? h("table", { class: "table" },
        h("thead", null, h("tr", null, ["Event", "Status", "Attempts", "Last answer", "Queued", ""].map((t) => h("th", null, t)))),
        h("tbody", null, items.map((d) => row(e, d, into)))) : h("p", { class: "muted small" }, "No deliveries yet."));
    } catch (error) {
      showError(error);
    }
  }

  function row(e: WebhookEndpoint, d: WebhookDelivery, into: HTMLElement): HTMLElement {
    const answer = d.lastStatusCode ? String(d.lastStatusCode) : "";
    return h("tr", { "data-delivery": String(d.id) },
      h("td", null, d.eventType), h("td", null, pill(d.status, "status")), h("td", null, String(d.attempts)),
      h("td", { class: "small", title: (d.log ?? []).map((a) => `${a.attemptedAt} ${a.statusCode ?? "-"} ${a.error ?? ""}`).join("\n") },
        answer, d.lastError ? h("span", { class: "muted" }, ` ${d.lastError}`) : null),
      h("td", null, time(d.createdAt)),
      h("td", { class: "actions" }, d.status === "pending" ? null : h("button", {
        class: "btn btn-small", type: "button", "data-action": "redeliver", onclick: async () => {
          try { await api.post(`/api/v1/admin/webhook-deliveries/${d.id}/redeliver`, {}); toast("Queued again", "ok"); void deliveries(e, into); } catch (error) { showError(error); }
        },
      }, "Redeliver")));
  }

  async function test(e: WebhookEndpoint, log: HTMLElement): Promise<void> {
    try {
      await api.post(`/api/v1/admin/webhooks/${e.id}/test`, {});
      toast("Test event queued", "ok");
      setTimeout(() => void deliveries(e, log), 1500);
    } catch (error) {
      showError(error);
    }
  }

  async function toggle(e: WebhookEndpoint): Promise<void> {
    try { await api.patch(`/api/v1/admin/webhooks/${e.id}`, { enabled: !e.enabled }); } catch (error) { showError(error); }
    void load();
  }

  async function remove(e: WebhookEndpoint): Promise<void> {
    if (!(await confirmAction(`Delete the endpoint ${e.url}?`, "Its deliveries and their log go with it.", "Delete", true))) return;
    try { await api.delete(`/api/v1/admin/webhooks/${e.id}`); toast("Endpoint deleted", "ok"); } catch (error) { showError(error); }
    void load();
  }

  async function addDialog(): Promise<void> {
    const url = h("input", { type: "url", name: "url", required: true, maxlength: "2048", id: "new-webhook-url", placeholder: "https://" });
    const description = h("input", { type: "text", name: "description", maxlength: "200", id: "new-webhook-description" });
    const boxes = (Object.keys(EVENTS) as WebhookEvent[]).map((ev) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "event", value: ev }), " ", ev, h("span", { class: "muted small" }, ` — ${EVENTS[ev]}`)));
    const errors = h("div", { class: "form-errors" });
    const dialog = h("dialog", { class: "modal", "aria-label": "Add a webhook endpoint" });
    const form = h("form", { id: "new-webhook-form" },
      h("h2", null, "Add a webhook endpoint"), errors,
      field("URL", url, "https only; addresses inside your network are refused unless webhooks.allow_private is set."),
      field("Description", description),
      h("fieldset", { id: "new-webhook-events" }, h("legend", null, "Events"), ...boxes),
      h("div", { class: "modal-actions" },
        h("button", { class: "btn", type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { class: "btn btn-primary", type: "submit", id: "new-webhook-submit" }, "Add endpoint")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const events = boxes.map((b) => b.querySelector("input") as HTMLInputElement).filter((i) => i.checked).map((i) => i.value);
      try {
        const created = await api.post<WebhookEndpoint>("/api/v1/admin/webhooks", { url: url.value.trim(), description: description.value.trim(), events });
        dialog.close();
        void load();
        const secret = h("input", { type: "text", readonly: true, value: created.secret ?? "", id: "new-webhook-secret", class: "mono", "aria-label": "Signing secret" });
        await modal("Endpoint added", [field("Signing secret", secret, "Verify each delivery's webhook-signature with it; it is not shown again.")],
          [{ label: "Done", value: "done", primary: true }]);
      } catch (error) {
        showFormError(form, errors, error);
      }
    });
    dialog.appendChild(form);
    dialog.addEventListener("close", () => dialog.remove());
    document.body.appendChild(dialog);
    dialog.showModal();
    url.focus();
  }

  return { section: "webhooks", title: "Webhooks", render(el) { main = el; void load(); } };
}

export const webhooksModule: ConsoleModule = {
  routes: [{ pattern: /^\/admin\/webhooks$/, make: webhooksScreen, adminOnly: true }],
  nav: { section: "webhooks", href: "/admin/webhooks", label: "Webhooks", icon: ["M4 12h6l2-6 2 12 2-6h4"], adminOnly: true },
};
