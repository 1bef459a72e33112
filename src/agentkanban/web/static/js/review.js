// Review and approval on cards and in the drawer (docs/review.md): badges that say what a task
// waits for, and the buttons a person decides with. The server decides what is legal.
import { api } from "./api.js";
import { ask, toast } from "./dialogs.js";
import { emit } from "./state.js";

const STAGE = {
  acceptance: ["checking", "Acceptance commands are checking the work"],
  agent: ["in review", "A reviewer profile is checking the work"],
  human: ["needs your review", "Waiting for a person: approve it or request changes"],
};

function badge(text, title, cls) {
  const b = document.createElement("span");
  b.className = `badge ${cls}`;
  b.textContent = text;
  b.title = title;
  return b;
}

/** The badges of a card: what a task in review or awaiting approval waits for. */
export function reviewBadges(task) {
  const out = [];
  if (task.status === "review" && STAGE[task.review_stage]) {
    const [text, title] = STAGE[task.review_stage];
    out.push(badge(text, title, task.review_stage === "human" ? "warn review" : "review"));
  }
  if (task.review_rounds) out.push(badge(`round ${task.review_rounds}`, `Changes requested ${task.review_rounds} time(s)`, "review"));
  if (task.approval === "requested") out.push(badge("awaiting approval", "The dispatcher waits for a person to approve the start", "warn approval"));
  return out;
}

async function run(call, done) {
  try {
    await call();
    toast(done, "info");
    emit("reload");
    return true;
  } catch (err) {
    toast(err.message, "error", 8000);
    return false;
  }
}

export async function approve(task) {
  const a = await ask({ title: "Approve", message: `Approve the work on “${task.title}”? It counts as done and its children start.`,
    input: { label: "Review summary (optional)", required: false, placeholder: "What you checked" }, ok: "Approve" });
  return a && run(() => api.approve(task.id, a.value || null), `Approved ${task.id}`);
}

export async function requestChanges(task) {
  const a = await ask({ title: "Request changes", message: `Send “${task.title}” back to @${task.assignee || "its implementer"}.`,
    input: { label: "What must change", required: true, placeholder: "Specific enough to act on" }, ok: "Request changes" });
  return a && run(() => api.requestChanges(task.id, a.value), `Changes requested on ${task.id}`);
}

export async function approveStart(task) {
  const a = await ask({ title: "Approve start", message: `Let the dispatcher start “${task.title}” as @${task.assignee}?`, ok: "Approve start" });
  return a && run(() => api.approveStart(task.id), `Approved the start of ${task.id}`);
}

function button(label, key, onclick, primary = false) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = `btn small${primary ? " primary" : ""}`;
  b.textContent = label;
  b.dataset.review = key;
  b.dataset.key = `review-${key}`;
  b.addEventListener("click", (e) => {
    e.stopPropagation(); // on a card: act, do not open the drawer
    onclick();
  });
  return b;
}

/** The decision buttons for a task, or null when there is nothing for a person to decide. */
export function reviewButtons(task, after = null) {
  const then = (fn) => async () => { if (await fn(task) && after) after(); };
  const row = document.createElement("div");
  row.className = "review-actions";
  row.setAttribute("role", "group");
  row.setAttribute("aria-label", "Review");
  if (task.status === "review") {
    row.append(button("Approve", "approve", then(approve), true), button("Request changes", "changes", then(requestChanges)));
  } else if (task.approval === "requested") {
    row.append(button("Approve start", "approve-start", then(approveStart), true));
  } else {
    return null;
  }
  return row;
}
