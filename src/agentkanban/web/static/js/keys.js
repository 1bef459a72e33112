// Keyboard: arrows move between cards (roving tabindex), Enter opens, Space/x selects,
// Shift+arrows move a card to the neighbouring column, and a few single-key shortcuts.
import { focusCard, locate, visibleIds } from "./board.js";
import { moveTasks } from "./moves.js";
import { clearSelection, selectAll, toggle } from "./select.js";
import { state } from "./state.js";

const TYPING = "input, textarea, select, [contenteditable='true']";

function neighbour(id, dc, dr) {
  const pos = locate(id);
  if (!pos) return visibleIds()[0];
  let [c, r] = pos;
  if (dr) {
    const ids = state.visibleOrder[c][1];
    return ids[Math.max(0, Math.min(ids.length - 1, r + dr))];
  }
  for (let cc = c + dc; cc >= 0 && cc < state.visibleOrder.length; cc += dc) {
    const ids = state.visibleOrder[cc][1];
    if (ids.length) return ids[Math.min(r, ids.length - 1)];
  }
  return id;
}

function neighbourColumn(id, dc) {
  const pos = locate(id);
  if (!pos) return null;
  const c = pos[0] + dc;
  return c >= 0 && c < state.visibleOrder.length ? state.visibleOrder[c][0] : null;
}

export function installKeys(h) {
  const board = document.getElementById("board");
  board.addEventListener("keydown", async (e) => {
    const card = e.target.closest?.(".card");
    if (!card || e.target !== card) return;
    const id = card.dataset.id;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (moves[e.key] && e.shiftKey && (e.key === "ArrowLeft" || e.key === "ArrowRight")) {
      e.preventDefault();
      const to = neighbourColumn(id, moves[e.key][0]);
      if (!to) return;
      const ids = state.selected.has(id) && state.selected.size > 1 ? [...state.selected] : [id];
      if (await moveTasks(ids, to)) setTimeout(() => focusCard(id), 300);
      return;
    }
    if (moves[e.key]) {
      e.preventDefault();
      const next = neighbour(id, ...moves[e.key]);
      if (next) focusCard(next);
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      const pos = locate(id);
      const ids = state.visibleOrder[pos[0]][1];
      focusCard(e.key === "Home" ? ids[0] : ids[ids.length - 1]);
    } else if (e.key === "Enter") {
      e.preventDefault();
      h.openDrawer(id);
    } else if (e.key === " " || e.key === "x") {
      e.preventDefault();
      toggle(id);
    }
  });

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    const typing = e.target.closest?.(TYPING);
    if (e.key === "Escape") {
      if (h.isDrawerOpen()) {
        // The drawer handles Esc itself when it has the focus; otherwise close it from here.
        if (!document.getElementById("drawer").contains(e.target)) h.closeDrawer();
        return;
      }
      if (state.selected.size || !document.getElementById("bulk-errors").hidden) {
        e.preventDefault();
        clearSelection();
      }
      return;
    }
    if (typing || h.isDrawerOpen()) return;
    if (e.key === "/") {
      e.preventDefault();
      document.getElementById("search").focus();
    } else if (e.key === "n") {
      e.preventDefault();
      const pos = state.focusedId && locate(state.focusedId);
      const col = pos ? state.visibleOrder[pos[0]][0] : "todo";
      h.openCreate(["triage", "todo", "ready", "blocked"].includes(col) ? col : "todo");
    } else if (e.key === "r") {
      e.preventDefault();
      h.reload();
    } else if (e.key === "a") {
      e.preventDefault();
      selectAll(visibleIds());
    } else if (e.key === "?") {
      e.preventDefault();
      document.getElementById("help-dialog").showModal();
    } else if (e.key === "ArrowDown" || e.key === "ArrowRight" || e.key === "j") {
      if (e.target === document.body || e.target === board) {
        e.preventDefault();
        if (state.focusedId) focusCard(state.focusedId);
      }
    }
  });
}
