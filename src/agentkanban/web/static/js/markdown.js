// A tiny escape-first markdown renderer. Every piece of source text is HTML-escaped before any
// tag is added, links are emitted only for http(s) and mailto URLs, and the result passes an
// allow-list sanitiser as a second line of defence. Nothing from a task body, comment or summary
// can become a script, an event-handler attribute or a javascript: URL.

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ESC[c]);
}

const SAFE_URL = /^(https?:\/\/|mailto:)[^\s\x00-\x1f"'<>`]+$/i;

export function safeUrl(url) {
  const u = String(url || "").trim();
  return SAFE_URL.test(u) ? u : null;
}

function emphasis(escaped) {
  return escaped
    .replace(/\*\*([^*\n]+?)\*\*/g, "<strong>$1</strong>")
    .replace(/__([^_\n]+?)__/g, "<strong>$1</strong>")
    .replace(/(^|[^*\w])\*([^*\n]+?)\*(?!\w)/g, "$1<em>$2</em>")
    .replace(/(^|[^_\w])_([^_\n]+?)_(?!\w)/g, "$1<em>$2</em>");
}

const INLINE = /(`+)([^`]*?[^`])\1(?!`)|\[([^\]\n]{1,500})\]\(\s*([^()\s]*(?:\([^()\s]*\))?[^()\s]*)\s*\)|(https?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)])/g;

export function renderInline(raw) {
  const text = String(raw ?? "");
  let out = "";
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    out += emphasis(escapeHtml(text.slice(last, m.index)));
    last = m.index + m[0].length;
    if (m[1]) {
      out += `<code>${escapeHtml(m[2])}</code>`;
    } else if (m[3] !== undefined) {
      const href = safeUrl(m[4]);
      const label = emphasis(escapeHtml(m[3]));
      out += href
        ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${label}</a>`
        : `<span class="md-unsafe-link" title="link removed">${label}</span>`;
    } else if (m[5]) {
      const href = safeUrl(m[5]);
      out += href
        ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${escapeHtml(m[5])}</a>`
        : escapeHtml(m[5]);
    }
  }
  out += emphasis(escapeHtml(text.slice(last)));
  return out;
}

export function markdownToHtml(src) {
  const lines = String(src ?? "").replace(/\r\n?/g, "\n").split("\n");
  const html = [];
  let para = [];
  let list = null; // {tag, items}
  const flushPara = () => {
    if (para.length) html.push(`<p>${para.map(renderInline).join("<br>")}</p>`);
    para = [];
  };
  const flushList = () => {
    if (list) html.push(`<${list.tag}>${list.items.map((i) => `<li>${renderInline(i)}</li>`).join("")}</${list.tag}>`);
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = line.match(/^\s*(```|~~~)\s*([\w+-]*)\s*$/);
    if (fence) {
      flushPara();
      flushList();
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      html.push(`<pre><code>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = line.match(/^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/);
    if (heading) {
      flushPara();
      flushList();
      const level = Math.min(heading[1].length + 2, 6); // inside a card/drawer, h1 renders as h3
      html.push(`<h${level}>${renderInline(heading[2])}</h${level}>`);
      continue;
    }
    const bullet = line.match(/^\s*[-*+]\s+(.*)$/);
    const numbered = line.match(/^\s*\d{1,9}[.)]\s+(.*)$/);
    if (bullet || numbered) {
      flushPara();
      const tag = bullet ? "ul" : "ol";
      if (list && list.tag !== tag) flushList();
      if (!list) list = { tag, items: [] };
      list.items.push((bullet || numbered)[1]);
      continue;
    }
    if (!line.trim()) {
      flushPara();
      flushList();
      continue;
    }
    const quote = line.match(/^\s*>\s?(.*)$/);
    if (quote) {
      flushPara();
      flushList();
      html.push(`<blockquote>${renderInline(quote[1])}</blockquote>`);
      continue;
    }
    if (list && /^\s{2,}\S/.test(line)) {
      list.items[list.items.length - 1] += " " + line.trim();
      continue;
    }
    flushList();
    para.push(line);
  }
  flushPara();
  flushList();
  return html.join("");
}

const ALLOWED = new Set(["P", "BR", "STRONG", "EM", "CODE", "PRE", "UL", "OL", "LI", "A", "H3", "H4", "H5", "H6", "BLOCKQUOTE", "SPAN"]);
const ALLOWED_ATTRS = { A: new Set(["href", "target", "rel"]), SPAN: new Set(["class", "title"]) };

function sanitize(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
  const bad = [];
  for (let el = walker.nextNode(); el; el = walker.nextNode()) {
    if (!ALLOWED.has(el.tagName)) {
      bad.push(el);
      continue;
    }
    const keep = ALLOWED_ATTRS[el.tagName] || new Set();
    for (const attr of [...el.attributes]) if (!keep.has(attr.name)) el.removeAttribute(attr.name);
    if (el.tagName === "A") {
      if (!safeUrl(el.getAttribute("href"))) el.removeAttribute("href");
      el.setAttribute("rel", "noopener noreferrer");
      el.setAttribute("target", "_blank");
    }
  }
  for (const el of bad) el.replaceWith(document.createTextNode(el.textContent || ""));
}

let enabled = true;

/** The server's dashboard.render_markdown setting: false shows sources as plain text. */
export function setMarkdownEnabled(on) {
  enabled = !!on;
}

/** Render markdown into `el` safely. */
export function renderMarkdown(el, src) {
  if (!enabled) {
    const pre = document.createElement("pre");
    pre.className = "md-plain";
    pre.textContent = String(src ?? "");
    el.replaceChildren(pre);
    return;
  }
  const tpl = document.createElement("template");
  tpl.innerHTML = markdownToHtml(src);
  sanitize(tpl.content);
  el.replaceChildren(tpl.content);
  el.classList.add("md");
}
