// The task drawer: everything about one task, editable in place, kept current by live events.
import { api } from "./api.js";
import { toast, trapFocus } from "./dialogs.js";
import { renderMarkdown } from "./markdown.js";
import { moveTasks } from "./moves.js";
import { COLUMN_LABELS, duration, el, emit, nowSeconds, relAge, state } from "./state.js";
import { chipPicker } from "./picker.js";
import { usageSection } from "./costs.js";
import { attachments, childResults, operate } from "./extras.js";
import { reviewButtons } from "./review.js";
import { marksSection } from "./labels.js";
import { fieldWords, offerUndo, snapshot } from "./undo.js";
import { runningSection } from "./running.js";
import { showGraph } from "./graph.js";

const drawer = () => document.getElementById("drawer");
const backdrop = () => document.getElementById("drawer-backdrop");
let returnFocus = null;
let loadSeq = 0;
let logOpen = false;
let eventsOpen = false; // "Recent events" stays as the reader left it across live refreshes
let shown = null; // the task as last rendered: what an undo of an edit puts back
let logTouched = false; // the person opened or closed the log: no longer opened for them
const FOLLOW_MS = 1500; // a running task's log is read again this often while it is shown
let showAllRuns = false;
let lastEdited = null; // the field just saved gets the focus back after the refresh

// Status actions offered for each status; the server still decides.
const ACTIONS = {
  triage: ["todo", "ready", "blocked", "done", "archived"],
  todo: ["triage", "ready", "blocked", "done", "archived"],
  ready: ["triage", "todo", "blocked", "done", "archived"],
  running: ["blocked", "done", "archived"],
  review: ["ready", "blocked", "archived"],
  blocked: ["unblock", "todo", "triage", "done", "archived"],
  done: ["todo", "ready", "archived"],
  archived: ["triage", "todo", "ready"],
};
const ACTION_LABEL = {
  triage: "→ Triage", todo: "→ Todo", ready: "→ Ready", blocked: "Block", unblock: "Unblock",
  done: "Complete", archived: "Archive",
};

// While the drawer is open the page behind it is inert: no focus, no clicks, hidden from
// assistive technology, as aria-modal promises.
const BEHIND = [".skip-link", ".topbar", ".toolbar", "#banner", "#config-banner", "#board", "#bulk-bar"];
function setBackgroundInert(on) {
  for (const sel of BEHIND) document.querySelector(sel)?.toggleAttribute("inert", on);
}

export function isOpen() {
  return !drawer().hidden;
}

export async function openDrawer(id) {
  if (!isOpen()) returnFocus = document.activeElement;
  state.openTaskId = id;
  // The address names the open task, so a link (or a reload) opens it again.
  history.replaceState(null, "", `#${encodeURIComponent(id)}`);
  logOpen = false;
  logTouched = false;
  showAllRuns = false;
  const d = drawer();
  d.hidden = false;
  backdrop().hidden = false;
  setBackgroundInert(true);
  document.body.classList.add("drawer-open");
  d.replaceChildren(el("p", { class: "loading" }, "Loading…"));
  d.focus();
  await refreshDrawer();
  const title = d.querySelector("#drawer-title");
  if (title && d.contains(document.activeElement) === false) title.focus();
  else if (document.activeElement === d) d.querySelector(".drawer-close")?.focus();
}

export function closeDrawer() {
  if (!isOpen()) return;
  drawer().hidden = true;
  backdrop().hidden = true;
  setBackgroundInert(false);
  document.body.classList.remove("drawer-open");
  state.openTaskId = null;
  history.replaceState(null, "", location.pathname + location.search);
  const back = returnFocus;
  returnFocus = null;
  if (back && document.contains(back)) back.focus();
  else emit("focus-board");
}

/** Reload the open task. Skipped while the user is typing in the drawer, so nothing is lost. */
export async function refreshDrawer({ live = false } = {}) {
  const id = state.openTaskId;
  if (!id) return;
  const d = drawer();
  if (typing(d, live)) {
    d.dataset.stale = "1";
    return;
  }
  const seq = ++loadSeq;
  let data;
  let homes = [];
  try {
    [data, homes] = await Promise.all([
      api.task(id),
      api.homeChannels(id).then((r) => r.home_channels || []).catch(() => []),
    ]);
  } catch (err) {
    if (seq !== loadSeq) return;
    const why = err.status === 404 ? `Task ${id} does not exist on this board (${err.message}).` : err.message;
    d.replaceChildren(el("div", { class: "drawer-head" }, el("h2", { id: "drawer-title" }, id), closeButton()), el("p", { class: "form-error" }, why));
    return;
  }
  if (seq !== loadSeq || state.openTaskId !== id) return;
  if (typing(d, live)) {
    d.dataset.stale = "1";
    return;
  }
  delete d.dataset.stale;
  const scroll = d.scrollTop;
  const focusKey = document.activeElement?.dataset?.key;
  const lostFocus = !d.contains(document.activeElement);
  d.replaceChildren(...renderDetail(data, homes));
  d.scrollTop = scroll;
  const key = focusKey || (lostFocus ? lastEdited : null);
  const target = key && d.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (target) target.focus({ preventScroll: true });
  else if (lostFocus) d.focus({ preventScroll: true });
  lastEdited = null;
  if (logOpen) loadLog();
}

// Someone typing in the drawer keeps their text: a live refresh waits while any editor is open,
// any refresh waits while the focus is in an open editor.
function typing(d, live) {
  const open = d.querySelector(".editing");
  if (!open) return false;
  return live || !!document.activeElement?.closest(".editing");
}

function closeButton() {
  return el("button", { type: "button", class: "btn ghost drawer-close", "aria-label": "Close (Esc)", "data-key": "close", onclick: closeDrawer }, "×");
}

function section(title, ...children) {
  return el("section", { class: "drawer-section" }, el("h3", null, title), ...children);
}

async function patch(body, what) {
  const before = snapshot([shown]);
  try {
    await api.patchTask(state.openTaskId, body);
    offerUndo(`Changed ${fieldWords(Object.keys(body))}`, before, Object.keys(body));
    emit("changed", [state.openTaskId]);
    await refreshDrawer();
    return true;
  } catch (err) {
    toast(`Could not ${what}: ${err.message}`, "error");
    return false;
  }
}

/** Click-to-edit: a display node that turns into an input, Enter saves, Esc cancels. */
function editable({ key, display, value, label, type = "text", list, multiline = false, onSave }) {
  const wrap = el("div", { class: "editable-wrap" });
  const show = () => {
    wrap.classList.remove("editing");
    wrap.replaceChildren(display);
    if (d_stale()) refreshDrawer();
  };
  const edit = () => {
    const input = multiline
      ? el("textarea", { class: "edit-input", rows: 8, "aria-label": label, "data-key": `${key}-input` })
      : el("input", { class: "edit-input", type, list, "aria-label": label, "data-key": `${key}-input`, autocomplete: "off" });
    input.value = value ?? "";
    const save = async () => {
      const v = input.value;
      if (v === (value ?? "")) return show();
      input.disabled = true;
      lastEdited = key;
      if (await onSave(v)) return;
      input.disabled = false;
      input.focus();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        show();
        display.focus();
      } else if (e.key === "Enter" && (!multiline || e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        save();
      }
    });
    const buttons = el(
      "div",
      { class: "edit-actions" },
      el("button", { type: "button", class: "btn primary small", onclick: save }, "Save"),
      el("button", { type: "button", class: "btn ghost small", onclick: () => { show(); display.focus(); } }, "Cancel"),
      multiline ? el("span", { class: "muted small" }, "Ctrl+Enter to save, Esc to cancel") : null,
    );
    wrap.classList.add("editing");
    wrap.replaceChildren(input, buttons);
    input.focus();
    if (!multiline) input.select();
  };
  display.setAttribute("role", "button");
  display.tabIndex = 0;
  display.dataset.key = key;
  display.classList.add("editable");
  display.title = `Click to edit ${label.toLowerCase()}`;
  display.addEventListener("click", (e) => {
    if (!e.target.closest("a")) edit(); // following a link in the description is not editing it
  });
  display.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " " || e.key === "F2") {
      e.preventDefault();
      edit();
    }
  });
  wrap.append(display);
  return wrap;
}

function d_stale() {
  return drawer().dataset.stale === "1";
}

function renderDetail(data, homes) {
  const t = data.task;
  shown = t;
  const now = nowSeconds();
  const out = [];
  const titleEl = el("h2", { id: "drawer-title", "aria-label": `${t.title} (edit title)` }, t.title);
  out.push(
    el("div", { class: "drawer-head" },
      el("span", { class: "card-id" }, t.id),
      el("span", { class: `status-pill st-${t.status}` }, COLUMN_LABELS[t.status] || t.status),
      el("span", { class: "spacer" }),
      el("button", { type: "button", class: "btn ghost small", "data-key": "graph", title: "Draw its parents and children, and theirs", onclick: () => showGraph(t.id, openDrawer) }, "Dependencies"),
      closeButton()),
    editable({ key: "title", display: titleEl, value: t.title, label: "Title", onSave: (v) => {
      if (!v.trim()) {
        toast("The title cannot be empty", "error");
        return false;
      }
      return patch({ title: v.trim() }, "rename");
    } }),
  );
  out.push(metaGrid(t, now, data.events || []));
  const decide = reviewButtons(t, refreshDrawer);
  if (decide) out.push(decide);
  out.push(marksSection(t, patch));
  out.push(actionsRow(t), operate(data, refreshDrawer, closeDrawer));
  const running = runningSection(data);
  if (running) out.push(running);
  if (homes.length) out.push(homePills(t, homes));
  const bodyView = el("div", { class: "body-view" });
  if (t.body) renderMarkdown(bodyView, t.body);
  else bodyView.append(el("span", { class: "muted" }, "No description. Click to add one."));
  out.push(section("Description", editable({ key: "body", display: bodyView, value: t.body || "", label: "Description", multiline: true, onSave: (v) => patch({ body: v }, "save the description") })));
  out.push(dependencies(data));
  if (t.result) {
    const r = el("div", { class: "result" });
    renderMarkdown(r, t.result);
    out.push(section("Result", r));
  }
  out.push(...[childResults(data)].filter(Boolean), attachments(data, now, refreshDrawer));
  out.push(comments(data, now));
  out.push(usageSection(t.id));
  out.push(runHistory(data.runs || [], now));
  out.push(events(data.events || [], now));
  out.push(workerLog(t));
  return out;
}

function blockReason(evts) {
  const last = [...evts].sort((a, b) => b.id - a.id).find((e) => e.kind === "blocked" || e.kind === "unblocked");
  return last?.kind === "blocked" ? last.payload?.reason || "no reason given" : null;
}

function metaGrid(t, now, evts) {
  const assignee = editable({
    key: "assignee",
    display: el("span", { class: t.assignee ? "" : "muted" }, t.assignee ? `@${t.assignee}` : "unassigned"),
    value: t.assignee || "",
    label: "Assignee",
    list: "assignee-options",
    onSave: (v) => patch({ assignee: v.trim() }, "reassign"),
  });
  const priority = editable({
    key: "priority",
    display: el("span", null, String(t.priority ?? 0)),
    value: String(t.priority ?? 0),
    label: "Priority",
    type: "number",
    onSave: (v) => {
      const n = Number.parseInt(v, 10);
      if (Number.isNaN(n)) {
        toast("Priority must be a whole number", "error");
        return false;
      }
      return patch({ priority: n }, "change the priority");
    },
  });
  const rows = [
    ["Assignee", assignee],
    ["Priority", priority],
    ["Tenant", t.tenant || "—"],
    ["Created", `${relAge(now - t.created_at)} ago${t.created_by ? ` by ${t.created_by}` : ""}`],
    ["Workspace", t.workspace_path ? `${t.workspace_kind}: ${t.workspace_path}` : t.workspace_kind || "—"],
  ];
  if (t.status === "blocked") rows.unshift(["Blocked", blockReason(evts) || "—"]);
  if (t.why) rows.unshift(["Not moving", el("span", { class: "why", "data-kind": t.why.kind }, t.why.text)]);
  if (t.skills?.length) rows.push(["Skills", t.skills.join(", ")]);
  if (t.started_at) rows.push(["Started", `${relAge(now - t.started_at)} ago`]);
  if (t.consecutive_failures) rows.push(["Failures", `${t.consecutive_failures}${t.last_failure_error ? ` — ${t.last_failure_error}` : ""}`]);
  return el("dl", { class: "meta" }, rows.flatMap(([k, v]) => [el("dt", null, k), el("dd", null, v)]));
}

function actionsRow(t) {
  const row = el("div", { class: "status-actions", role: "group", "aria-label": "Status actions" });
  for (const a of ACTIONS[t.status] || []) {
    const target = a === "unblock" ? "ready" : a;
    row.append(el("button", {
      type: "button",
      class: `btn small${a === "archived" ? " danger" : a === "done" ? " primary" : ""}`,
      "data-action": a,
      "data-key": `action-${a}`,
      onclick: async () => {
        if (await moveTasks([t.id], target, t)) await refreshDrawer();
      },
    }, ACTION_LABEL[a]));
  }
  return row;
}

function homePills(t, homes) {
  const row = el("div", { class: "home-subs", role: "group", "aria-label": "Notify home channels" });
  for (const h of homes) {
    let on = !!h.subscribed;
    let busy = false;
    const pill = el("button", { type: "button", class: "home-pill", "data-platform": h.platform, "data-key": `home-${h.platform}`, title: `${h.name || "Home"} (${h.chat_id})` });
    const paint = () => {
      pill.classList.toggle("on", on);
      pill.setAttribute("aria-pressed", String(on));
      pill.textContent = `${on ? "✓ " : ""}${h.platform}`;
    };
    paint();
    pill.addEventListener("click", async () => {
      if (busy) return;
      busy = true;
      on = !on; // optimistic
      paint();
      pill.setAttribute("aria-busy", "true");
      try {
        await api.homeSubscribe(t.id, h.platform, on);
      } catch (err) {
        on = !on; // revert
        paint();
        toast(`Could not change ${h.platform} notifications: ${err.message}`, "error");
      } finally {
        busy = false;
        pill.removeAttribute("aria-busy");
      }
    });
    row.append(pill);
  }
  return section("Notify home channels", el("p", { class: "muted small" }, "Send completed, blocked and gave-up news for this task to:"), row);
}

function taskLabel(id) {
  const t = state.tasks.get(id);
  return t ? `${id} · ${t.title}` : id;
}

function dependencies(data) {
  const id = data.task.id;
  const links = data.links || { parents: [], children: [] };
  const exclude = new Set([id, ...links.parents, ...links.children]);
  const mk = (kind, ids) =>
    chipPicker({
      label: kind === "parents" ? "Parents (this task waits for them)" : "Children (they wait for this task)",
      key: `dep-${kind}`,
      ids,
      exclude,
      format: taskLabel,
      onOpen: (other) => openDrawer(other),
      onAdd: async (other) => {
        try {
          if (kind === "parents") await api.link(other, id);
          else await api.link(id, other);
          emit("reload");
          await refreshDrawer();
        } catch (err) {
          toast(`Could not link: ${err.message}`, "error");
        }
      },
      onRemove: async (other) => {
        try {
          if (kind === "parents") await api.unlink(other, id);
          else await api.unlink(id, other);
          emit("reload");
          await refreshDrawer();
        } catch (err) {
          toast(`Could not unlink: ${err.message}`, "error");
        }
      },
    });
  return section("Dependencies", mk("parents", links.parents), mk("children", links.children));
}

function comments(data, now) {
  const list = el("ol", { class: "comments" });
  for (const c of data.comments || []) {
    const body = el("div", { class: "comment-body" });
    renderMarkdown(body, c.body);
    list.append(el("li", { class: "comment" }, el("div", { class: "comment-head" }, el("strong", null, c.author || "someone"), el("span", { class: "muted small" }, `${relAge(now - c.created_at)} ago`)), body));
  }
  if (!list.children.length) list.append(el("li", { class: "muted" }, "No comments yet."));
  const box = el("textarea", { class: "composer-input", rows: 2, placeholder: "Write a comment… (Enter to send, Shift+Enter for a new line)", "aria-label": "New comment", "data-key": "composer" });
  const send = async () => {
    const text = box.value.trim();
    if (!text) return;
    box.disabled = true;
    try {
      await api.comment(state.openTaskId, text);
      box.value = "";
      box.closest(".composer")?.classList.remove("editing");
      emit("changed", [state.openTaskId]);
      await refreshDrawer();
      drawer().querySelector('[data-key="composer"]')?.focus();
    } catch (err) {
      toast(`Could not comment: ${err.message}`, "error");
      box.disabled = false;
    }
  };
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      send();
    }
  });
  const composer = el("div", { class: "composer" }, box, el("button", { type: "button", class: "btn primary small", "data-key": "comment-send", onclick: send }, "Comment"));
  // While a comment is being written, live refreshes wait so the text is not lost.
  box.addEventListener("input", () => composer.classList.toggle("editing", !!box.value));
  return section(`Comments (${(data.comments || []).length})`, list, composer);
}

function runHistory(runs, now) {
  if (!runs.length) return section("Run history", el("p", { class: "muted" }, "Never run."));
  const sorted = [...runs].sort((a, b) => b.started_at - a.started_at || b.id - a.id); // whole seconds tie
  const shown = showAllRuns ? sorted : sorted.slice(0, 3);
  const list = el("ol", { class: "runs" });
  for (const r of shown) {
    const end = r.ended_at || now;
    const item = el("li", { class: `run run-${r.outcome || "open"}` },
      el("div", { class: "run-head" },
        el("span", { class: `status-pill outcome-${r.outcome || "running"}` }, r.outcome || r.status || "running"),
        r.kind && r.kind !== "work" ? el("span", { class: "badge review" }, r.kind) : null,
        r.profile ? el("span", null, `@${r.profile}`) : null,
        el("span", { class: "muted" }, duration(end - r.started_at)),
        el("span", { class: "muted small" }, `${relAge(now - r.started_at)} ago`)));
    if (r.summary) {
      const s = el("div", { class: "run-summary" });
      renderMarkdown(s, r.summary);
      item.append(s);
    }
    if (r.error) item.append(el("pre", { class: "run-error" }, r.error));
    if (r.metadata && Object.keys(r.metadata).length) item.append(el("pre", { class: "run-meta" }, JSON.stringify(r.metadata, null, 2)));
    list.append(item);
  }
  const more = sorted.length > 3
    ? el("button", { type: "button", class: "btn ghost small", "data-key": "runs-more", onclick: () => { showAllRuns = !showAllRuns; refreshDrawer(); } }, showAllRuns ? "Show fewer" : `Show all ${sorted.length} runs`)
    : null;
  return section(`Run history (${runs.length})`, list, more);
}

function events(evts, now) {
  const recent = [...evts].sort((a, b) => b.id - a.id).slice(0, 20);
  const list = el("ol", { class: "events" });
  for (const e of recent) {
    list.append(el("li", null,
      el("span", { class: "event-kind" }, e.kind),
      el("span", { class: "muted small" }, `${relAge(now - e.created_at)} ago`),
      e.payload && Object.keys(e.payload).length ? el("code", { class: "event-payload" }, JSON.stringify(e.payload)) : null));
  }
  const det = el("details", { class: "drawer-section events-section" }, el("summary", { "data-key": "events-summary" }, `Recent events (${recent.length})`), list);
  det.open = eventsOpen;
  det.addEventListener("toggle", () => (eventsOpen = det.open));
  return det;
}

function workerLog(t) {
  const pre = el("pre", { class: "log", tabindex: "0", "aria-label": "Worker log" }, "");
  const note = el("p", { class: "muted small log-note" });
  const det = el("details", { class: "drawer-section log-section" },
    el("summary", { "data-key": "log-summary" }, "Worker log"),
    el("div", { class: "log-actions" }, el("button", { type: "button", class: "btn small", "data-key": "log-refresh", onclick: loadLog }, "Refresh log"), note),
    pre);
  // A running task's log is open from the start and follows as it grows.
  if (!logTouched && t.status === "running") logOpen = true;
  det.open = logOpen;
  det.dataset.follow = t.status === "running" ? "1" : "";
  det.addEventListener("toggle", () => {
    if (det.open === logOpen) return;
    logOpen = det.open;
    logTouched = true;
    if (det.open) loadLog();
  });
  return det;
}

async function loadLog({ quiet = false } = {}) {
  const d = drawer();
  const pre = d.querySelector(".log");
  const note = d.querySelector(".log-note");
  if (!pre || !state.openTaskId) return;
  if (!quiet) note.textContent = "Loading…";
  try {
    const res = await api.log(state.openTaskId);
    if (!res.exists) {
      pre.textContent = "";
      note.textContent = "No worker log yet: this task has not been run.";
      return;
    }
    // Stay at the end while the reader is there; leave them where they scrolled otherwise.
    const atEnd = !pre.textContent || pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    if (pre.textContent !== res.content) pre.textContent = res.content;
    const follow = d.querySelector(".log-section")?.dataset.follow ? " — following" : "";
    note.textContent = `${res.size_bytes} bytes${res.truncated ? " — showing the last 100 kB" : ""}${follow}`;
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  } catch (err) {
    note.textContent = `Could not load the log: ${err.message}`;
  }
}

setInterval(() => {
  const det = isOpen() && !document.hidden ? drawer().querySelector(".log-section") : null;
  if (det && det.open && det.dataset.follow) loadLog({ quiet: true });
}, FOLLOW_MS);

export function installDrawer() {
  const d = drawer();
  d.addEventListener("keydown", (e) => {
    trapFocus(d, e);
    if (e.key === "Escape" && !e.defaultPrevented) {
      e.preventDefault();
      closeDrawer();
    }
  });
  backdrop().addEventListener("click", closeDrawer);
}

