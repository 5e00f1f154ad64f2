// The API reference page (/api/): the OpenAPI document the server serves, rendered readably by
// our own code (no CDN, no third-party renderer), with the chat protocol document beside it.
import { h, replace, Child } from "../dom";
import { renderMarkdown, inline, slug } from "./markdown";

type Json = any;
const METHODS = ["get", "post", "put", "patch", "delete", "head", "options"];

async function fetchText(path: string): Promise<string> {
  const response = await fetch(path, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.text();
}

function refName(ref: string): string {
  return ref.split("/").pop() || ref;
}

/** A schema in one line or a small tree: types, enums, bounds, required fields. */
function schemaView(schema: Json, doc: Json, depth = 0): Child {
  if (!schema || typeof schema !== "object") return h("span", { class: "type" }, "any");
  if (schema.$ref) {
    const name = refName(schema.$ref);
    return h("a", { class: "type ref", href: "#schema-" + slug(name) }, name);
  }
  for (const key of ["oneOf", "anyOf", "allOf"]) {
    if (Array.isArray(schema[key])) {
      const joiner = key === "allOf" ? " & " : " | ";
      const parts: Child[] = [];
      schema[key].forEach((s: Json, n: number) => { if (n) parts.push(joiner); parts.push(schemaView(s, doc, depth)); });
      return h("span", null, parts);
    }
  }
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type || (schema.properties ? "object" : "any");
  const facts: string[] = [];
  if (schema.format) facts.push(schema.format);
  if (schema.minLength !== undefined || schema.maxLength !== undefined) facts.push(`length ${schema.minLength ?? 0}…${schema.maxLength ?? "∞"}`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) facts.push(`${schema.minimum ?? "−∞"}…${schema.maximum ?? "∞"}`);
  if (schema.maxItems !== undefined) facts.push(`at most ${schema.maxItems} items`);
  if (schema.pattern) facts.push(`pattern ${schema.pattern}`);
  if (schema.default !== undefined) facts.push(`default ${JSON.stringify(schema.default)}`);
  const head: Child[] = [h("span", { class: "type" }, type)];
  if (Array.isArray(schema.enum)) head.push(" ", h("span", { class: "enum" }, "one of " + schema.enum.map((v: Json) => JSON.stringify(v)).join(", ")));
  if (schema.const !== undefined) head.push(" ", h("span", { class: "enum" }, "= " + JSON.stringify(schema.const)));
  if (facts.length) head.push(" ", h("span", { class: "facts" }, "(" + facts.join("; ") + ")"));
  if (type === "array" && schema.items) head.push(" of ", schemaView(schema.items, doc, depth + 1));
  if (schema.properties && depth < 4) {
    const required = new Set<string>(schema.required || []);
    const rows = Object.keys(schema.properties).map((name) => h("li", null,
      h("code", null, name), required.has(name) ? h("span", { class: "required" }, " required") : null, ": ",
      schemaView(schema.properties[name], doc, depth + 1),
      schema.properties[name].description ? h("span", { class: "desc" }, " — ", inline(schema.properties[name].description)) : null));
    if (schema.additionalProperties === false) rows.push(h("li", { class: "facts" }, "no other fields"));
    head.push(h("ul", { class: "props" }, rows));
  }
  return h("span", { class: "schema" }, head);
}

function operationView(path: string, method: string, op: Json, doc: Json): HTMLElement {
  const id = op.operationId ? "op-" + op.operationId : "op-" + slug(method + " " + path);
  const params: Json[] = (op.parameters || []).map((p: Json) => (p.$ref ? doc.components?.parameters?.[refName(p.$ref)] || p : p));
  const body = op.requestBody?.content;
  return h("article", { class: "op", id, "data-method": method.toUpperCase(), "data-path": path },
    h("h3", null, h("span", { class: "method m-" + method }, method.toUpperCase()), " ", h("code", { class: "path" }, path)),
    op.summary ? h("p", { class: "summary" }, inline(op.summary)) : null,
    op.description ? h("p", { class: "desc" }, inline(op.description)) : null,
    params.length ? h("div", { class: "table-wrap" }, h("table", { class: "params" },
      h("caption", null, "Parameters"),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "name"), h("th", { scope: "col" }, "in"), h("th", { scope: "col" }, "schema"))),
      h("tbody", null, params.map((p) => h("tr", null,
        h("td", null, h("code", null, p.name), p.required ? h("span", { class: "required" }, " required") : null),
        h("td", null, p.in), h("td", null, schemaView(p.schema, doc), p.description ? h("div", { class: "desc" }, inline(p.description)) : null)))))) : null,
    body ? h("div", { class: "body" }, h("h4", null, "Request body"),
      Object.keys(body).map((type) => h("div", null, h("code", null, type), " ", schemaView(body[type].schema, doc)))) : null,
    h("h4", null, "Responses"),
    h("ul", { class: "responses" }, Object.keys(op.responses || {}).map((status) => {
      const response = op.responses[status].$ref ? doc.components?.responses?.[refName(op.responses[status].$ref)] || {} : op.responses[status];
      const content = response.content ? Object.keys(response.content) : [];
      return h("li", null, h("span", { class: "status s" + status.charAt(0) }, status), " ", inline(response.description || ""),
        content.map((type) => h("div", { class: "content" }, h("code", null, type), " ", schemaView(response.content[type].schema, doc))));
    })));
}

function render(doc: Json): void {
  const root = document.getElementById("docs-api")!;
  const byTag = new Map<string, HTMLElement[]>();
  let count = 0;
  for (const path of Object.keys(doc.paths || {})) {
    for (const method of METHODS) {
      const op = doc.paths[path][method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push(operationView(path, method, op, doc));
      count++;
    }
  }
  const tags: string[] = (doc.tags || []).map((t: Json) => t.name).filter((t: string) => byTag.has(t));
  for (const t of byTag.keys()) if (!tags.includes(t)) tags.push(t);
  const descriptions = new Map<string, string>((doc.tags || []).map((t: Json) => [t.name, t.description || ""]));
  const schemas = doc.components?.schemas || {};
  replace(root,
    h("section", { class: "info" }, h("h2", null, doc.info?.title || "API", " ", h("span", { class: "version" }, doc.info?.version || "")),
      String(doc.info?.description || "").split(/\n\n+/).map((p) => h("p", null, inline(p)))),
    h("nav", { class: "toc", "aria-label": "Operations by tag" }, h("ul", null, tags.map((t) => h("li", null, h("a", { href: "#tag-" + slug(t) }, t, " (" + byTag.get(t)!.length + ")"))))),
    tags.map((t) => h("section", { class: "tag", id: "tag-" + slug(t), "aria-labelledby": "tag-title-" + slug(t) },
      h("h2", { id: "tag-title-" + slug(t) }, t), descriptions.get(t) ? h("p", null, inline(descriptions.get(t)!)) : null, byTag.get(t)!)),
    h("section", { class: "schemas", "aria-labelledby": "schemas-title" }, h("h2", { id: "schemas-title" }, "Schemas"),
      Object.keys(schemas).sort().map((name) => h("article", { class: "schema-def", id: "schema-" + slug(name) },
        h("h3", null, h("code", null, name)), schemas[name].description ? h("p", null, inline(schemas[name].description)) : null,
        schemaView({ ...schemas[name], $ref: undefined }, doc)))));
  const status = document.getElementById("docs-status")!;
  status.textContent = `${count} operations in ${tags.length} groups, ${Object.keys(schemas).length} schemas.`;
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

async function start(): Promise<void> {
  const status = document.getElementById("docs-status")!;
  const protocol = document.getElementById("docs-protocol")!;
  const [api, md] = await Promise.allSettled([fetchText("/api/openapi.json"), fetchText("/api/chat-protocol.md")]);
  if (api.status === "fulfilled") {
    try { render(JSON.parse(api.value)); } catch (e) { status.textContent = "The OpenAPI document could not be read: " + String(e); }
  } else status.textContent = "The OpenAPI document could not be loaded: " + String(api.reason);
  if (md.status === "fulfilled") replace(protocol, renderMarkdown(md.value));
  else replace(protocol, h("p", null, "The chat protocol could not be loaded: " + String(md.reason)));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => { void start(); });
else void start();
