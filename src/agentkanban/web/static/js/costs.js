// Spending on the dashboard: "spent today" in the header, why a ready card waits (a budget or its
// provider), and a task's usage in the drawer. The server decides every hold; this only shows it.
import { api } from "./api.js";
import { el } from "./state.js";

let holds = { board: null, profiles: {} };
let lastKey = "";

export function money(v) {
  const n = Number(v || 0);
  return n >= 100 ? `$${n.toFixed(0)}` : `$${n.toFixed(2)}`;
}

function tokens(n) {
  n = Number(n || 0);
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

// Why the dispatcher holds this ready task back, or null.
export function holdReason(task) {
  if (task.status !== "ready" || !task.assignee) return null;
  return holds.board || holds.profiles[task.assignee] || null;
}

// Refresh the header figure and the holds; ``onChange`` re-renders the board when holds moved.
export async function refreshSpend(onChange) {
  const out = document.getElementById("spent-today");
  if (!out) return;
  try {
    const data = await api.usageSummary();
    out.textContent = `spent today ${money(data.today.cost_usd)}`;
    out.title = `${data.today.day} (UTC): ${data.today.tokens.toLocaleString()} tokens in ${data.today.reports} reports`;
    out.hidden = false;
    const key = JSON.stringify(data.holds);
    holds = data.holds;
    if (key !== lastKey) {
      lastKey = key;
      onChange?.();
    }
  } catch {
    out.hidden = true; // an older server, or a failed request: no figure rather than a wrong one
  }
}

// The drawer's usage section, filled in when the numbers arrive.
export function usageSection(taskId) {
  const body = el("div", { class: "usage" }, el("span", { class: "muted" }, "Loading…"));
  const sec = el("section", { class: "drawer-section usage-section" }, el("h3", null, "Usage and cost"), body);
  api.taskUsage(taskId).then((u) => {
    body.replaceChildren();
    const t = u.total;
    body.append(el("p", null,
      el("strong", { class: "usage-total" }, money(t.cost_usd)),
      ` · ${tokens(t.tokens)} tokens (in ${tokens(t.input_tokens)}, out ${tokens(t.output_tokens)}, cache ${tokens(t.cache_read_tokens)})`,
      u.max_cost_usd != null ? el("span", { class: "muted" }, ` · limit ${money(u.max_cost_usd)}`) : null));
    if (u.runs.length > 1) {
      const list = el("ol", { class: "usage-runs" });
      for (const r of u.runs) list.append(el("li", null, `attempt ${r.run}: ${money(r.cost_usd)}, ${tokens(r.tokens)} tokens`));
      body.append(list);
    }
    if (!t.reports) body.replaceChildren(el("span", { class: "muted" }, "No usage reported yet."));
  }).catch((err) => {
    body.replaceChildren(el("span", { class: "muted" }, `Could not load usage: ${err.message}`));
  });
  return sec;
}
