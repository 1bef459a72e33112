// The Settings view: the profiles (command, caps, description, what runs under each now), the
// dispatcher and the notifier, the notification platforms, the boards' defaults and config.yaml.
// Caps are written to config.yaml by PATCH /settings; descriptions and board defaults go through
// their own routes. Text only (el() sets textContent): nothing here is HTML.
import { api } from "./api.js";
import { prepareDialog, showError, toast } from "./dialogs.js";
import { el, emit, nowSeconds, relAge } from "./state.js";

const $ = (id) => document.getElementById(id);
const KINDS = ["", "scratch", "dir", "worktree"];

function when(ts) {
  return ts ? `${relAge(nowSeconds() - ts)} ago` : "never";
}

async function save(what, call) {
  const form = $("settings-dialog").querySelector("form");
  try {
    const out = await call();
    showError(form, "");
    toast(`Saved ${what}`, "info");
    return out;
  } catch (err) {
    showError(form, err.message);
    return null;
  }
}

function capInput(key, label, value) {
  return el("input", { type: "number", min: 1, step: 1, value: value ?? "", "data-key": key, "aria-label": label, class: "cap-input" });
}

function runningLinks(p) {
  if (!p.running.length) return el("span", { class: "muted" }, "nothing running");
  return p.running.map((r) => el("button", { type: "button", class: "linklike running-task", text: `${r.task_id} (${r.board})`,
    onclick: () => { $("settings-dialog").close(); emit("open-task", r.board, r.task_id); } }));
}

function profileRow(p) {
  const cap = capInput(`cap-${p.name}`, `Concurrency cap of ${p.name}`, p.max_concurrency);
  const desc = el("textarea", { rows: 2, "data-key": `desc-${p.name}`, "aria-label": `Description of ${p.name}`, placeholder: "Description: what is this profile good at?" });
  desc.value = p.description || "";
  const extra = [p.is_default && "default assignee", p.requires_approval && "needs approval to start",
    p.max_runtime && `max runtime ${p.max_runtime}s`, p.env_names.length && `env: ${p.env_names.join(", ")}`].filter(Boolean);
  return el("li", { class: "settings-profile", "data-profile": p.name },
    el("div", null, el("strong", null, p.name), el("span", { class: "muted small" }, extra.length ? ` · ${extra.join(" · ")}` : "")),
    el("code", { class: "profile-command" }, p.command.join(" ")),
    el("div", { class: "settings-line" }, el("label", { class: "inline" }, "At most ", cap, " at a time"),
      el("button", { type: "button", class: "btn small", "data-key": `save-cap-${p.name}`,
        onclick: () => save(`the cap of ${p.name}`, () => api.setSettings({ profiles: { [p.name]: { max_concurrency: Number(cap.value) } } })) }, "Save")),
    el("div", { class: "settings-line" }, desc, el("button", { type: "button", class: "btn small", "data-key": `save-desc-${p.name}`,
      onclick: () => save(`the description of ${p.name}`, () => api.describeProfile(p.name, desc.value)) }, "Save")),
    el("div", { class: "settings-running" }, "Running: ", runningLinks(p)));
}

function loopLine(name, loop) {
  return el("p", { class: `loop-state ${loop.alive ? "alive" : "stopped"}`, "data-loop": name },
    el("strong", null, `${name}: `, loop.alive ? "alive" : "stopped"), ` · last pass ${when(loop.last_pass_at)}`);
}

function loops(s) {
  const cap = capInput("max-in-progress", "Tasks in progress at most, across every board", s.dispatch.max_in_progress);
  return [loopLine("Dispatcher", s.dispatch), loopLine("Notifier", s.notify),
    el("div", { class: "settings-line" }, el("label", { class: "inline" }, "At most ", cap, " tasks in progress on every board"),
      el("button", { type: "button", class: "btn small", "data-key": "save-max-in-progress",
        onclick: () => save("the dispatcher's cap", () => api.setSettings({ max_in_progress: Number(cap.value) })) }, "Save"))];
}

function platforms(s) {
  if (!s.notify.platforms.length) return el("p", { class: "muted" }, "No platforms are configured (notify.platforms in config.yaml).");
  return el("ul", { class: "settings-list" }, s.notify.platforms.map((p) => el("li", { "data-platform": p.name },
    el("strong", null, p.name), p.usable ? " · usable" : " · not usable (no token or URL)",
    p.home_channels.map((h) => ` · home: ${h.name} (${h.chat_id}${h.thread_id ? `/${h.thread_id}` : ""})`))));
}

function boardRow(b) {
  const dir = el("input", { type: "text", value: b.default_workdir || "", placeholder: "/absolute/path", "data-key": `workdir-${b.slug}`, "aria-label": `Default directory of ${b.slug}` });
  const kind = el("select", { "data-key": `kind-${b.slug}`, "aria-label": `Default workspace of ${b.slug}` },
    KINDS.map((k) => el("option", { value: k, selected: k === (b.default_workspace_kind || "") }, k || "(none)")));
  return el("li", { "data-board": b.slug }, el("strong", null, b.name || b.slug), el("span", { class: "muted small" }, ` ${b.slug} · ${b.total} task${b.total === 1 ? "" : "s"}`),
    el("div", { class: "settings-line" }, dir, kind, el("button", { type: "button", class: "btn small", "data-key": `save-board-${b.slug}`,
      onclick: () => save(`the defaults of ${b.slug}`, () => api.updateBoard(b.slug, { default_workdir: dir.value, default_workspace_kind: kind.value })) }, "Save")));
}

function configPart(c) {
  return [el("p", null, el("code", null, c.path), c.exists ? "" : " (not written yet)"),
    el("p", { class: "muted small" }, `Loaded ${c.loaded_at ? new Date(c.loaded_at * 1000).toLocaleString() : "at start-up"}`),
    c.ok ? null : el("p", { class: "form-error config-error" }, `Refused: ${c.error}`)];
}

const section = (title, ...body) => el("section", { class: "settings-section" }, el("h3", null, title), ...body);

async function open() {
  const body = $("settings-body");
  $("settings-dialog").showModal();
  try {
    const s = await api.settings();
    body.replaceChildren(
      section("Profiles", s.profiles.length ? el("ul", { class: "settings-list" }, s.profiles.map(profileRow))
        : el("p", { class: "muted" }, "No profiles are configured: add them under profiles: in config.yaml.")),
      section("Dispatcher and notifier", ...loops(s)),
      section("Notifications", platforms(s)),
      section("Boards", el("ul", { class: "settings-list" }, s.boards.map(boardRow))),
      section("Config", ...configPart(s.config)));
  } catch (err) {
    body.replaceChildren(el("p", { class: "form-error" }, err.message));
  }
}

export function installSettings() {
  prepareDialog($("settings-dialog"));
  $("settings-btn").addEventListener("click", open);
}
