// Renders the columns from the last /board/page response. The server pages each column (search
// and filters run there); a column's next page is fetched when the reader scrolls to its end.
import { api } from "./api.js";
import { cardFor, forgetMissing } from "./card.js";
import { COLUMN_HELP, COLUMN_LABELS, el, nowSeconds, state } from "./state.js";
import { anyFilter, columnShown, matchesMore, serverQuery } from "./urlstate.js";

// Cards per column and request: the first load, and each page fetched on scroll.
export const SERVER_PAGE = 100;
const MAX_SERVER_PAGE = 500;

const boardEl = () => document.getElementById("board");

// Long columns render in pages: the first cards at once, more as the column scrolls near its end.
// Each column remembers how far it was expanded, so live refreshes keep the reader's place.
const FIRST_PAGE = 60;
const NEXT_PAGE = 200;
const expanded = new Map(); // column -> cards rendered
const pending = new Map(); // column -> {tasks, body}
let observer = null;

export function resetPaging() {
  expanded.clear();
}

/** The query of GET /board/page for the current filters; undefined leaves a parameter out. */
export function pageQuery(extra = {}) {
  const f = state.filters;
  return {
    include_archived: state.showArchived ? "true" : undefined,
    q: f.q || undefined,
    tenant: f.tenant || undefined,
    assignee: f.assignee === "__none__" ? "" : f.assignee || undefined,
    ...serverQuery(f),
    ...extra,
  };
}

/** How many cards to ask for per column on a reload: as deep as the reader has scrolled. */
export function reloadDepth() {
  let most = SERVER_PAGE;
  for (const col of state.data?.columns || []) most = Math.max(most, col.tasks.length);
  return Math.min(MAX_SERVER_PAGE, most);
}

const fetching = new Set();

async function fetchMore(name) {
  const col = state.data?.columns.find((c) => c.name === name);
  if (!col || col.next_offset == null || fetching.has(name)) return;
  fetching.add(name);
  const data = state.data;
  try {
    const res = await api.boardPage(pageQuery({ column: name, offset: col.next_offset, limit: SERVER_PAGE }));
    if (state.data !== data) return; // reloaded meanwhile: that load has its own pages
    const got = res.columns[0];
    const added = got.tasks.filter((t) => !state.tasks.has(t.id));
    for (const t of added) state.tasks.set(t.id, t);
    col.tasks.push(...added);
    col.count = got.count;
    col.next_offset = added.length ? got.next_offset : null;
    col.extra = Math.max(0, col.count - col.tasks.length);
    const p = pending.get(name);
    if (p) {
      p.tasks.push(...added.filter(matches));
      p.extra = col.next_offset == null ? 0 : col.extra;
    }
  } catch {
    // Left for the reader to retry: the button comes back enabled.
    document.querySelector(`[data-more="${CSS.escape(name)}"]`)?.removeAttribute("disabled");
    return;
  } finally {
    fetching.delete(name);
  }
  showMore(name);
}

function moreButton(name, left) {
  return el("button", { type: "button", class: "col-more", "data-more": name }, `Show ${Math.min(left, NEXT_PAGE)} more of ${left}`);
}

export function showMore(name, upTo = 0) {
  const p = pending.get(name);
  if (!p) return;
  const have = expanded.get(name) || FIRST_PAGE;
  const want = Math.min(p.tasks.length, Math.max(have + NEXT_PAGE, upTo + 1));
  const list = p.list;
  const frag = document.createDocumentFragment();
  for (const t of p.tasks.slice(have, want)) frag.append(cardFor(t, name));
  list.parentNode?.querySelector(".col-more")?.remove();
  list.append(frag);
  expanded.set(name, want);
  if (want < p.tasks.length || p.extra > 0) {
    const btn = moreButton(name, p.tasks.length - want + (p.extra || 0));
    list.after(btn);
    if (want >= p.tasks.length) {
      btn.disabled = true; // the next cards are on their way from the server
      fetchMore(name);
    } else {
      observer?.observe(btn);
    }
  } else {
    pending.delete(name);
  }
}

function getObserver() {
  if (!observer && "IntersectionObserver" in window) {
    observer = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          if (!e.isIntersecting) continue;
          observer.unobserve(e.target);
          if (e.target.isConnected) showMore(e.target.dataset.more);
        }
      },
      { rootMargin: "600px 0px" },
    );
  }
  return observer;
}
const CREATABLE = new Set(["triage", "todo", "ready", "blocked"]);

export function setData(data) {
  state.data = data;
  state.clockSkew = (data.now || Date.now() / 1000) - Date.now() / 1000;
  state.tasks = new Map();
  for (const col of data.columns) {
    for (const t of col.tasks) state.tasks.set(t.id, t);
    // Cards of the column still on the server (the count is exact; patches keep this offset).
    col.extra = Math.max(0, (col.count ?? col.tasks.length) - col.tasks.length);
  }
  for (const id of [...state.selected]) if (!state.tasks.has(id)) state.selected.delete(id);
  forgetMissing(new Set(state.tasks.keys()));
}

function haystack(t) {
  if (t._hay === undefined) {
    t._hay = [t.id, t.title, t.body, t.assignee, t.tenant, t.result].filter(Boolean).join("\n").toLowerCase();
  }
  return t._hay;
}

export function matches(t) {
  const f = state.filters;
  if (f.tenant && t.tenant !== f.tenant) return false;
  if (f.assignee === "__none__" ? t.assignee : f.assignee && t.assignee !== f.assignee) return false;
  if (f.q) {
    const hay = haystack(t);
    for (const word of f.q.toLowerCase().split(/\s+/)) if (word && !hay.includes(word)) return false;
  }
  return matchesMore(t, f, nowSeconds());
}

function columnHead(name, count, visibleIds) {
  const id = `col-${name}-title`;
  const all = visibleIds.length > 0 && visibleIds.every((i) => state.selected.has(i));
  const some = visibleIds.some((i) => state.selected.has(i));
  const check = el("input", {
    type: "checkbox",
    class: "col-check",
    "aria-label": `Select all in ${COLUMN_LABELS[name] || name}`,
    "data-select-col": name,
    disabled: visibleIds.length === 0,
  });
  check.checked = all;
  check.indeterminate = some && !all;
  return el(
    "header",
    { class: "col-head" },
    check,
    el("span", { class: `dot dot-${name}`, "aria-hidden": "true" }),
    el("h2", { id, title: COLUMN_HELP[name] || "" }, COLUMN_LABELS[name] || name),
    el("span", { class: "col-count", "aria-label": `${count} tasks` }, String(count)),
    CREATABLE.has(name)
      ? el("button", { type: "button", class: "col-add", "data-create": name, "aria-label": `New task in ${COLUMN_LABELS[name]}`, title: `New task in ${COLUMN_LABELS[name]}` }, "+")
      : null,
  );
}

function cardsInto(container, tasks, column, paged = false, extra = 0) {
  const frag = document.createDocumentFragment();
  const limit = paged ? Math.max(FIRST_PAGE, expanded.get(column) || 0) : tasks.length;
  const shown = Math.min(limit, tasks.length);
  for (let i = 0; i < shown; i++) frag.append(cardFor(tasks[i], column));
  container.replaceChildren(frag);
  if (shown < tasks.length || extra > 0) {
    pending.set(column, { tasks, list: container, extra });
    expanded.set(column, shown);
    const btn = moreButton(column, tasks.length - shown + extra);
    container.after(btn); // outside the list: a list holds only its cards
    getObserver()?.observe(btn);
  } else {
    pending.delete(column);
  }
}

function renderColumn(col, prevScroll) {
  const name = col.name;
  const visible = col.tasks.filter(matches);
  const ids = visible.map((t) => t.id);
  const section = el("section", { class: `column col-${name}`, "data-status": name, "aria-labelledby": `col-${name}-title` });
  const extra = col.next_offset == null ? 0 : col.extra || 0;
  section.append(columnHead(name, visible.length + (col.extra || 0), ids));
  const body = el("div", { class: "col-body", "data-status": name });
  if (name === "running" && state.lanes && visible.length) {
    const lanes = new Map();
    for (const t of visible) {
      const key = t.assignee || "";
      if (!lanes.has(key)) lanes.set(key, []);
      lanes.get(key).push(t);
    }
    const ordered = [];
    for (const key of [...lanes.keys()].sort((a, b) => (a === "" ? 1 : b === "" ? -1 : a.localeCompare(b)))) {
      const tasks = lanes.get(key);
      const label = key ? `@${key}` : "unassigned";
      const list = el("div", { class: "lane-cards", role: "list", "aria-label": `${COLUMN_LABELS[name]}: ${label}` });
      cardsInto(list, tasks, name);
      body.append(el("div", { class: "lane" }, el("div", { class: "lane-head" }, `${label} · ${tasks.length}`), list));
      ordered.push(...tasks.map((t) => t.id));
    }
    ids.splice(0, ids.length, ...ordered);
  } else if (visible.length || extra) {
    const list = el("div", { class: "cards", role: "list", "aria-labelledby": `col-${name}-title` });
    body.append(list);
    cardsInto(list, visible, name, true, extra);
  } else {
    body.append(el("p", { class: "empty" }, anyFilter() ? "no matching tasks" : "no tasks"));
  }
  section.append(body);
  if (prevScroll[name]) requestAnimationFrame(() => (body.scrollTop = prevScroll[name]));
  return { section, ids };
}

let deferred = false;
// A re-render mid-drag would pull the card from under the pointer: wait for the drop.
document.addEventListener("kanban:dragend", () => {
  if (deferred) render();
});

export function render() {
  const root = boardEl();
  if (!state.data) return;
  if (document.body.classList.contains("is-dragging")) {
    deferred = true;
    return;
  }
  deferred = false;
  observer?.disconnect();
  pending.clear();
  const prevScroll = {};
  for (const b of root.querySelectorAll(".col-body")) prevScroll[b.dataset.status] = b.scrollTop;
  const hadFocus = root.contains(document.activeElement) && document.activeElement.classList.contains("card");
  const frag = document.createDocumentFragment();
  state.visibleOrder = [];
  let shown = 0;
  for (const col of state.data.columns) {
    if (!columnShown(col.name)) continue;
    const { section, ids } = renderColumn(col, prevScroll);
    frag.append(section);
    state.visibleOrder.push([col.name, ids]);
    shown += ids.length;
  }
  if (state.focusedId && !locate(state.focusedId)) state.focusedId = null;
  if (!state.focusedId) {
    const first = state.visibleOrder.find(([, ids]) => ids.length);
    if (first) state.focusedId = first[1][0];
  }
  root.replaceChildren(frag);
  if (!state.tasks.size) {
    root.prepend(el("div", { class: "board-empty", role: "note" },
      el("strong", null, "This board is empty."), " Press ", el("kbd", null, "n"), " or a column's ", el("kbd", null, "+"),
      " to create the first task, or add one from the command line with ", el("code", null, "kanban create"), "."));
  }
  const focusNode = state.focusedId && root.querySelector(`.card[data-id="${CSS.escape(state.focusedId)}"]`);
  if (focusNode) {
    focusNode.tabIndex = 0;
    if (hadFocus) focusNode.focus({ preventScroll: true });
  }
  root.setAttribute("aria-busy", "false");
  // Marks for the render-time measurement: built and inserted, then painted on the next frame.
  performance.mark("board-rendered", { detail: { cards: shown } });
  requestAnimationFrame(() => setTimeout(() => performance.mark("board-painted", { detail: { cards: shown } }), 0));
  const total = state.data.columns.reduce((n, c) => n + c.tasks.length + (c.extra || 0), 0);
  shown += state.data.columns.reduce((n, c) => n + (c.extra || 0), 0);
  const counter = document.getElementById("board-count");
  counter.textContent = shown === total ? `${total} tasks` : `${shown} of ${total} tasks`;
}

/** Re-sync selection styling without rebuilding the board. */
export function paintSelection() {
  for (const node of boardEl().querySelectorAll(".card")) {
    const on = state.selected.has(node.dataset.id);
    node.classList.toggle("selected", on);
    node.querySelector(".card-check").checked = on;
    node.classList.toggle("failed", state.failed.has(node.dataset.id));
  }
  for (const check of boardEl().querySelectorAll(".col-check")) {
    const ids = (state.visibleOrder.find(([n]) => n === check.dataset.selectCol) || [null, []])[1];
    const all = ids.length > 0 && ids.every((i) => state.selected.has(i));
    check.checked = all;
    check.indeterminate = !all && ids.some((i) => state.selected.has(i));
  }
}

export function visibleIds() {
  return state.visibleOrder.flatMap(([, ids]) => ids);
}

export function locate(id) {
  for (let c = 0; c < state.visibleOrder.length; c++) {
    const r = state.visibleOrder[c][1].indexOf(id);
    if (r >= 0) return [c, r];
  }
  return null;
}

export function focusCard(id, { scroll = true } = {}) {
  const root = boardEl();
  const pos = locate(id);
  if (pos && !root.querySelector(`.card[data-id="${CSS.escape(id)}"]`)) showMore(state.visibleOrder[pos[0]][0], pos[1]);
  const prev = state.focusedId && root.querySelector(`.card[data-id="${CSS.escape(state.focusedId)}"]`);
  if (prev) prev.tabIndex = -1;
  state.focusedId = id;
  const node = root.querySelector(`.card[data-id="${CSS.escape(id)}"]`);
  if (!node) return;
  node.tabIndex = 0;
  node.focus({ preventScroll: !scroll });
  if (scroll) node.scrollIntoView({ block: "nearest", inline: "nearest" });
}
