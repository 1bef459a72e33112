// The drawer's view of a running attempt: how long it has run, the remote runner holding it (if
// one does), the progress the worker reported, its last heartbeat, and the checkpoint notes it
// left on this attempt (newest first).
import { el, nowSeconds, relAge } from "./state.js";
import { tickRunning } from "./card.js";

function ticking(ts, fmt, prefix = "") {
  const span = el("span", { class: "ticking", "data-since": String(ts), "data-fmt": fmt, "data-prefix": prefix });
  tickRunning(el("div", null, span)); // its text, now
  return span;
}

/** Checkpoint notes of the current attempt, from the task's events (not the dispatcher's). */
export function checkpointNotes(t, evts) {
  return [...evts]
    .filter((e) => e.kind === "heartbeat" && e.run_id === t.current_run_id && e.payload?.note && e.payload?.by !== "dispatcher")
    .sort((a, b) => b.id - a.id);
}

export function runningSection(data) {
  const t = data.task;
  if (t.status !== "running") return null;
  const a = t.activity || {};
  const now = nowSeconds();
  const rows = el("dl", { class: "meta running-meta" });
  if (t.started_at) rows.append(el("dt", null, "Running for"), el("dd", { class: "run-elapsed" }, ticking(t.started_at, "elapsed")));
  if (t.runner) rows.append(el("dt", null, "Runner"), el("dd", { class: "run-runner" }, t.runner));
  rows.append(el("dt", null, "Last heartbeat"), el("dd", { class: "run-heartbeat" },
    t.last_heartbeat_at ? ticking(t.last_heartbeat_at, "ago") : "none yet"));
  if (a.progress && a.progress.total) {
    const { done, total } = a.progress;
    const bar = el("progress", { class: "card-bar", max: String(total), value: String(done), "aria-label": `${done} of ${total} steps` });
    rows.append(el("dt", null, "Progress"), el("dd", { class: "run-progress" }, el("div", { class: "card-bar-row" }, bar, el("span", { class: "card-bar-label" }, `${done}/${total}`))));
  }
  const notes = checkpointNotes(t, data.events || []);
  const list = el("ol", { class: "checkpoints" });
  for (const e of notes.slice(0, 20)) {
    list.append(el("li", { class: "checkpoint" }, el("span", { class: "checkpoint-note" }, e.payload.note), el("span", { class: "muted small" }, ` ${relAge(now - e.created_at)} ago`)));
  }
  if (!notes.length) list.append(el("li", { class: "muted" }, "No checkpoint notes on this attempt yet."));
  return el("section", { class: "drawer-section running-now" }, el("h3", null, "Now"), rows, el("h4", null, "Checkpoint notes"), list);
}
