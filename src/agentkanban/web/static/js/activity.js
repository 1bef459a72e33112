// The board's activity feed: who did what to which task, newest first, filtered by task, profile
// and kind; a click opens the task. Text only (el() sets textContent): nothing stored is HTML.
import { api } from "./api.js";
import { prepareDialog, toast } from "./dialogs.js";
import { el, relAge, nowSeconds } from "./state.js";

const $ = (id) => document.getElementById(id);
let next = null; // `before` of the next, older page

function detail(p) {
  if (!p) return "";
  const v = p.summary || p.reason || p.note || p.status || p.assignee || p.error || "";
  const who = p.by ? ` by ${p.by}` : p.profile ? ` by ${p.profile}` : "";
  return `${who}${v ? `: ${String(v).split("\n")[0].slice(0, 160)}` : ""}`;
}

function row(e) {
  const open = el("button", { type: "button", class: "linklike", text: `${e.task_id} ${e.title}`,
    onclick: () => { $("activity-dialog").close(); location.hash = e.task_id; } });
  return el("li", { class: "activity-item", dataset: { kind: e.kind, id: String(e.id) } },
    el("span", { class: "muted small", text: `${relAge(nowSeconds() - e.created_at)} ago`,
                 title: new Date(e.created_at * 1000).toLocaleString() }), " ",
    el("strong", { text: e.kind.replaceAll("_", " ") }), detail(e.payload), " · ", open);
}

function query() {
  const form = $("activity-form");
  const data = Object.fromEntries(new FormData(form));
  const q = { limit: 50 };
  for (const k of ["task_id", "profile", "kind"]) if (data[k]?.trim()) q[k] = data[k].trim();
  return q;
}

async function load(more = false) {
  const list = $("activity-list");
  try {
    const feed = await api.activity({ ...query(), ...(more && next ? { before: next } : {}) });
    const items = feed.events.map(row);
    if (more) list.append(...items);
    else list.replaceChildren(...items);
    next = feed.next_before;
    $("activity-more").hidden = !next;
    $("activity-empty").hidden = list.children.length > 0;
    const kinds = new Set([...$("activity-kinds").options].map((o) => o.value));
    for (const e of feed.events) if (!kinds.has(e.kind)) { kinds.add(e.kind); $("activity-kinds").append(el("option", { value: e.kind })); }
  } catch (err) {
    toast(err.message, "error");
  }
}

export function installActivity() {
  prepareDialog($("activity-dialog"));
  $("activity-btn").addEventListener("click", () => { $("activity-dialog").showModal(); load(); });
  $("activity-form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("activity-more").addEventListener("click", () => load(true));
}
