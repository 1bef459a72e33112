// Labels and due dates: chips and the due badge on cards, the drawer's editor, the bulk bar's
// controls. Names and colours come from the server (GET /board/page `labels`, GET /labels); the
// rules (length, characters, date formats) are the server's, and its refusal is shown verbatim.
import { api } from "./api.js";
import { el, emit, nowSeconds, state } from "./state.js";

const NEUTRAL = "#6b7280";
let refetching = null;
const asked = new Set(); // names looked up once: a label the server does not list stays neutral

/** name -> colour, from the board's last answer. */
function colours() {
  const map = state.labelColours || (state.labelColours = new Map());
  if (state.labelSource !== state.data?.labels) {
    map.clear();
    for (const l of state.data?.labels || []) map.set(l.name, l.color);
    state.labelSource = state.data?.labels;
  }
  return map;
}

export function labelColour(name) {
  const c = colours().get(name);
  if (!c && !refetching && !asked.has(name) && state.data) {
    // A label the board has not listed yet (a live change): ask for the list, then repaint.
    asked.add(name);
    refetching = api.labels().then((res) => {
      if (state.data) state.data.labels = res.labels || [];
      emit("render");
    }).catch(() => {}).finally(() => (refetching = null));
  }
  return c || NEUTRAL;
}

/** Black or white text, whichever reads better on `hex`. */
function ink(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff";
}

export function chip(name, { onRemove = null } = {}) {
  const colour = labelColour(name);
  const node = el("span", { class: "label-chip", "data-label": name, title: `Label ${name}` });
  node.style.background = colour;
  node.style.color = ink(colour);
  node.append(document.createTextNode(name)); // textContent: user text is never markup
  if (onRemove) {
    node.append(el("button", { type: "button", class: "label-x", "aria-label": `Remove label ${name}`, onclick: () => onRemove(name) }, "×"));
  }
  return node;
}

export function isOverdue(task, now = nowSeconds()) {
  return task.due_at != null && task.due_at < now && task.status !== "done" && task.status !== "archived";
}

/** A due date as people read it: the day (its end, UTC, is how a date is stored) or the time. */
export function dueText(ts) {
  if (ts == null) return "";
  const d = new Date(ts * 1000);
  if (d.getUTCHours() === 23 && d.getUTCMinutes() === 59 && d.getUTCSeconds() === 59) {
    return d.toLocaleDateString(undefined, { month: "short", day: "numeric", year: "numeric", timeZone: "UTC" });
  }
  return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** What the labels and due date add to a card's signature (it is rebuilt when this changes). */
export function cardMarksSig(task, now) {
  const labels = (task.labels || []).map((n) => `${n}=${colours().get(n) || ""}`).join(",");
  return `${labels}|${task.due_at ?? ""}|${isOverdue(task, now) ? 1 : 0}`;
}

/** Label chips and the due badge, appended to a card being built. */
export function decorateCard(node, task, now) {
  const labels = task.labels || [];
  if (labels.length) {
    node.querySelector(".card-title").after(el("div", { class: "card-labels" }, labels.map((n) => chip(n))));
  }
  if (task.due_at != null) {
    const late = isOverdue(task, now);
    const badge = el("span", {
      class: `badge due${late ? " overdue" : ""}`,
      title: `${late ? "Overdue: was due" : "Due"} ${new Date(task.due_at * 1000).toLocaleString()}`,
    }, `${late ? "overdue · " : "due "}${dueText(task.due_at)}`);
    node.querySelector(".badges").append(badge);
    if (late) node.classList.add("is-overdue");
    node.setAttribute("aria-label", `${node.getAttribute("aria-label") || task.title}${late ? ", overdue" : ""}`);
  }
}

/** The value of a datetime-local input for a due date (local time), or "". */
function inputValue(ts) {
  if (ts == null) return "";
  const d = new Date(ts * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The drawer's "Labels and due date" section. `patch(body, what)` saves through the drawer. */
export function marksSection(task, patch) {
  const chips = el("div", { class: "card-labels drawer-labels", "aria-live": "polite" },
    (task.labels || []).map((n) => chip(n, { onRemove: (name) => patch({ remove_labels: [name] }, "remove the label") })));
  const input = el("input", { class: "label-input", "data-key": "label-input", list: "label-options", placeholder: "Add a label, Enter", "aria-label": "Add a label", maxlength: "40", autocomplete: "off" });
  input.addEventListener("keydown", async (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const name = input.value.trim();
    if (!name) return;
    input.disabled = true;
    const ok = await patch({ add_labels: [name] }, "add the label");
    input.disabled = false;
    if (ok) input.value = "";
  });
  const due = el("input", { type: "datetime-local", class: "due-input", "data-key": "due-input", "aria-label": "Due date" });
  due.value = inputValue(task.due_at);
  due.addEventListener("change", () => {
    if (!due.value) return patch({ due_at: null }, "clear the due date");
    const ts = new Date(due.value).getTime() / 1000; // local time, as the reader typed it
    return patch({ due_at: Math.round(ts) }, "set the due date");
  });
  const clear = el("button", { type: "button", class: "btn ghost small", "data-key": "due-clear", disabled: task.due_at == null, onclick: () => patch({ due_at: null }, "clear the due date") }, "Clear");
  const late = isOverdue(task);
  const dueRow = el("div", { class: "due-row" }, due, clear,
    task.due_at != null ? el("span", { class: late ? "badge due overdue" : "muted small" }, late ? "overdue" : dueText(task.due_at)) : null);
  return el("section", { class: "drawer-section marks" },
    el("h3", null, "Labels and due date"), chips, input, dueRow);
}

/** Fill the datalist of label names for the pickers. */
export function fillLabelOptions() {
  let list = document.getElementById("label-options");
  if (!list) {
    list = el("datalist", { id: "label-options" });
    document.body.append(list);
  }
  list.replaceChildren(...(state.data?.labels || []).map((l) => el("option", { value: l.name })));
}
