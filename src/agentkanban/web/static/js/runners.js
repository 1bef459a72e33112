// The Runners view: every remote runner the server knows (online, offline or revoked), what it
// offers (labels, profiles, capacity), what it runs now (a click opens the task, on its board),
// when it was last heard from, its version and host. Names, labels, hosts and versions come from
// the runners themselves: everything is text set through el(), nothing reaches the page as HTML.
import { api } from "./api.js";
import { prepareDialog, toast } from "./dialogs.js";
import { el, emit, nowSeconds, relAge } from "./state.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000; // while the view is open: last seen and online move with the clock
let timer = 0;

function stateOf(r) {
  if (r.revoked) return "revoked";
  return r.online ? "online" : "offline";
}

function seen(r) {
  if (!r.last_seen_at) return r.registered_at ? "never heard from" : "not registered yet";
  return `seen ${relAge(nowSeconds() - r.last_seen_at)} ago`;
}

function list(values, none) {
  return values && values.length ? values.join(", ") : none;
}

function running(r) {
  if (!r.running.length) return el("span", { class: "muted" }, "nothing");
  return r.running.map((x) => el("button", {
    type: "button", class: "linklike runner-task", dataset: { id: x.task_id, board: x.board },
    text: `${x.task_id} (${x.board}${x.profile ? `, ${x.profile}` : ""})`,
    title: `Open ${x.task_id} on the board ${x.board}`,
    onclick: () => { $("runners-dialog").close(); emit("open-task", x.board, x.task_id); },
  }));
}

function row(r) {
  const state = stateOf(r);
  const when = r.last_seen_at ? new Date(r.last_seen_at * 1000).toLocaleString() : "";
  const limits = [r.allowed_profiles && `profiles ${r.allowed_profiles.join(", ")}`,
    r.allowed_labels && `labels ${r.allowed_labels.join(", ")}`].filter(Boolean);
  const fact = (k, v, cls) => [el("dt", null, k), el("dd", { class: cls }, v)];
  return el("li", { class: "runner", dataset: { runner: r.name, state } },
    el("div", { class: "runner-head" },
      el("strong", { class: "runner-name", text: r.name }),
      el("span", { class: `runner-state st-${state}`, text: state }),
      el("span", { class: "muted small runner-seen", text: seen(r), title: when })),
    el("dl", { class: "meta runner-facts" },
      fact("Labels", list(r.labels, "none"), "runner-labels"),
      fact("Profiles", list(r.profiles, "none"), "runner-profiles"),
      fact("Capacity", `${r.running.length} of ${r.capacity} busy`, "runner-capacity"),
      fact("Running", running(r), "runner-running"),
      fact("Version", r.version || "—", "runner-version"),
      fact("Host", r.host || "—", "runner-host"),
      limits.length ? fact("Token allows", limits.join("; "), "runner-limits") : []));
}

const ORDER = { online: 0, offline: 1, revoked: 2 };

async function load() {
  try {
    const { runners } = await api.runners();
    const sorted = [...runners].sort((a, b) => ORDER[stateOf(a)] - ORDER[stateOf(b)] || (a.name < b.name ? -1 : 1));
    $("runners-list").replaceChildren(...sorted.map(row));
    $("runners-empty").hidden = runners.length > 0;
    const online = runners.filter((r) => r.online).length;
    $("runners-summary").textContent = runners.length ? `${online} of ${runners.length} online` : "";
  } catch (err) {
    toast(err.message, "error");
  }
}

export async function openRunners() {
  $("runners-dialog").showModal();
  clearInterval(timer);
  timer = setInterval(() => {
    if ($("runners-dialog").open && !document.hidden) load();
  }, REFRESH_MS);
  await load();
}

export function installRunners() {
  const dialog = $("runners-dialog");
  prepareDialog(dialog);
  dialog.addEventListener("close", () => clearInterval(timer));
  $("runners-btn").addEventListener("click", openRunners);
}
