// Live updates for a few tasks at a time: fetch just those tasks and patch them into the board,
// instead of reloading every card. Anything this cannot follow exactly (links, many tasks at once,
// an unknown kind) falls back to a full reload, and a full reload also runs every minute while
// events keep coming, so the board never drifts from the server.

import { api } from "./api.js";
import { state } from "./state.js";

const PATCHABLE = new Set([
  "created", "promoted", "claimed", "completed", "blocked", "unblocked", "archived", "assigned",
  "edited", "reprioritized", "status", "commented", "spawned", "heartbeat", "reclaimed", "crashed",
  "protocol_violation", "rate_limited", "timed_out", "spawn_failed", "gave_up", "labeled",
  "due_changed",
]);
export const MAX_PATCH = 8;
const RECONCILE_MS = 60_000;
let lastFull = 0;

export function markFullLoad() {
  lastFull = performance.now();
}

/** Can this batch be followed by patching its tasks? */
export function patchable(events) {
  if (!state.data || performance.now() - lastFull > RECONCILE_MS) return false;
  return events.every((e) => e.task_id && PATCHABLE.has(e.kind));
}

function before(a, b) {
  return (b.priority || 0) - (a.priority || 0) || a.created_at - b.created_at || (a.id < b.id ? -1 : 1);
}

function bump(id, fn) {
  const t = state.tasks.get(id);
  if (t) Object.assign(t, fn(t));
}

function apply(id, detail) {
  const old = state.tasks.get(id);
  for (const col of state.data.columns) {
    const i = col.tasks.findIndex((t) => t.id === id);
    if (i >= 0) col.tasks.splice(i, 1);
  }
  state.tasks.delete(id);
  if (!detail) return; // deleted
  const links = detail.links || { parents: [], children: [] };
  const task = {
    ...detail.task,
    link_counts: { parents: links.parents.length, children: links.children.length },
    comment_count: (detail.comments || []).length,
    progress: old ? old.progress : null,
  };
  const wasDone = old?.status === "done";
  const isDone = task.status === "done";
  for (const p of links.parents) {
    if (!old) {
      bump(p, (pt) => ({
        progress: { done: (pt.progress?.done || 0) + (isDone ? 1 : 0), total: (pt.progress?.total || 0) + 1 },
        link_counts: { ...pt.link_counts, children: (pt.link_counts?.children || 0) + 1 },
      }));
    } else if (wasDone !== isDone) {
      bump(p, (pt) => (pt.progress ? { progress: { ...pt.progress, done: pt.progress.done + (isDone ? 1 : -1) } } : {}));
    }
  }
  const col = state.data.columns.find((c) => c.name === task.status);
  if (!col) return; // archived while archived tasks are hidden
  let at = col.tasks.findIndex((t) => before(task, t) < 0);
  if (at < 0) at = col.tasks.length;
  col.tasks.splice(at, 0, task);
  state.tasks.set(id, task);
  if (task.tenant && !state.data.tenants.includes(task.tenant)) state.data.tenants = [...state.data.tenants, task.tenant].sort();
  if (task.assignee && !state.data.assignees.includes(task.assignee)) state.data.assignees = [...state.data.assignees, task.assignee].sort();
}

/** Fetch and patch the given tasks into the board state. */
export async function patchTasks(ids) {
  const details = await Promise.all(
    ids.map((id) => api.task(id).catch((err) => (err.status === 404 ? null : Promise.reject(err)))),
  );
  ids.forEach((id, i) => apply(id, details[i]));
}
