// Moving work between statuses: the confirmations people expect, then one request; the server
// decides what is legal and its refusal is shown verbatim.
import { api } from "./api.js";
import { ask, toast } from "./dialogs.js";
import { COLUMN_LABELS, emit, state } from "./state.js";
import { offerUndo, snapshot } from "./undo.js";

/** Ask what a move needs (summary, reason, confirmation). Null when the user cancels. */
export async function prepareMove(to, count, title) {
  const what = count > 1 ? `${count} tasks` : `“${title}”`;
  if (to === "done") {
    const a = await ask({
      title: count > 1 ? `Complete ${count} tasks` : "Complete task",
      message: `Mark ${what} as done. What was the outcome?`,
      input: { label: "Completion summary", required: true, placeholder: "What was done, and where to find it" },
      ok: "Complete",
    });
    return a && { status: "done", result: a.value, summary: a.value };
  }
  if (to === "blocked" && count > 1) {
    // The bulk route takes no reason; a reason can be given per task from its drawer.
    const a = await ask({ title: `Block ${count} tasks`, message: `Block ${what}? They stay blocked until someone unblocks them.`, ok: "Block" });
    return a && { status: "blocked" };
  }
  if (to === "blocked") {
    const a = await ask({
      title: count > 1 ? `Block ${count} tasks` : "Block task",
      message: `Block ${what}? It stays blocked until someone unblocks it.`,
      input: { label: "Reason (optional)", required: false, placeholder: "What is it waiting for?" },
      ok: "Block",
    });
    return a && { status: "blocked", block_reason: a.value || undefined };
  }
  if (to === "archived") {
    const a = await ask({ title: "Archive", message: `Archive ${what}? Archived tasks are hidden unless “Show archived” is on.`, ok: "Archive", danger: true });
    return a && { status: "archived" };
  }
  return { status: to };
}

/**
 * Move tasks to column `to`. Returns true when every task moved. `known` is a fresher copy of a
 * task than the board's (the drawer's), so a move is never skipped on a stale status.
 */
export async function moveTasks(ids, to, known = null) {
  const tasks = ids.map((id) => (known && known.id === id ? known : state.tasks.get(id))).filter(Boolean);
  const moving = tasks.filter((t) => t.status !== to);
  if (!moving.length) return true;
  const patch = await prepareMove(to, moving.length, moving[0].title);
  if (!patch) {
    emit("render"); // put the cards back
    return false;
  }
  const before = snapshot(moving);
  const verb = `Moved to ${COLUMN_LABELS[to] || to}`;
  try {
    if (moving.length === 1) {
      await api.patchTask(moving[0].id, patch);
      state.failed.delete(moving[0].id);
      offerUndo(`${verb}: “${moving[0].title}”`, before, ["status"]);
    } else {
      const body = { ids: moving.map((t) => t.id) };
      if (to === "archived") body.archive = true;
      else Object.assign(body, patch);
      const res = await api.bulk(body);
      const moved = new Set((res?.results || []).filter((r) => r.ok).map((r) => r.id));
      reportBulk(res, verb, { quiet: true });
      if (moved.size) offerUndo(`${verb}: ${moved.size} task${moved.size === 1 ? "" : "s"}`, before.filter((b) => moved.has(b.id)), ["status"]);
    }
    emit("changed", moving.map((t) => t.id));
    return true;
  } catch (err) {
    toast(`Could not move to ${COLUMN_LABELS[to] || to}: ${err.message}`, "error");
    emit("render");
    emit("reload");
    return false;
  }
}

/** Show a bulk response: a toast for the successes and a list of the failures. */
export function reportBulk(res, verb, { quiet = false } = {}) {
  const results = res?.results || [];
  const failed = results.filter((r) => !r.ok);
  state.failed = new Set(failed.map((r) => r.id));
  const box = document.getElementById("bulk-errors");
  if (failed.length) {
    box.replaceChildren();
    const head = document.createElement("strong");
    head.textContent = `${failed.length} of ${results.length} failed:`;
    const list = document.createElement("ul");
    for (const f of failed) {
      const li = document.createElement("li");
      li.textContent = `${f.id}: ${f.error || "refused"}`;
      list.append(li);
    }
    box.append(head, list);
    box.hidden = false;
    // Keep only the failures selected so they can be retried or inspected.
    state.selected = new Set(failed.map((r) => r.id));
  } else {
    box.hidden = true;
    state.selected.clear();
  }
  const ok = results.length - failed.length;
  if (ok && !quiet) toast(`${verb}: ${ok} task${ok === 1 ? "" : "s"}`, "ok");
  emit("selection");
}
