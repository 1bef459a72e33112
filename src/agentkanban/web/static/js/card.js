// One card on the board. Cards are cached by id and rebuilt only when what they show changes,
// so a live refresh of a large board touches few DOM nodes.
import { STALE_AFTER, duration, nowSeconds, relAge, state } from "./state.js";
import { holdReason } from "./costs.js";
import { reviewBadges, reviewButtons } from "./review.js";
import { cardMarksSig, decorateCard } from "./labels.js";

const cache = new Map(); // id -> {sig, node}

const template = document.createElement("template");
template.innerHTML = `<article class="card" role="listitem" tabindex="-1" draggable="false">
<div class="card-top"><input type="checkbox" class="card-check" tabindex="-1"><span class="card-id"></span><span class="badges"></span></div>
<div class="card-title"></div>
<div class="card-meta"><span class="card-assignee"></span><span class="card-counts"></span><span class="card-age"></span></div>
</article>`;
const whyProto = document.createElement("div");
whyProto.className = "card-why";
const proto = template.content.firstElementChild;

export function staleLevel(task, column, now) {
  const limits = STALE_AFTER[column];
  if (!limits) return 0;
  const since = column === "running" ? task.started_at || task.updated_at : task.updated_at || task.created_at;
  if (!since) return 0;
  const age = now - since;
  return age >= limits[1] ? 2 : age >= limits[0] ? 1 : 0;
}

function signature(task, column, now) {
  const p = task.progress;
  const lc = task.link_counts || {};
  return [
    task.title, task.assignee, task.priority, task.tenant, task.status, column,
    p ? `${p.done}/${p.total}` : "", task.comment_count, lc.parents, lc.children,
    relAge(now - task.created_at), staleLevel(task, column, now), task.updated_at, holdReason(task),
    task.next_attempt_at ? relAge(Math.max(0, task.next_attempt_at - now)) : "",
    task.review_stage, task.review_rounds, task.approval,
    cardMarksSig(task, now),
    task.why ? `${task.why.kind}:${task.why.text}` : "",
    column === "running" ? runningSig(task) : "",
  ].join("\u0001");
}

function runningSig(task) {
  const a = task.activity || {};
  const p = a.progress;
  return [task.started_at, task.last_heartbeat_at, a.note, a.note_at, p ? `${p.done}/${p.total}` : "", task.runner].join("|");
}

// A span whose text follows the clock (see tickRunning): elapsed time or an age.
function since(cls, ts, fmt, prefix = "") {
  const span = document.createElement("span");
  span.className = cls;
  span.dataset.since = String(ts);
  span.dataset.fmt = fmt;
  span.dataset.prefix = prefix;
  span.textContent = clockText(ts, fmt, prefix, nowSeconds());
  return span;
}

function clockText(ts, fmt, prefix, now) {
  return fmt === "elapsed" ? `${prefix}${duration(now - ts)}` : `${prefix}${relAge(now - ts)} ago`;
}

/** Move every running card's elapsed time and note age to now (called each second). */
export function tickRunning(root = document) {
  const now = nowSeconds();
  for (const span of root.querySelectorAll("[data-since]")) {
    const text = clockText(Number(span.dataset.since), span.dataset.fmt, span.dataset.prefix || "", now);
    if (span.textContent !== text) span.textContent = text;
  }
}

// Running: how long it has run, what the worker last said and when, and its progress.
function runningBlock(task) {
  const a = task.activity || {};
  const box = document.createElement("div");
  box.className = "card-run";
  const line = document.createElement("div");
  line.className = "card-run-line";
  if (task.started_at) {
    const el = since("card-elapsed", task.started_at, "elapsed");
    el.title = `Running since ${new Date(task.started_at * 1000).toLocaleTimeString()}`;
    line.append(el);
  }
  if (a.note) {
    const note = document.createElement("span");
    note.className = "card-note";
    note.textContent = a.note;
    note.title = a.note;
    line.append(note);
    if (a.note_at) line.append(since("card-note-age", a.note_at, "ago"));
  } else if (task.last_heartbeat_at) {
    line.append(since("card-note-age", task.last_heartbeat_at, "ago", "heartbeat "));
  }
  box.append(line);
  if (a.progress && a.progress.total) {
    const { done, total } = a.progress;
    const bar = document.createElement("progress");
    bar.className = "card-bar";
    bar.max = total;
    bar.value = done;
    bar.title = `${done} of ${total} steps`;
    bar.setAttribute("aria-label", `${done} of ${total} steps`);
    const label = document.createElement("span");
    label.className = "card-bar-label";
    label.textContent = `${done}/${total}`;
    const row = document.createElement("div");
    row.className = "card-bar-row";
    row.append(bar, label);
    box.append(row);
  }
  return box;
}

function badge(cls, text, title) {
  const b = document.createElement("span");
  b.className = cls;
  b.textContent = text;
  if (title) b.title = title;
  return b;
}

const svg = (path) =>
  `<svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">${path}</svg>`;
const ICON_COMMENT = svg('<path d="M2.5 3.5h11v7h-6l-3 2.5v-2.5h-2z"/>');
const ICON_LINK = svg('<path d="M6.5 9.5l3-3"/><path d="M7 4.5l1-1a2.5 2.5 0 013.5 3.5l-1 1"/><path d="M9 11.5l-1 1a2.5 2.5 0 01-3.5-3.5l1-1"/>');

function iconCount(icon, n, title) {
  const span = document.createElement("span");
  span.className = "count";
  span.title = title;
  span.innerHTML = icon; // a constant, never task data
  span.append(String(n));
  return span;
}

function build(task, column, now) {
  const node = proto.cloneNode(true);
  node.dataset.id = task.id;
  node.dataset.status = column;
  const check = node.querySelector(".card-check");
  check.setAttribute("aria-label", `Select ${task.id}`);
  node.querySelector(".card-id").textContent = task.id;
  const badges = node.querySelector(".badges");
  if (task.priority) badges.append(badge(`badge prio ${task.priority > 0 ? "prio-high" : "prio-low"}`, `P${task.priority}`, `Priority ${task.priority}`));
  if (task.tenant) badges.append(badge("badge tenant", task.tenant, `Tenant ${task.tenant}`));
  if (task.progress && task.progress.total) {
    const { done, total } = task.progress;
    badges.append(badge(`badge progress${done === total ? " complete" : ""}`, `${done}/${total}`, `${done} of ${total} child tasks done`));
  }
  const held = holdReason(task);
  if (held) badges.append(badge("badge warn held", /budget/.test(held) ? "budget reached" : "provider busy", held));
  if (task.next_attempt_at && task.next_attempt_at > now) {
    const at = new Date(task.next_attempt_at * 1000);
    badges.append(badge("badge warn retry", `retry in ${relAge(task.next_attempt_at - now)}`,
      `The last attempt failed; the next one starts at ${at.toLocaleTimeString()}`));
  }
  badges.append(...reviewBadges(task));
  // A remote runner holds the attempt: which one (its name is checked by the server; text anyway).
  if (column === "running" && task.runner) badges.append(badge("badge runner", `on ${task.runner}`, `Running on the remote runner ${task.runner}`));
  if (column === "ready" && !task.assignee) badges.append(badge("badge warn", "needs assignee", "Ready, but no worker profile is assigned"));
  node.querySelector(".card-title").textContent = task.title;
  if (task.why) {
    // Why it is not moving, in the server's words (one rule for every surface).
    const why = whyProto.cloneNode(false);
    why.dataset.kind = task.why.kind;
    why.textContent = task.why.text;
    why.title = `Not moving: ${task.why.text}`;
    node.querySelector(".card-title").after(why);
  }
  if (column === "running") node.querySelector(".card-meta").before(runningBlock(task));
  const who = node.querySelector(".card-assignee");
  who.textContent = task.assignee ? `@${task.assignee}` : "unassigned";
  if (!task.assignee) who.classList.add("muted");
  const counts = node.querySelector(".card-counts");
  const links = (task.link_counts?.parents || 0) + (task.link_counts?.children || 0);
  if (task.comment_count) counts.append(iconCount(ICON_COMMENT, task.comment_count, `${task.comment_count} comments`));
  if (links) counts.append(iconCount(ICON_LINK, links, `${task.link_counts.parents} parents, ${task.link_counts.children} children`));
  const age = relAge(now - task.created_at);
  const ageEl = node.querySelector(".card-age");
  ageEl.textContent = age;
  ageEl.title = `Created ${new Date(task.created_at * 1000).toLocaleString()}`;
  const decide = task.review_stage === "human" || task.approval === "requested" ? reviewButtons(task) : null;
  if (decide) node.append(decide);
  const stale = staleLevel(task, column, now);
  if (stale) node.classList.add(stale === 2 ? "stale-2" : "stale-1");
  node.setAttribute(
    "aria-label",
    `${task.title}, ${task.id}, ${task.assignee ? "assigned to " + task.assignee : "unassigned"}` +
      `${task.priority ? ", priority " + task.priority : ""}${stale ? ", stale" : ""}`,
  );
  decorateCard(node, task, now);
  return node;
}

export function cardFor(task, column) {
  const now = nowSeconds();
  const sig = signature(task, column, now);
  let entry = cache.get(task.id);
  if (!entry || entry.sig !== sig) {
    entry = { sig, node: build(task, column, now) };
    cache.set(task.id, entry);
  }
  const node = entry.node;
  const selected = state.selected.has(task.id);
  node.classList.toggle("selected", selected);
  node.querySelector(".card-check").checked = selected;
  node.classList.toggle("failed", state.failed.has(task.id));
  node.tabIndex = task.id === state.focusedId ? 0 : -1;
  return node;
}

export function forgetMissing(ids) {
  for (const id of cache.keys()) if (!ids.has(id)) cache.delete(id);
}

export function clearCardCache() {
  cache.clear();
}

export function cardNode(id) {
  return cache.get(id)?.node || null;
}
