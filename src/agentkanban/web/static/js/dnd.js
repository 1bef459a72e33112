// Drag and drop with pointer events, one code path for mouse, pen and touch. A mouse drag starts
// after a few pixels of movement; a touch drag starts after a short press-and-hold, so a quick
// swipe still scrolls the column and a tap still opens the card. pointerdown is never cancelled.
import { state } from "./state.js";

const MOUSE_THRESHOLD = 6;
const TOUCH_HOLD_MS = 300;
const TOUCH_SLOP = 10;

let pending = null; // {id, x, y, pointerId, type, timer, node}
let drag = null; // {ids, from, node, proxy, over, pointerId, dx, dy}
let suppressClick = false;

export function installDnd(boardEl, onDrop) {
  boardEl.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || drag) return;
    const card = e.target.closest(".card");
    if (!card || e.target.closest("input, button, a, textarea, select")) return;
    pending = { id: card.dataset.id, x: e.clientX, y: e.clientY, pointerId: e.pointerId, type: e.pointerType, node: card, timer: 0 };
    if (e.pointerType === "touch") {
      pending.timer = setTimeout(() => {
        if (pending) start(pending, pending.x, pending.y);
      }, TOUCH_HOLD_MS);
    }
  });

  window.addEventListener("pointermove", (e) => {
    if (drag && e.pointerId === drag.pointerId) {
      move(e.clientX, e.clientY);
      return;
    }
    if (!pending || e.pointerId !== pending.pointerId) return;
    const dist = Math.hypot(e.clientX - pending.x, e.clientY - pending.y);
    if (pending.type === "touch") {
      if (dist > TOUCH_SLOP) cancelPending(); // the user is scrolling
    } else if (dist > MOUSE_THRESHOLD) {
      start(pending, e.clientX, e.clientY);
    }
  });

  window.addEventListener("pointerup", (e) => {
    if (drag && e.pointerId === drag.pointerId) finish(onDrop);
    cancelPending();
  });
  window.addEventListener("pointercancel", () => {
    cancelPending();
    if (drag) abort();
  });
  // While a touch drag is active, stop the page from scrolling under the finger.
  document.addEventListener("touchmove", (e) => { if (drag) e.preventDefault(); }, { passive: false });
  document.addEventListener("contextmenu", (e) => { if (drag || pending?.type === "touch") e.preventDefault(); });
  window.addEventListener("keydown", (e) => { if (drag && e.key === "Escape") abort(); }, true);
  // The click that ends a drag must not open the drawer.
  boardEl.addEventListener("click", (e) => {
    if (suppressClick) {
      e.stopPropagation();
      e.preventDefault();
      suppressClick = false;
    }
  }, true);
}

function cancelPending() {
  if (pending?.timer) clearTimeout(pending.timer);
  pending = null;
}

function start(p, x, y) {
  const node = p.node;
  const rect = node.getBoundingClientRect();
  const ids = state.selected.has(p.id) && state.selected.size > 1 ? [...state.selected] : [p.id];
  const proxy = document.getElementById("drag-proxy");
  proxy.replaceChildren(node.cloneNode(true));
  if (ids.length > 1) {
    const n = document.createElement("span");
    n.className = "drag-count";
    n.textContent = String(ids.length);
    proxy.append(n);
  }
  proxy.style.width = `${rect.width}px`;
  proxy.hidden = false;
  drag = { ids, from: node.dataset.status, node, proxy, over: null, pointerId: p.pointerId, dx: p.x - rect.left, dy: p.y - rect.top };
  cancelPending();
  try {
    node.setPointerCapture(drag.pointerId);
  } catch {
    /* the pointer may already be gone */
  }
  node.classList.add("dragging");
  document.body.classList.add("is-dragging");
  if (p.type === "touch" && navigator.vibrate) navigator.vibrate(15);
  move(x, y);
}

function columnAt(x, y) {
  const hit = document.elementFromPoint(x, y);
  return hit ? hit.closest(".column") : null;
}

function move(x, y) {
  drag.proxy.style.transform = `translate(${x - drag.dx}px, ${y - drag.dy}px) rotate(2deg)`;
  const col = columnAt(x, y);
  if (col !== drag.over) {
    drag.over?.classList.remove("drop-target");
    drag.over = col;
    if (col && col.dataset.status !== drag.from) col.classList.add("drop-target");
  }
  autoScroll(x, y);
}

function autoScroll(x, y) {
  const board = document.getElementById("board");
  const r = board.getBoundingClientRect();
  const edge = 48;
  if (x < r.left + edge) board.scrollLeft -= 20;
  else if (x > r.right - edge) board.scrollLeft += 20;
  const body = drag.over?.querySelector(".col-body");
  if (body) {
    const b = body.getBoundingClientRect();
    if (y < b.top + edge) body.scrollTop -= 20;
    else if (y > b.bottom - edge) body.scrollTop += 20;
  }
}

function cleanup(notify = true) {
  drag.proxy.hidden = true;
  drag.proxy.replaceChildren();
  drag.node.classList.remove("dragging");
  drag.over?.classList.remove("drop-target");
  document.body.classList.remove("is-dragging");
  drag = null;
  if (notify) document.dispatchEvent(new Event("kanban:dragend"));
}

function finish(onDrop) {
  const { ids, from, over, node } = drag;
  suppressClick = true;
  setTimeout(() => (suppressClick = false), 0);
  const moving = !!over && over.dataset.status !== from;
  cleanup(!moving); // a move reloads the board when the server answers
  if (!moving) return;
  // Optimistically show the card in its new column; a refusal re-renders from server state.
  const target = over.querySelector(".col-body");
  if (target && ids.length === 1) {
    target.querySelector(".empty")?.remove();
    const list = target.querySelector('[role="list"]') || target;
    list.prepend(node);
  }
  onDrop(ids, over.dataset.status);
}

function abort() {
  cleanup();
}
