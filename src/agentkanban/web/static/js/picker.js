// A chip list with an input that suggests tasks: used for parents/children in the drawer and
// for parents in the create dialog.
import { toast } from "./dialogs.js";
import { el, state } from "./state.js";

/** Resolve what was typed into a task id: an exact id, an id prefix, or a unique title match. */
export function resolveTask(text) {
  const q = text.trim();
  if (!q) return null;
  const head = q.split(/\s+·\s+|\s+/)[0];
  if (state.tasks.has(head)) return head;
  const lower = q.toLowerCase();
  const byPrefix = [...state.tasks.keys()].filter((id) => id.startsWith(head));
  if (byPrefix.length === 1) return byPrefix[0];
  const byTitle = [...state.tasks.values()].filter((t) => t.title.toLowerCase() === lower);
  if (byTitle.length === 1) return byTitle[0].id;
  return null;
}

export function chipPicker({ label, key, ids, exclude, format, onAdd, onRemove, onOpen }) {
  const chips = el("ul", { class: "chips" });
  for (const id of ids) {
    chips.append(el("li", { class: "chip" },
      onOpen ? el("button", { type: "button", class: "chip-label linklike", onclick: () => onOpen(id), title: "Open" }, format(id)) : el("span", { class: "chip-label" }, format(id)),
      el("button", { type: "button", class: "chip-x", "aria-label": `Remove ${id}`, "data-key": `${key}-x-${id}`, onclick: () => onRemove(id) }, "×")));
  }
  if (!ids.length) chips.append(el("li", { class: "muted small" }, "none"));
  const input = el("input", { class: "chip-input", list: "task-options", placeholder: "Add by id or title…", "aria-label": `Add to ${label}`, "data-key": `${key}-input`, autocomplete: "off" });
  const add = () => {
    const id = resolveTask(input.value);
    if (!id) {
      if (input.value.trim()) toast(`No single task matches “${input.value.trim()}”`, "error");
      return;
    }
    if (exclude.has(id)) {
      toast(`${id} is already linked (or is this task)`, "error");
      return;
    }
    input.value = "";
    input.closest(".picker")?.classList.remove("editing");
    onAdd(id);
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      add();
    }
  });
  input.addEventListener("input", () => input.closest(".picker")?.classList.toggle("editing", !!input.value));
  return el("div", { class: "picker" },
    el("div", { class: "picker-label" }, label),
    chips,
    el("div", { class: "picker-add" }, input, el("button", { type: "button", class: "btn small", "data-key": `${key}-add`, onclick: add }, "Add")));
}
