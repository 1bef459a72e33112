// The create dialog, opened from a column's "+" (or "n"). A task created from Triage is created
// in triage; from Todo or Blocked it is created and then moved there; Ready is the default.
import { api } from "./api.js";
import { prepareDialog, toast } from "./dialogs.js";
import { resolveTask } from "./picker.js";
import { COLUMN_LABELS, el, state } from "./state.js";

let column = "ready";
let parents = [];
let onCreated = () => {};

const HINTS = {
  triage: "Created in Triage: it will not be dispatched until someone moves it on.",
  todo: "Created in Todo. Without unfinished parents the server promotes it to Ready on its next readiness pass.",
  ready: "Created in Ready (or Todo while it has unfinished parents); an assigned task is picked up by the dispatcher.",
  blocked: "Created, then blocked: it waits for a person.",
};

function paintParents(form) {
  const chips = form.querySelector('[data-role="parents"] .chips');
  chips.replaceChildren(
    ...parents.map((id) =>
      el("span", { class: "chip" }, el("span", { class: "chip-label" }, `${id} · ${state.tasks.get(id)?.title || ""}`),
        el("button", { type: "button", class: "chip-x", "aria-label": `Remove parent ${id}`, onclick: () => {
          parents = parents.filter((p) => p !== id);
          paintParents(form);
        } }, "×"))),
  );
}

export function openCreate(col) {
  const dialog = document.getElementById("create-dialog");
  const form = document.getElementById("create-form");
  column = col || "ready";
  parents = [];
  form.reset();
  form.querySelector(".form-error").hidden = true;
  document.getElementById("create-title").textContent = `New task in ${COLUMN_LABELS[column]}`;
  document.getElementById("create-hint").textContent = HINTS[column] || "";
  if (state.filters.tenant) form.tenant.value = state.filters.tenant;
  if (state.filters.label) form.labels.value = state.filters.label;
  paintParents(form);
  dialog.showModal();
  form.title.focus();
}

export function installCreate(done) {
  onCreated = done;
  const dialog = document.getElementById("create-dialog");
  const form = document.getElementById("create-form");
  prepareDialog(dialog);
  document.getElementById("board").addEventListener("click", (e) => {
    const b = e.target.closest("[data-create]");
    if (b) openCreate(b.dataset.create);
  });
  const parentInput = form.querySelector('[data-role="parents"] .chip-input');
  parentInput.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const id = resolveTask(parentInput.value);
    if (!id) {
      if (parentInput.value.trim()) toast(`No single task matches “${parentInput.value.trim()}”`, "error");
      return;
    }
    if (!parents.includes(id)) parents.push(id);
    parentInput.value = "";
    paintParents(form);
  });
  form.title.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const error = form.querySelector(".form-error");
    error.hidden = true;
    const title = form.title.value.trim();
    if (!title) {
      error.textContent = "A title is required.";
      error.hidden = false;
      return;
    }
    const priority = Number.parseInt(form.priority.value || "0", 10);
    const body = {
      title,
      body: form.body.value.trim() || undefined,
      assignee: form.assignee.value.trim() || undefined,
      tenant: form.tenant.value.trim() || undefined,
      priority: Number.isNaN(priority) ? 0 : priority,
      parents,
      triage: column === "triage",
    };
    // Commas separate labels here (a label cannot hold one); the server checks each.
    const labels = form.labels.value.split(",").map((x) => x.trim()).filter(Boolean);
    if (labels.length) body.labels = labels;
    if (form.due.value) body.due_at = Math.round(new Date(form.due.value).getTime() / 1000);
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    try {
      const res = await api.createTask(body);
      const task = res.task;
      if (task && (column === "todo" || column === "blocked") && task.status !== column) {
        try {
          await api.patchTask(task.id, { status: column });
        } catch (err) {
          toast(`Created ${task.id}, but could not move it to ${COLUMN_LABELS[column]}: ${err.message}`, "error");
        }
      }
      dialog.close("ok");
      toast(`Created ${task?.id || "task"}`, "ok");
      if (res.warning) toast(res.warning, "info", 8000);
      state.focusedId = task?.id || state.focusedId;
      await onCreated();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
}
