// The dependency view: a task's ancestors in rows above it and its descendants in rows below,
// drawn as SVG boxes (title and status) joined by arrows from parent to child; a click (or Enter)
// on a box opens that task's drawer. Text only (textContent): nothing stored is markup.
import { api } from "./api.js";
import { prepareDialog, toast } from "./dialogs.js";
import { COLUMN_LABELS } from "./state.js";

const NS = "http://www.w3.org/2000/svg";
const W = 176; // a box
const H = 48;
const GAP_X = 16;
const GAP_Y = 46;
const PAD = 14;
const TOP = 24; // room above the first row for a link bowed over it
const MAX_DEPTH = 10;
const $ = (id) => document.getElementById(id);
let shown = null; // {id, depth, open}: what the dialog draws
let seq = 0; // only the latest answer is drawn

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) node.setAttribute(k, String(v));
  for (const c of children) node.append(c); // strings become text nodes
  return node;
}

const cut = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Box positions: one row per depth; rows filled outward from the task, each row ordered by where
 * its already-placed neighbours sit (fewer crossing lines), then centred. */
function layout(view) {
  const rows = new Map();
  for (const n of view.nodes) rows.set(n.depth, [...(rows.get(n.depth) || []), n]);
  const depths = [...rows.keys()].sort((a, b) => a - b);
  const widest = Math.max(...[...rows.values()].map((r) => r.length));
  const width = widest * (W + GAP_X) - GAP_X + 2 * PAD;
  const near = new Map(); // id -> ids linked to it
  for (const e of view.edges) {
    near.set(e.parent, [...(near.get(e.parent) || []), e.child]);
    near.set(e.child, [...(near.get(e.child) || []), e.parent]);
  }
  const pos = new Map();
  for (const d of [...depths].sort((a, b) => Math.abs(a) - Math.abs(b) || b - a)) {
    const key = (n) => {
      const xs = (near.get(n.id) || []).filter((o) => pos.has(o)).map((o) => pos.get(o).x);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
    };
    const row = rows.get(d).map((n, i) => [key(n), i, n]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((r) => r[2]);
    const x0 = (width - (row.length * (W + GAP_X) - GAP_X)) / 2;
    const y = TOP + depths.indexOf(d) * (H + GAP_Y);
    row.forEach((n, i) => pos.set(n.id, { x: x0 + i * (W + GAP_X), y }));
  }
  return { pos, width, height: TOP + depths.length * (H + GAP_Y) - GAP_Y + PAD };
}

function edge(a, b) {
  // Parent's bottom to child's top. A link that does not go down a row (a shortcut past a level:
  // both ends in one row, or the child above) bows over the top, into the child's top.
  const x1 = a.x + W / 2;
  const x2 = b.x + W / 2;
  const y2 = b.y - 2;
  let d;
  if (b.y > a.y) {
    const y1 = a.y + H;
    const bend = (y2 - y1) / 2;
    d = `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`;
  } else {
    const over = b.y - GAP_Y * 0.6;
    d = `M${x1},${a.y} C${x1},${over} ${x2},${over} ${x2},${y2}`;
  }
  return svg("path", { class: "graph-edge", d, "marker-end": "url(#graph-arrow)" });
}

function box(n, at, root, open) {
  const status = COLUMN_LABELS[n.status] || n.status;
  const g = svg("g", {
    class: `graph-node${n.id === root ? " graph-root" : ""}`, transform: `translate(${at.x},${at.y})`,
    tabindex: 0, role: "button", "data-id": n.id, "data-status": n.status, "aria-label": `${n.title} (${status})`,
  },
  svg("title", null, `${n.id} · ${n.title} (${status}${n.assignee ? `, @${n.assignee}` : ""})`),
  svg("rect", { width: W, height: H, rx: 7 }),
  svg("text", { x: 10, y: 19, class: "graph-title" }, cut(n.title, 24)),
  svg("text", { x: 10, y: 37, class: "graph-status" }, status),
  svg("text", { x: W - 10, y: 37, class: "graph-id", "text-anchor": "end" }, n.id));
  const go = () => {
    $("graph-dialog").close();
    open(n.id);
  };
  g.addEventListener("click", go);
  g.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      go();
    }
  });
  return g;
}

function draw(view, open) {
  const { pos, width, height } = layout(view);
  const arrow = svg("marker", { id: "graph-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    svg("path", { d: "M0,0 L10,5 L0,10 z" }));
  const picture = svg("svg", { class: "graph", width, height, viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": "Dependency graph" },
    svg("defs", null, arrow),
    ...view.edges.filter((e) => pos.has(e.parent) && pos.has(e.child)).map((e) => edge(pos.get(e.parent), pos.get(e.child))),
    ...view.nodes.map((n) => box(n, pos.get(n.id), view.root, open)));
  const holder = $("graph-view");
  holder.replaceChildren(picture);
  const at = pos.get(view.root); // the task in the middle of what shows
  holder.scrollLeft = at.x + W / 2 - holder.clientWidth / 2;
  holder.scrollTop = at.y + H / 2 - holder.clientHeight / 2;
}

async function load() {
  const { id, depth, open } = shown;
  const mine = ++seq;
  try {
    const view = await api.graph(id, { depth });
    if (mine !== seq) return;
    const up = view.nodes.filter((n) => n.depth < 0).length;
    const down = view.nodes.filter((n) => n.depth > 0).length;
    $("graph-note").textContent = `${up} above (it waits for them), ${down} below (they wait for it). Click a task to open it.`;
    $("graph-more").hidden = !view.truncated || depth >= MAX_DEPTH;
    $("graph-truncated").hidden = !view.truncated;
    draw(view, open);
  } catch (err) {
    toast(`Could not draw the dependencies: ${err.message}`, "error");
  }
}

/** Open the dialog on task `id`; `open(id)` opens a task's drawer. */
export function showGraph(id, open) {
  shown = { id, depth: 3, open };
  $("graph-view").replaceChildren();
  $("graph-note").textContent = "Loading…";
  $("graph-more").hidden = true;
  $("graph-truncated").hidden = true;
  $("graph-dialog").showModal();
  load();
}

export function installGraph() {
  prepareDialog($("graph-dialog"));
  $("graph-more").addEventListener("click", () => {
    shown.depth = Math.min(MAX_DEPTH, shown.depth + 2);
    load();
  });
}
