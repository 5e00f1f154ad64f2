// A small Markdown renderer for Frontdesk's own documents (the chat protocol): headings,
// paragraphs, lists, fenced code, tables, inline code, emphasis and links — built as DOM nodes,
// never as an HTML string, so nothing in a document can become markup.
import { h, Child } from "../dom";

/** Renders `source` into a fragment. */
export function renderMarkdown(source: string): DocumentFragment {
  const out = document.createDocumentFragment();
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const ids = new Set<string>();
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === "") { i++; continue; }
    const fence = /^```(\w*)\s*$/.exec(line);
    if (fence) {
      const code: string[] = [];
      i++;
      while (i < lines.length && !/^```\s*$/.test(lines[i])) code.push(lines[i++]);
      i++;
      out.appendChild(h("pre", null, h("code", fence[1] ? { class: "lang-" + fence[1] } : null, code.join("\n"))));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1].length + 1); // the page has its own h1
      const tag = ("h" + level) as "h2";
      let id = "protocol-" + slug(heading[2]);
      for (let n = 2; ids.has(id); n++) id = "protocol-" + slug(heading[2]) + "-" + n;
      ids.add(id);
      out.appendChild(h(tag, { id }, inline(heading[2])));
      i++;
      continue;
    }
    if (/^\|.*\|\s*$/.test(line) && i + 1 < lines.length && /^\|[\s:|-]+\|\s*$/.test(lines[i + 1])) {
      const head = cells(line);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && /^\|.*\|\s*$/.test(lines[i])) rows.push(cells(lines[i++]));
      out.appendChild(h("div", { class: "table-wrap" }, h("table", null,
        h("thead", null, h("tr", null, head.map((c) => h("th", { scope: "col" }, inline(c))))),
        h("tbody", null, rows.map((r) => h("tr", null, r.map((c) => h("td", null, inline(c)))))))));
      continue;
    }
    if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items: string[] = [];
      while (i < lines.length && lines[i].trim() !== "" && !/^```/.test(lines[i])) {
        const item = /^\s*([-*]|\d+\.)\s+(.*)$/.exec(lines[i]);
        if (item) items.push(item[2]);
        else if (items.length) items[items.length - 1] += " " + lines[i].trim();
        i++;
      }
      out.appendChild(h(ordered ? "ol" : "ul", null, items.map((t) => h("li", null, inline(t)))));
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && lines[i].trim() !== "" && !/^(#{1,6}\s|```|\|)/.test(lines[i]) && !/^\s*([-*]|\d+\.)\s+/.test(lines[i])) {
      para.push(lines[i++].trim());
    }
    if (para.length === 0) { out.appendChild(h("p", null, inline(lines[i++]))); continue; }
    out.appendChild(h("p", null, inline(para.join(" "))));
  }
  return out;
}

function cells(row: string): string[] {
  const inner = row.trim().replace(/^\|/, "").replace(/\|$/, "");
  const parts: string[] = [];
  let current = "";
  let inCode = false;
  for (const ch of inner) {
    if (ch === "`") inCode = !inCode;
    if (ch === "|" && !inCode) { parts.push(current.trim()); current = ""; } else current += ch;
  }
  parts.push(current.trim());
  return parts;
}

export function slug(text: string): string {
  return text.toLowerCase().replace(/`/g, "").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** Inline Markdown: `code`, **strong**, *em*, [text](url) (http(s), relative and # links only). */
export function inline(text: string): Child[] {
  const out: Child[] = [];
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*]+)\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    if (match.index > last) out.push(text.slice(last, match.index));
    if (match[1] !== undefined) out.push(h("code", null, match[1]));
    else if (match[2] !== undefined) out.push(h("strong", null, match[2]));
    else if (match[3] !== undefined) out.push(h("em", null, match[3]));
    else {
      const href = match[5];
      out.push(/^(https?:\/\/|\/|#)/.test(href) ? h("a", { href }, match[4]) : match[4]);
    }
    last = pattern.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
