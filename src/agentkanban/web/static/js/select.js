// Multi-select: checkbox, ctrl/cmd-click to toggle, shift-click for a range over the visible
// order, column select-all, Esc to clear. A plain click opens the drawer.
import { focusCard, paintSelection, visibleIds } from "./board.js";
import { state } from "./state.js";

let hooks = null;

export function clearSelection() {
  state.selected.clear();
  state.failed.clear();
  document.getElementById("bulk-errors").hidden = true;
  paintSelection();
  hooks?.updateBulkBar();
}

export function selectAll(ids) {
  for (const id of ids) state.selected.add(id);
  paintSelection();
  hooks.updateBulkBar();
}

export function toggle(id) {
  if (state.selected.has(id)) state.selected.delete(id);
  else state.selected.add(id);
  state.anchorId = id;
  paintSelection();
  hooks.updateBulkBar();
}

export function selectRange(id) {
  const order = visibleIds();
  const a = order.indexOf(state.anchorId);
  const b = order.indexOf(id);
  if (a < 0 || b < 0) return toggle(id);
  const [lo, hi] = a < b ? [a, b] : [b, a];
  for (let i = lo; i <= hi; i++) state.selected.add(order[i]);
  paintSelection();
  hooks.updateBulkBar();
}

export function installSelection(h) {
  hooks = h;
  const board = document.getElementById("board");
  board.addEventListener("click", (e) => {
    const colCheck = e.target.closest(".col-check");
    if (colCheck) {
      const ids = (state.visibleOrder.find(([n]) => n === colCheck.dataset.selectCol) || [null, []])[1];
      const all = ids.every((i) => state.selected.has(i));
      for (const id of ids) (all ? state.selected.delete(id) : state.selected.add(id));
      paintSelection();
      hooks.updateBulkBar();
      return;
    }
    const card = e.target.closest(".card");
    if (!card) return;
    const id = card.dataset.id;
    focusCard(id, { scroll: false });
    if (e.target.closest(".card-check")) {
      if (e.shiftKey && state.anchorId) selectRange(id);
      else toggle(id);
      return;
    }
    if (e.shiftKey && state.anchorId) {
      e.preventDefault();
      selectRange(id);
    } else if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      toggle(id);
    } else {
      state.anchorId = id;
      hooks.open(id);
    }
  });
  // Shift-click would otherwise select text across cards.
  board.addEventListener("mousedown", (e) => {
    if (e.shiftKey && e.target.closest(".card")) e.preventDefault();
  });
}
