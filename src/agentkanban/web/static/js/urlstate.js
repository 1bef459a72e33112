// The board's filters, kept in the address so a view can be shared and survives a reload:
//   /?status=ready&label=bug&assignee=coder&tenant=acme&attention=1&due=overdue&sort=due&q=words#t_id
// The query string holds the view, the hash the open task. Label, due date and needs-attention
// filter in the database (GET /board/page); status picks the columns shown.
import { state } from "./state.js";

const KEYS = ["q", "status", "label", "assignee", "tenant", "due", "attention", "sort"];

export function emptyFilters() {
  return { q: "", tenant: "", assignee: "", status: "", label: "", due: "", attention: false, sort: "" };
}

export function anyFilter(f = state.filters) {
  return !!(f.q || f.tenant || f.assignee || f.status || f.label || f.due || f.attention);
}

/** The filters the address names (unknown parameters are ignored). */
export function readUrl(search = location.search) {
  const p = new URLSearchParams(search);
  const f = emptyFilters();
  for (const k of KEYS) {
    const v = p.get(k);
    if (v == null) continue;
    if (k === "attention") f.attention = v === "1" || v === "true";
    else if (k === "assignee") f.assignee = v === "" || v === "none" ? "__none__" : v;
    else f[k] = v;
  }
  return f;
}

/** Write the filters into the address (replacing the entry: filters are not history). */
export function writeUrl(f = state.filters) {
  const p = new URLSearchParams();
  for (const k of KEYS) {
    const v = f[k];
    if (k === "attention") {
      if (v) p.set(k, "1");
    } else if (k === "assignee") {
      if (v === "__none__") p.set(k, "none");
      else if (v) p.set(k, v);
    } else if (v) p.set(k, v);
  }
  const qs = p.toString();
  const url = `${location.pathname}${qs ? `?${qs}` : ""}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, "", url);
}

/** The part of GET /board/page's query these filters add. */
export function serverQuery(f = state.filters) {
  return {
    label: f.label || undefined,
    due: f.due || undefined,
    attention: f.attention ? "true" : undefined,
    sort: f.sort || undefined,
  };
}

const FINISHED = new Set(["done", "archived"]);

/** The same filters on a card already loaded (live patches, before the board is read again). */
export function matchesMore(t, f = state.filters, now = Date.now() / 1000) {
  if (f.label && !(t.labels || []).includes(f.label)) return false;
  const late = t.due_at != null && t.due_at < now && !FINISHED.has(t.status);
  if (f.due === "overdue" && !late) return false;
  if (f.due === "has" && t.due_at == null) return false;
  if (f.due === "none" && t.due_at != null) return false;
  if (f.attention) {
    const needs = t.status === "blocked" || (t.consecutive_failures > 0 && !FINISHED.has(t.status)) ||
      (t.status === "ready" && !t.assignee) || late;
    if (!needs) return false;
  }
  return true;
}

/** Whether the status filter shows this column. */
export function columnShown(name, f = state.filters) {
  if (!f.status) return true;
  return f.status.split(",").includes(name);
}
