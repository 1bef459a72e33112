// The dashboard's shared, in-memory state. Modules read it directly and call the functions in
// main.js (through the small event hub below) to change what is on screen.

export const COLUMN_LABELS = {
  triage: "Triage",
  todo: "Todo",
  scheduled: "Scheduled",
  ready: "Ready",
  running: "Running",
  review: "Review",
  blocked: "Blocked",
  done: "Done",
  archived: "Archived",
};

export const COLUMN_HELP = {
  triage: "Ideas to shape before they become work",
  todo: "Waiting on parents or not yet released",
  scheduled: "Waiting for their start time",
  ready: "Waiting for the dispatcher to hand them out",
  running: "A worker is on it now",
  review: "Finished work being checked: acceptance commands, a reviewer, or you",
  blocked: "Needs a person, or a retry after failures",
  done: "Finished, with a result",
  archived: "Out of the way, kept for the record",
};

// Seconds in a column before a card is tinted amber, then red.
export const STALE_AFTER = {
  triage: [7 * 86400, 30 * 86400],
  todo: [7 * 86400, 30 * 86400],
  ready: [3600, 86400],
  running: [600, 3600],
  review: [3600, 86400],
  blocked: [3600, 86400],
};

export const state = {
  data: null, // last GET /board response
  tasks: new Map(), // id -> task
  clockSkew: 0, // server now - local now, seconds
  filters: { q: "", tenant: "", assignee: "", status: "", label: "", due: "", attention: false, sort: "" },
  showArchived: false,
  lanes: false,
  selected: new Set(),
  anchorId: null, // for shift-click ranges
  focusedId: null,
  openTaskId: null,
  visibleOrder: [], // [[status, [ids...]], ...] as rendered
  boards: [],
  assignees: [],
  failed: new Set(),
  defaultTenant: "", // dashboard.default_tenant from the server's settings
};

const listeners = new Map();

export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, []);
  listeners.get(name).push(fn);
}

export function emit(name, ...args) {
  for (const fn of listeners.get(name) || []) fn(...args);
}

export function nowSeconds() {
  return Date.now() / 1000 + state.clockSkew;
}

export function relAge(seconds) {
  if (seconds == null || Number.isNaN(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  if (s < 86400 * 60) return `${Math.floor(s / 86400)}d`;
  return `${Math.floor(s / (86400 * 30))}mo`;
}

export function duration(seconds) {
  if (seconds == null) return "";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
