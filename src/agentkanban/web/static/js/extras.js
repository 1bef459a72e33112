// Drawer sections beyond the seed: child results, attachments, and the operator's verbs
// (delete, reclaim, reassign, specify/decompose on triage tasks). Every rule stays on the server;
// these only ask and show the answer.
import { api, ApiError, getBoard } from "./api.js";
import { ask, toast } from "./dialogs.js";
import { renderMarkdown } from "./markdown.js";
import { el, emit, relAge } from "./state.js";

function section(title, key, ...children) {
  return el("section", { class: "drawer-section", "data-section": key }, el("h3", null, title), ...children);
}

function sizeText(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export function childResults(data) {
  const kids = data.child_results || [];
  if (!kids.length) return null;
  const list = el("ol", { class: "child-results" });
  for (const c of kids) {
    const text = c.result || c.latest_summary;
    const body = el("div", { class: "child-result-body" });
    if (text) renderMarkdown(body, text);
    else body.append(el("span", { class: "muted" }, "No result recorded yet."));
    list.append(el("li", { class: "child-result", "data-id": c.id },
      el("div", { class: "comment-head" }, el("strong", null, `${c.id} · ${c.title}`),
        el("span", { class: `status-pill st-${c.status}` }, c.status)), body));
  }
  return section(`Child results (${kids.length})`, "child-results", list);
}

export function attachments(data, now, refresh) {
  const t = data.task;
  const list = el("ul", { class: "attachments" });
  for (const a of data.attachments || []) {
    const href = `/api/attachments/${a.id}?board=${encodeURIComponent(getBoard())}`;
    list.append(el("li", { class: "attachment", "data-id": a.id },
      el("a", { href, download: a.filename, "data-key": `attachment-${a.id}` }, a.filename),
      el("span", { class: "muted small" }, ` ${sizeText(a.size)} · ${a.uploaded_by} · ${relAge(now - a.created_at)} ago `),
      el("button", { type: "button", class: "btn ghost small", "aria-label": `Remove ${a.filename}`, onclick: async () => {
        try {
          await api.removeAttachment(a.id);
          await refresh();
        } catch (err) { toast(err.message, "error"); }
      } }, "×")));
  }
  if (!list.children.length) list.append(el("li", { class: "muted" }, "No attachments."));
  const input = el("input", { type: "file", multiple: true, "aria-label": "Attach files", "data-key": "attach-input", onchange: async () => {
    for (const f of input.files) {
      try {
        await api.upload(t.id, f);
      } catch (err) { toast(`${f.name}: ${err.message}`, "error"); }
    }
    input.value = "";
    await refresh();
    emit("changed", [t.id]);
  } });
  return section(`Attachments (${(data.attachments || []).length})`, "attachments", list, el("label", { class: "btn small" }, "Attach files… ", input));
}

async function run(label, fn, refresh) {
  try {
    const res = await fn();
    if (res && res.ok === false) toast(`${label}: ${res.reason}`, "error", 8000);
    else toast(`${label}: ${res && res.reason ? res.reason : "done"}`, "info");
  } catch (err) {
    toast(err instanceof ApiError ? err.message : String(err), "error", 8000);
  }
  await refresh();
  emit("reload");
}

export function operate(data, refresh, close) {
  const t = data.task;
  const row = el("div", { class: "status-actions", role: "group", "aria-label": "Operator actions" });
  if (t.status === "triage") {
    row.append(
      el("button", { type: "button", class: "btn small", "data-key": "specify", onclick: () => run("Specify", () => api.specify(t.id), refresh) }, "Specify"),
      el("button", { type: "button", class: "btn small", "data-key": "decompose", onclick: () => run("Decompose", () => api.decompose(t.id), refresh) }, "Decompose"));
  }
  if (t.status === "running") {
    row.append(el("button", { type: "button", class: "btn small", "data-key": "reclaim", onclick: async () => {
      const ans = await ask({ title: `Reclaim ${t.id}?`, message: "Its attempt ends and its worker is stopped; the task goes back to ready.", input: { label: "Reason", placeholder: "why" }, ok: "Reclaim" });
      if (!ans) return;
      await run("Reclaim", () => api.reclaim(t.id, ans.value), refresh);
    } }, "Reclaim"));
  }
  if (t.status !== "archived") {
    row.append(el("button", { type: "button", class: "btn small", "data-key": "reassign", onclick: async () => {
      const ans = await ask({ title: `Reassign ${t.id}`, message: t.status === "running" ? "Its running attempt is ended first." : "", input: { label: "Profile (empty unassigns)", value: t.assignee || "" }, ok: "Reassign" });
      if (!ans) return;
      await run("Reassign", () => api.reassign(t.id, ans.value, t.status === "running"), refresh);
    } }, "Reassign"));
  }
  row.append(el("button", { type: "button", class: "btn small danger", "data-key": "delete", onclick: async () => {
    const ok = await ask({ title: `Delete ${t.id}?`, message: "The task, its comments, runs, links and attachments are removed for good.", ok: "Delete", danger: true });
    if (!ok) return;
    try {
      await api.deleteTask(t.id);
      toast(`${t.id} deleted`, "info");
      close();
      emit("reload");
    } catch (err) { toast(err.message, "error", 8000); }
  } }, "Delete"));
  return row;
}
