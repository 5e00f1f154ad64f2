/**
 * Server-rendered HTML (FAQ answers, search snippets) rebuilt node by node from an allowlist.
 *
 * The server already renders only safe markup; this is the second line: the string is parsed
 * inert (DOMParser runs no script and loads nothing), and only allowed elements are created
 * again, with no attribute but a checked link `href` — so even a compromised answer cannot
 * put a handler, a style or a script into the page.
 */

const ALLOWED = new Set(["P", "EM", "STRONG", "CODE", "PRE", "UL", "OL", "LI", "A", "H2", "H3", "H4", "H5", "H6", "BLOCKQUOTE", "HR", "BR", "MARK"]);

/** Whether `href` is http(s), mailto or relative (no other scheme). */
export const safeHref = (href: string) => /^(https?:|mailto:|[^:]*$|[^:]*[/?#])/i.test(href) && !/^\s*(javascript|data|vbscript):/i.test(href);

function copy(from: Node, to: Node): void {
  for (const n of Array.from(from.childNodes)) {
    if (n.nodeType == 3) to.appendChild(document.createTextNode(n.textContent || ""));
    else if (n.nodeType == 1) {
      const el = n as Element;
      if (!ALLOWED.has(el.tagName)) {
        to.appendChild(document.createTextNode(el.textContent || ""));
        continue;
      }
      const out = document.createElement(el.tagName.toLowerCase());
      const href = el.getAttribute("href");
      if (el.tagName == "A" && href && safeHref(href)) {
        out.setAttribute("href", href);
        out.setAttribute("rel", "nofollow noopener");
      }
      copy(el, out);
      to.appendChild(out);
    }
  }
}

/** The allowed part of `html` as nodes to append. */
export function safeFragment(html: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  copy(new DOMParser().parseFromString(html, "text/html").body, frag);
  return frag;
}

/** Puts `data` into the page's head as JSON-LD under `key`, replacing what this key put there before. */
export function jsonLd(key: string, data: unknown): void {
  const sel = `script[type="application/ld+json"][data-frontdesk="${key}"]`;
  const s = document.head.querySelector(sel) || document.head.appendChild(document.createElement("script"));
  s.setAttribute("type", "application/ld+json");
  s.setAttribute("data-frontdesk", key);
  // "<" escaped, so the serialised page never holds a "</script>" inside the data.
  s.textContent = JSON.stringify(data).replace(/</g, "\\u003c");
}

/** The visitor's random id for votes, kept in localStorage (a new one per page view without storage). */
export function visitorId(): string {
  const key = "frontdesk:visitor-votes";
  let id = "";
  try {
    id = localStorage.getItem(key) || "";
  } catch {}
  if (!/^[A-Za-z0-9_-]{8,100}$/.test(id)) {
    id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    try {
      localStorage.setItem(key, id);
    } catch {}
  }
  return id;
}
