// Undo for the last move, edit or bulk change: a toast with an Undo button that puts back the
// previous values through the API (PATCH /tasks/{id}, which applies them all in one transaction
// per task; the server still decides whether a move back is allowed, and says why not).
import { api } from "./api.js";
import { toast } from "./dialogs.js";
import { COLUMN_LABELS, emit } from "./state.js";

// The fields an undo can put back, as PATCH names them.
const FIELDS = ["status", "assignee", "priority", "title", "body", "labels", "due_at"];
let last = null; // {id, before}: only the latest change can be undone

/** What an undo needs of each task: the fields below, copied before the change. */
export function snapshot(tasks) {
  return tasks.filter(Boolean).map((t) => {
    const copy = { id: t.id, result: t.result };
    for (const f of FIELDS) copy[f] = Array.isArray(t[f]) ? [...t[f]] : t[f];
    return copy;
  });
}

const WORDS = { title: "title", body: "description", assignee: "assignee", priority: "priority", labels: "labels", add_labels: "labels", remove_labels: "labels", due_at: "due date", status: "status" };

/** "the title", "the labels and due date": what a change touched, for its toast. */
export function fieldWords(keys) {
  const words = [...new Set(keys.map((k) => WORDS[k]).filter(Boolean))];
  if (!words.length) return "the task";
  return `the ${words.length > 1 ? `${words.slice(0, -1).join(", ")} and ${words.at(-1)}` : words[0]}`;
}

/** The PATCH body that restores `fields` of one snapshot. */
function restoreBody(before, fields) {
  const body = {};
  for (const f of fields) {
    if (f === "status") {
      if (before.status === "done") {
        body.status = "done";
        body.result = before.result || "Restored by undo";
        body.summary = "Restored by undo";
      } else if (!["running", "scheduled"].includes(before.status)) {
        body.status = before.status;
      }
    } else if (f === "assignee") body.assignee = before.assignee || "";
    else if (f === "labels") body.labels = before.labels || [];
    else if (f === "body") body.body = before.body || "";
    else if (f === "due_at") body.due_at = before.due_at ?? null;
    else body[f] = before[f];
  }
  return body;
}

/**
 * Offer to undo a change just made: `before` from snapshot(), `fields` the PATCH names it changed
 * (add_labels/remove_labels count as labels). Shows `message` with an Undo button.
 */
export function offerUndo(message, before, fields) {
  const wanted = [...new Set(fields.map((f) => (f === "add_labels" || f === "remove_labels" ? "labels" : f)))]
    .filter((f) => FIELDS.includes(f));
  if (!before.length || !wanted.length) {
    toast(message, "ok");
    return;
  }
  const id = Symbol("undo");
  last = { id, before, wanted };
  toast(message, "ok", 8000, {
    action: {
      label: "Undo",
      run: () => runUndo(id),
    },
  });
}

async function runUndo(id) {
  if (!last || last.id !== id) {
    toast("Only the latest change can be undone", "error");
    return;
  }
  const { before, wanted } = last;
  last = null;
  const results = await Promise.allSettled(
    before.map((b) => api.patchTask(b.id, restoreBody(b, wanted))),
  );
  const failed = results.map((r, i) => [r, before[i].id]).filter(([r]) => r.status === "rejected");
  emit("changed", before.map((b) => b.id));
  if (!failed.length) {
    const what = wanted.includes("status") && before.length === 1
      ? ` (back to ${COLUMN_LABELS[before[0].status] || before[0].status})` : "";
    toast(`Undone${what}`, "ok");
  } else {
    toast(`Could not undo ${failed.length} of ${before.length}: ${failed.map(([r, tid]) => `${tid}: ${r.reason?.message || "refused"}`).join("; ")}`, "error");
  }
}

// Ctrl+Z (⌘Z) undoes the latest change too, unless the focus is in a text field (its own undo).
document.addEventListener("keydown", (e) => {
  if (e.key.toLowerCase() !== "z" || !(e.ctrlKey || e.metaKey) || e.shiftKey || e.altKey) return;
  if (e.target.closest?.("input, textarea, select, [contenteditable]") || !last) return;
  if (document.querySelector("dialog[open]")) return;
  e.preventDefault();
  for (const t of document.querySelectorAll("#toasts .toast")) if (t.querySelector(".toast-action")) t.remove();
  runUndo(last.id);
});
