// Wires the page together: loading, the toolbar, the board switcher, live updates and keys.
import { api, getBoard, setBoard } from "./api.js";
import { focusCard, pageQuery, paintSelection, reloadDepth, render, resetPaging, setData, showMore } from "./board.js";
import { openCreate, installCreate } from "./create.js";
import { banner, prepareDialog, toast, ask } from "./dialogs.js";
import { installDnd } from "./dnd.js";
import { refreshSpend } from "./costs.js";
import { watchConfig } from "./configstate.js";
import { tickRunning } from "./card.js";
import { closeDrawer, installDrawer, isOpen, openDrawer, refreshDrawer } from "./drawer.js";
import { installKeys } from "./keys.js";
import { LiveFeed } from "./live.js";
import { setMarkdownEnabled } from "./markdown.js";
import { moveTasks, reportBulk } from "./moves.js";
import { installOps } from "./ops.js";
import { installRunners } from "./runners.js";
import { installActivity } from "./activity.js";
import { installSettings } from "./settings.js";
import { installGraph } from "./graph.js";
import { MAX_PATCH, markFullLoad, patchTasks, patchable } from "./patch.js";
import "./profiles.js"; // the Profiles dialog wires itself up
import { clearSelection, installSelection, selectAll } from "./select.js";
import { el, on, state } from "./state.js";
import { fillLabelOptions } from "./labels.js";
import { offerUndo, snapshot } from "./undo.js";
import { anyFilter, emptyFilters, readUrl, writeUrl } from "./urlstate.js";

const BOARD_KEY = "agentkanban.board";
const TASK_HASH = /^t_[0-9a-z]{1,32}$/i;
const PREFS_KEY = "agentkanban.prefs";
const $ = (id) => document.getElementById(id);

let loading = null;
let reloadAgain = false;
let liveBoard = null;

// Worker telemetry that changes nothing a card shows: it refreshes an open drawer, not the board.
// A worker's heartbeat does change its card (the note, its age, the progress); the dispatcher's
// own lease extensions do not.
const CARD_SILENT = new Set(["spawned"]);
const cardSilent = (e) => CARD_SILENT.has(e.kind) || (e.kind === "heartbeat" && e.payload?.by === "dispatcher");

const live = new LiveFeed({
  onEvents: (events) => {
    const visible = events.filter((e) => !cardSilent(e));
    if (visible.length) scheduleReload(visible);
    if (state.openTaskId && events.some((e) => e.task_id === state.openTaskId)) scheduleDrawer();
  },
  onStatus: (status, wait) => {
    const dot = $("live-status");
    dot.dataset.state = status;
    dot.textContent = { live: "live", connecting: "connecting…", retry: `reconnecting in ${Math.round(wait / 1000)}s`, refused: "offline" }[status] || status;
    if (status === "live" && $("banner").dataset.kind === "live") banner(null);
  },
  onRefused: () => {
    banner("Live updates stopped: the server refused this session's token. Sign in again to resume.", {
      action: { label: "Sign in", run: () => location.assign("/login") },
    });
    $("banner").dataset.kind = "live";
  },
});

// ---- loading ---------------------------------------------------------------------------------

export async function loadBoard({ waitFor = null } = {}) {
  if (loading) {
    reloadAgain = true;
    return loading;
  }
  loading = (async () => {
    let gone = false;
    const slug = getBoard();
    const asked = JSON.stringify(pageQuery());
    try {
      const data = await api.boardPage(pageQuery({ limit: reloadDepth() }));
      if (waitFor) await waitFor; // first load: the server's dashboard settings shape the render
      if (slug !== getBoard() || asked !== JSON.stringify(pageQuery())) {
        reloadAgain = true; // the board or the filters changed meanwhile: this answer is for the old ones
      } else {
        setData(data);
        markFullLoad();
        render();
        refreshSpend(render);
        fillFilters(data);
        if (liveBoard !== getBoard()) {
          liveBoard = getBoard();
          live.start(liveBoard, data.latest_event_id || 0);
        }
        if ($("banner").dataset.kind === "load") banner(null);
      }
    } catch (err) {
      if (err.status === 404 && getBoard() !== "default") gone = true;
      else if (err.status !== 401) {
        banner(`Could not load the board: ${err.message}`, { action: { label: "Retry", run: () => loadBoard() } });
        $("banner").dataset.kind = "load";
      }
    } finally {
      loading = null;
    }
    if (gone) {
      toast(`Board “${getBoard()}” is gone; showing the default board.`, "error");
      reloadAgain = false;
      await switchBoard("default");
      return;
    }
    if (reloadAgain) {
      reloadAgain = false;
      await loadBoard();
    }
  })();
  return loading;
}

// Live events arrive in bursts; act at most every 250 ms, and never wait more than a second.
// A burst that touches a few tasks patches just those; anything else reloads the board.
let reloadTimer = 0;
let firstPending = 0;
let pendingIds = new Set();
let needFull = false;
function scheduleReload(events = null) {
  const now = performance.now();
  if (!firstPending) firstPending = now;
  if (events && patchable(events)) for (const e of events) pendingIds.add(e.task_id);
  else needFull = true;
  clearTimeout(reloadTimer);
  const wait = Math.max(0, Math.min(250, 1000 - (now - firstPending)));
  reloadTimer = setTimeout(flushLive, wait);
}

async function flushLive() {
  firstPending = 0;
  const ids = [...pendingIds];
  const full = needFull || ids.length > MAX_PATCH || loading;
  pendingIds = new Set();
  needFull = false;
  if (full) return loadBoard();
  const slug = getBoard();
  try {
    await patchTasks(ids);
    if (slug !== getBoard()) return;
    for (const id of [...state.selected]) if (!state.tasks.has(id)) state.selected.delete(id);
    render();
    updateBulkBar();
    fillFilters(state.data);
    refreshSpend(render);
  } catch {
    loadBoard();
  }
}

let drawerTimer = 0;
function scheduleDrawer() {
  clearTimeout(drawerTimer);
  drawerTimer = setTimeout(() => refreshDrawer({ live: true }), 250);
}

// A value the filters hold (from a shared address) stays selectable even when no task has it now.
function fillSelect(select, values, keep, current = select.value) {
  const frag = document.createDocumentFragment();
  for (const opt of [...select.options].slice(0, keep)) frag.append(opt);
  for (const v of values) frag.append(el("option", { value: v }, v));
  if (current && ![...frag.children].some((o) => o.value === current)) frag.append(el("option", { value: current }, current));
  select.replaceChildren(frag);
  select.value = current || "";
}

function fillFilters(data) {
  fillSelect($("filter-tenant"), data.tenants || [], 1, state.filters.tenant);
  fillSelect($("filter-assignee"), data.assignees || [], 2, state.filters.assignee);
  fillSelect($("filter-label"), (data.labels || []).map((l) => l.name), 1, state.filters.label);
  fillLabelOptions();
  const names = new Set([...(data.assignees || []), ...state.assignees]);
  $("assignee-options").replaceChildren(...[...names].sort().map((n) => el("option", { value: n })));
  $("tenant-options").replaceChildren(...(data.tenants || []).map((n) => el("option", { value: n })));
  state.filters.tenant = $("filter-tenant").value;
  state.filters.assignee = $("filter-assignee").value;
}

async function loadAssignees() {
  try {
    const res = await api.assignees();
    state.assignees = (res.assignees || []).map((a) => a.name);
    const list = $("assignee-options");
    const have = new Set([...list.options].map((o) => o.value));
    for (const n of state.assignees) if (!have.has(n)) list.append(el("option", { value: n }));
  } catch {
    /* suggestions only */
  }
}

// The task datalist can hold thousands of options: fill it only when a picker asks for it.
document.addEventListener("focusin", (e) => {
  if (!e.target.matches?.(".chip-input")) return;
  const list = $("task-options");
  if (list.dataset.version === String(state.data?.latest_event_id)) return;
  const frag = document.createDocumentFragment();
  for (const t of state.tasks.values()) if (t.status !== "archived") frag.append(el("option", { value: t.id }, t.title));
  list.replaceChildren(frag);
  list.dataset.version = String(state.data?.latest_event_id);
});

// ---- boards ----------------------------------------------------------------------------------

async function loadBoards() {
  const res = await api.boards();
  state.boards = res.boards || [];
  const select = $("board-select");
  select.replaceChildren(...state.boards.map((b) => el("option", { value: b.slug }, `${b.name || b.slug} · ${b.total ?? 0}`)));
  select.value = getBoard();
  $("board-archive").disabled = getBoard() === "default";
}

async function switchBoard(slug) {
  setBoard(slug);
  resetPaging();
  localStorage.setItem(BOARD_KEY, slug);
  state.selected.clear();
  state.failed.clear();
  state.focusedId = null;
  state.filters = emptyFilters();
  syncControls();
  writeUrl();
  closeDrawer();
  $("bulk-errors").hidden = true;
  $("board").setAttribute("aria-busy", "true");
  await loadBoards().catch(() => {});
  await loadBoard();
  paintSelection();
  updateBulkBar();
  loadAssignees();
}

function installBoards() {
  $("board-select").addEventListener("change", (e) => switchBoard(e.target.value));
  const dialog = $("board-dialog");
  prepareDialog(dialog);
  const form = $("board-form");
  $("board-new").addEventListener("click", () => {
    form.reset();
    form.querySelector(".form-error").hidden = true;
    dialog.showModal();
    form.slug.focus();
  });
  form.slug.addEventListener("input", () => {
    form.slug.value = form.slug.value.toLowerCase().replace(/\s+/g, "-");
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const slug = form.slug.value.trim();
    const name = form.name.value.trim() || slug.replace(/[-_]+/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());
    try {
      await api.createBoard({ slug, name, description: form.description.value.trim() || undefined });
      dialog.close("ok");
      toast(`Board “${name}” created`, "ok");
      await switchBoard(slug);
    } catch (err) {
      const p = form.querySelector(".form-error");
      p.textContent = err.message;
      p.hidden = false;
    }
  });
  $("board-archive").addEventListener("click", async () => {
    const slug = getBoard();
    if (slug === "default") return;
    const a = await ask({ title: "Archive board", message: `Archive the board “${slug}”? Its tasks are kept and the board can be restored from the CLI.`, ok: "Archive board", danger: true });
    if (!a) return;
    try {
      await api.archiveBoard(slug);
      toast(`Board “${slug}” archived`, "ok");
      await switchBoard("default");
    } catch (err) {
      toast(`Could not archive the board: ${err.message}`, "error");
    }
  });
}

// ---- toolbar ---------------------------------------------------------------------------------

function savePrefs() {
  localStorage.setItem(PREFS_KEY, JSON.stringify({ showArchived: state.showArchived, lanes: state.lanes }));
}

function updateClear() {
  $("clear-filters").hidden = !anyFilter();
}

/** Put the filters' values into the toolbar's controls. */
function syncControls() {
  const f = state.filters;
  $("search").value = f.q;
  for (const [id, v] of [["filter-tenant", f.tenant], ["filter-assignee", f.assignee], ["filter-label", f.label],
    ["filter-status", f.status], ["filter-due", f.due], ["sort-select", f.sort]]) {
    const select = $(id);
    if (v && ![...select.options].some((o) => o.value === v)) select.append(el("option", { value: v }, v));
    select.value = v || "";
  }
  $("filter-attention").checked = f.attention;
  updateClear();
}

// Search and filters run in the database: what is shown is filtered at once from what is
// loaded, then the board is read again with the filters (exact counts, the columns' first pages).
function refilter() {
  writeUrl();
  render();
  updateClear();
  resetPaging();
  loadBoard();
}

function installToolbar() {
  let searchTimer = 0;
  $("search").addEventListener("input", (e) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.filters.q = e.target.value.trim();
      refilter();
    }, 120);
  });
  $("search").addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      if (e.target.value) {
        e.target.value = "";
        state.filters.q = "";
        refilter();
      } else {
        e.target.blur();
        focusCard(state.focusedId || "");
      }
    } else if (e.key === "Enter" || e.key === "ArrowDown") {
      e.preventDefault();
      if (state.focusedId) focusCard(state.focusedId);
    }
  });
  $("filter-tenant").addEventListener("change", (e) => {
    state.filters.tenant = e.target.value;
    refilter();
  });
  $("filter-assignee").addEventListener("change", (e) => {
    state.filters.assignee = e.target.value;
    refilter();
  });
  for (const [id, key] of [["filter-status", "status"], ["filter-label", "label"], ["filter-due", "due"], ["sort-select", "sort"]]) {
    $(id).addEventListener("change", (e) => {
      state.filters[key] = e.target.value;
      refilter();
    });
  }
  $("filter-attention").addEventListener("change", (e) => {
    state.filters.attention = e.target.checked;
    refilter();
  });
  $("filters-toggle").addEventListener("click", (e) => {
    const open = document.body.classList.toggle("filters-open");
    e.currentTarget.setAttribute("aria-expanded", String(open));
  });
  $("clear-filters").addEventListener("click", () => {
    state.filters = { ...emptyFilters(), sort: state.filters.sort };
    syncControls();
    refilter();
  });
  $("show-archived").addEventListener("change", (e) => {
    state.showArchived = e.target.checked;
    savePrefs();
    loadBoard();
  });
  $("lanes").addEventListener("change", (e) => {
    state.lanes = e.target.checked;
    savePrefs();
    render();
  });
  $("refresh-btn").addEventListener("click", () => {
    loadBoard();
    loadBoards().catch(() => {});
    if (state.openTaskId) refreshDrawer();
  });
  $("dispatch-btn").addEventListener("click", async (e) => {
    const btn = e.currentTarget;
    btn.disabled = true;
    try {
      const res = await api.dispatch();
      toast(describeDispatch(res), "ok");
      loadBoard();
    } catch (err) {
      toast(`Dispatcher: ${err.message}`, "error");
    } finally {
      btn.disabled = false;
    }
  });
  $("logout-btn").addEventListener("click", async () => {
    try {
      await api.logout();
    } finally {
      location.assign("/login");
    }
  });
  $("help-btn").addEventListener("click", () => $("help-dialog").showModal());
}

function describeDispatch(res) {
  if (!res || typeof res !== "object") return "Dispatcher ran";
  if (res.skipped_locked) return "Another dispatcher pass is running right now; try again in a moment.";
  const n = (v) => (Array.isArray(v) ? v.length : typeof v === "number" ? v : 0);
  const parts = [`${n(res.spawned)} started`];
  const more = [
    ["promoted", "promoted to ready"],
    ["reclaimed", "reclaimed"],
    ["skipped_unassigned", "ready but unassigned"],
    ["skipped_nonspawnable", "assigned to a profile with no worker command"],
    ["skipped_capped", "waiting for a free worker slot"],
    ["spawn_failed", "failed to start"],
    ["crashed", "found crashed"],
    ["timed_out", "timed out"],
  ];
  for (const [key, label] of more) if (n(res[key])) parts.push(`${n(res[key])} ${label}`);
  let text = `Dispatcher ran: ${parts.join(", ")}`;
  if (res.errors?.length) text += `. Errors: ${res.errors.join("; ")}`;
  return text;
}

// ---- bulk bar --------------------------------------------------------------------------------

export function updateBulkBar() {
  const n = state.selected.size;
  $("bulk-bar").hidden = n === 0 && $("bulk-errors").hidden;
  $("bulk-count").textContent = `${n} selected`;
  document.body.classList.toggle("has-selection", n > 0);
}

async function runBulk(action) {
  const ids = [...state.selected];
  if (action === "clear") return clearSelection();
  if (action === "select-visible") {
    return selectAll(state.visibleOrder.flatMap(([, ids]) => ids));
  }
  if (!ids.length) return;
  const before = snapshot(ids.map((id) => state.tasks.get(id)));
  // A bulk change's toast offers to undo it for the tasks it changed.
  const report = (res, verb, fields) => {
    reportBulk(res, verb, { quiet: true });
    const ok = new Set((res?.results || []).filter((r) => r.ok).map((r) => r.id));
    if (ok.size) offerUndo(`${verb}: ${ok.size} task${ok.size === 1 ? "" : "s"}`, before.filter((b) => ok.has(b.id)), fields);
  };
  try {
    if (["todo", "ready", "blocked", "done"].includes(action)) {
      await moveTasks(ids, action);
      return;
    }
    if (action === "unblock") {
      const blocked = ids.filter((id) => state.tasks.get(id)?.status === "blocked");
      if (!blocked.length) return toast("None of the selected tasks is blocked", "error");
      report(await api.bulk({ ids: blocked, status: "ready" }), "Unblocked", ["status"]);
    } else if (action === "archive") {
      await moveTasks(ids, "archived");
      return;
    } else if (action === "priority") {
      const p = Number.parseInt($("bulk-priority").value, 10);
      if (Number.isNaN(p)) return toast("Priority must be a whole number", "error");
      report(await api.bulk({ ids, priority: p }), `Priority set to ${p}`, ["priority"]);
    } else if (action === "assign") {
      const who = $("bulk-assignee").value.trim();
      report(await api.bulk({ ids, assignee: who }), who ? `Assigned to @${who}` : "Unassigned", ["assignee"]);
    } else if (action === "label-add" || action === "label-remove") {
      const name = $("bulk-label").value.trim();
      if (!name) return toast("Type a label first", "error");
      const adding = action === "label-add";
      report(await api.bulk({ ids, [adding ? "add_labels" : "remove_labels"]: [name] }),
        adding ? `Label “${name}” added` : `Label “${name}” removed`, ["labels"]);
    } else if (action === "due") {
      const v = $("bulk-due").value;
      report(await api.bulk({ ids, due_at: v ? Math.round(new Date(v).getTime() / 1000) : null }),
        v ? "Due date set" : "Due date cleared", ["due_at"]);
    }
  } catch (err) {
    toast(`Bulk action failed: ${err.message}`, "error");
  }
  loadBoard();
}

function installMore() {
  $("board").addEventListener("click", (e) => {
    const b = e.target.closest("[data-more]");
    if (b) showMore(b.dataset.more);
  });
}

function installBulk() {
  $("bulk-bar").addEventListener("click", (e) => {
    const b = e.target.closest("[data-bulk]");
    if (b) runBulk(b.dataset.bulk);
  });
}

// ---- start -----------------------------------------------------------------------------------

on("reload", () => loadBoard());
// After this page changed some tasks: patch those at once (a long list reloads the board).
on("changed", (ids) => {
  for (const id of ids) pendingIds.add(id);
  if (!state.data) needFull = true;
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(flushLive, 0);
});
on("render", () => render());
on("selection", () => {
  paintSelection();
  updateBulkBar();
});
on("focus-board", () => {
  if (state.focusedId) focusCard(state.focusedId, { scroll: false });
});

async function loadConfig(savedPrefs) {
  let cfg = {};
  try {
    cfg = (await api.config()) || {};
  } catch {
    /* defaults below */
  }
  setMarkdownEnabled(cfg.render_markdown !== false);
  if (!savedPrefs) {
    state.lanes = cfg.lane_by_profile !== false;
    state.showArchived = !!cfg.include_archived_by_default;
  }
  state.defaultTenant = cfg.default_tenant || "";
  $("show-archived").checked = state.showArchived;
  $("lanes").checked = state.lanes;
}

async function start() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(PREFS_KEY) || "null");
  } catch {
    /* ignore bad prefs */
  }
  if (saved) {
    state.showArchived = !!saved.showArchived;
    state.lanes = !!saved.lanes;
  }
  $("show-archived").checked = state.showArchived;
  $("lanes").checked = state.lanes;
  state.filters = readUrl(); // a shared or reloaded address brings its view back
  syncControls();
  for (const d of document.querySelectorAll("dialog")) if (d.id !== "create-dialog" && d.id !== "board-dialog") prepareDialog(d);
  installToolbar();
  installBoards();
  installBulk();
  installMore();
  installDrawer();
  installCreate(() => loadBoard());
  installSelection({ open: openDrawer, updateBulkBar });
  installDnd($("board"), (ids, to) => moveTasks(ids, to));
  installOps();
  installRunners();
  installActivity();
  installSettings();
  // The Settings and Runners views link to running tasks, on any board.
  on("open-task", async (board, id) => {
    if (board !== getBoard()) await switchBoard(board);
    openDrawer(id);
  });
  installGraph();
  installKeys({ openCreate, openDrawer, closeDrawer, isDrawerOpen: isOpen, updateBulkBar, reload: loadBoard });
  const slug = localStorage.getItem(BOARD_KEY) || "default";
  setBoard(slug);
  // Server-side dashboard defaults apply until this browser has its own preferences.
  const configLoaded = loadConfig(saved);
  // The board and the board list load together; an unknown slug falls back to the default board.
  const boardsLoaded = loadBoards().then(
    () => state.boards.some((b) => b.slug === slug),
    () => true, // the list failed to load: keep the choice; a missing board answers 404 below
  );
  const showArchived = state.showArchived;
  await loadBoard({ waitFor: configLoaded });
  if (!(await boardsLoaded) && slug !== "default" && getBoard() === slug) await switchBoard("default");
  if (state.showArchived !== showArchived) await loadBoard(); // the server's default differs
  if (state.defaultTenant && !anyFilter() && (state.data?.tenants || []).includes(state.defaultTenant)) {
    state.filters.tenant = state.defaultTenant;
    $("filter-tenant").value = state.defaultTenant;
    refilter();
  }
  loadAssignees();
  watchConfig();
  // The address's hash names a task: /#t_1a2b opens it (or says it does not exist), then and
  // whenever the hash changes.
  const openLinked = () => {
    const linked = decodeURIComponent(location.hash.slice(1));
    if (TASK_HASH.test(linked)) {
      if (linked !== state.openTaskId) openDrawer(linked);
    } else if (!linked && isOpen()) closeDrawer();
  };
  openLinked();
  window.addEventListener("hashchange", openLinked);
  // A stale tab catches up as soon as it becomes visible again.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) scheduleReload();
  });
  // Ages and stale tints move with the clock; running work's elapsed times every second.
  setInterval(() => {
    if (!document.hidden) render();
  }, 60_000);
  setInterval(() => {
    if (!document.hidden) tickRunning();
  }, 1000);
}

start();
