// Thin client for the board's REST API. Every board-scoped call carries ?board=<slug> so the
// dashboard never depends on (or moves) the server's "current board" pointer.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let currentBoard = "default";

export function setBoard(slug) {
  currentBoard = slug || "default";
}

export function getBoard() {
  return currentBoard;
}

let leaving = false;
function goLogin() {
  // Several requests can fail at once; navigate once, or each would abort the previous one.
  if (leaving || location.pathname === "/login") return;
  leaving = true;
  location.assign("/login");
}

function withQuery(path, params) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    // "" is sent (assignee="" asks for unassigned tasks); leave a parameter out with undefined.
    if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
  }
  return url.pathname + url.search;
}

async function request(method, path, { body, query, boardScoped = true } = {}) {
  const q = { ...(query || {}) };
  if (boardScoped) q.board = currentBoard;
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(withQuery(path, q), init);
  } catch (err) {
    throw new ApiError(0, "The server could not be reached. Check that `kanban serve` is running.");
  }
  if (res.status === 401) {
    goLogin();
    throw new ApiError(401, "Not signed in");
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (!res.ok) throw new ApiError(res.status, detailOf(data) || `${res.status} ${res.statusText}`);
  return data;
}

export function detailOf(data) {
  if (!data) return "";
  const d = data.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) return d.map((e) => e.msg || JSON.stringify(e)).join("; ");
  if (d) return JSON.stringify(d);
  return "";
}

export const api = {
  board: (opts) => request("GET", "/api/board", { query: opts }),
  // The dashboard's board: each column's first page with exact counts; {column, offset} for more.
  boardPage: (opts) => request("GET", "/api/board/page", { query: opts }),
  task: (id) => request("GET", `/api/tasks/${encodeURIComponent(id)}`),
  createTask: (body) => request("POST", "/api/tasks", { body }),
  patchTask: (id, body) => request("PATCH", `/api/tasks/${encodeURIComponent(id)}`, { body }),
  comment: (id, body) => request("POST", `/api/tasks/${encodeURIComponent(id)}/comments`, { body: { body, author: "dashboard" } }),
  link: (parent_id, child_id) => request("POST", "/api/links", { body: { parent_id, child_id } }),
  unlink: (parent_id, child_id) => request("DELETE", "/api/links", { query: { parent_id, child_id } }),
  bulk: (body) => request("POST", "/api/tasks/bulk", { body }),
  labels: () => request("GET", "/api/labels"),
  assignees: () => request("GET", "/api/assignees"),
  config: () => request("GET", "/api/config", { boardScoped: false }),
  homeChannels: (taskId) => request("GET", "/api/home-channels", { query: { task_id: taskId } }),
  homeSubscribe: (id, platform, on) =>
    request(on ? "POST" : "DELETE", `/api/tasks/${encodeURIComponent(id)}/home-subscribe/${encodeURIComponent(platform)}`),
  graph: (id, query) => request("GET", `/api/tasks/${encodeURIComponent(id)}/graph`, { query }),
  log: (id) => request("GET", `/api/tasks/${encodeURIComponent(id)}/log`, { query: { tail: 100000 } }),
  dispatch: () => request("POST", "/api/dispatch", { query: { max: 8 } }),
  boards: () => request("GET", "/api/boards", { boardScoped: false }),
  createBoard: (body) => request("POST", "/api/boards", { body, boardScoped: false }),
  archiveBoard: (slug) => request("DELETE", `/api/boards/${encodeURIComponent(slug)}`, { boardScoped: false }),
  usageSummary: () => request("GET", "/api/usage/summary"),
  taskUsage: (id) => request("GET", `/api/tasks/${encodeURIComponent(id)}/usage`),
  logout: () => request("POST", "/api/auth/logout", { boardScoped: false }),
  activity: (query) => request("GET", "/api/activity", { query }),
  doctor: () => request("GET", "/api/doctor"),
  repair: () => request("POST", "/api/doctor/repair"),
  schedules: () => request("GET", "/api/schedules"),
  addSchedule: (body) => request("POST", "/api/schedules", { body }),
  pauseSchedule: (id, pause) => request("POST", `/api/schedules/${encodeURIComponent(id)}/${pause ? "pause" : "resume"}`),
  removeSchedule: (id) => request("DELETE", `/api/schedules/${encodeURIComponent(id)}`),
  runners: () => request("GET", "/api/runners", { boardScoped: false }),
  orchestration: () => request("GET", "/api/orchestration", { boardScoped: false }),
  setOrchestration: (body) => request("PUT", "/api/orchestration", { body, boardScoped: false }),
  profiles: () => request("GET", "/api/profiles", { boardScoped: false }),
  describeProfile: (name, description) =>
    request("PATCH", `/api/profiles/${encodeURIComponent(name)}`, { body: { description }, boardScoped: false }),
  settings: () => request("GET", "/api/settings", { boardScoped: false }),
  setSettings: (body) => request("PATCH", "/api/settings", { body, boardScoped: false }),
  updateBoard: (slug, body) => request("PATCH", `/api/boards/${encodeURIComponent(slug)}`, { body, boardScoped: false }),
  approve: (id, summary) => request("POST", `/api/tasks/${encodeURIComponent(id)}/approve`, { body: { summary } }),
  requestChanges: (id, reason) => request("POST", `/api/tasks/${encodeURIComponent(id)}/request-changes`, { body: { reason } }),
  approveStart: (id) => request("POST", `/api/tasks/${encodeURIComponent(id)}/approve-start`),
  deleteTask: (id) => request("DELETE", `/api/tasks/${encodeURIComponent(id)}`),
  reclaim: (id, reason) => request("POST", `/api/tasks/${encodeURIComponent(id)}/reclaim`, { body: { reason: reason || null } }),
  reassign: (id, profile, reclaim_first) =>
    request("POST", `/api/tasks/${encodeURIComponent(id)}/reassign`, { body: { profile, reclaim_first } }),
  specify: (id) => request("POST", `/api/tasks/${encodeURIComponent(id)}/specify`, { body: {} }),
  decompose: (id) => request("POST", `/api/tasks/${encodeURIComponent(id)}/decompose`, { body: {} }),
  removeAttachment: (id) => request("DELETE", `/api/attachments/${encodeURIComponent(id)}`),
  upload: (id, file) => upload(`/api/tasks/${encodeURIComponent(id)}/attachments`, file),
};

// Multipart, so not through request(): the browser sets the boundary.
async function upload(path, file) {
  const fd = new FormData();
  fd.append("file", file, file.name);
  let res;
  try {
    res = await fetch(withQuery(path, { board: currentBoard }), { method: "POST", credentials: "same-origin", body: fd });
  } catch (err) {
    throw new ApiError(0, "The server could not be reached. Check that `kanban serve` is running.");
  }
  if (res.status === 401) {
    goLogin();
    throw new ApiError(401, "Not signed in");
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, detailOf(data) || `${res.status} ${res.statusText}`);
  return data;
}
