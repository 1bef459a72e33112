// The Profiles dialog: each configured worker profile with its description (what the orchestrator
// reads to route work), and which profile orchestrates (specify, decompose) and is the default.
import { api } from "./api.js";
import { prepareDialog, showError, toast } from "./dialogs.js";
import { el } from "./state.js";

const dialog = () => document.getElementById("profiles-dialog");

function profileSelect(key, label, current, names) {
  const sel = el("select", { "data-key": key, "aria-label": label },
    el("option", { value: "" }, "(none)"),
    names.map((n) => el("option", { value: n, selected: n === current }, n)));
  sel.addEventListener("change", async () => {
    const form = dialog().querySelector("form");
    try {
      await api.setOrchestration({ [key]: sel.value });
      showError(form, "");
      toast(`${label}: ${sel.value || "none"}`, "info");
    } catch (err) { showError(form, err.message); }
  });
  return el("label", null, `${label} `, sel);
}

function profileRow(p) {
  const input = el("textarea", { rows: 2, "data-key": `describe-${p.name}`, "aria-label": `Description of ${p.name}`, placeholder: "What is this profile good at?" });
  input.value = p.description || "";
  const save = el("button", { type: "button", class: "btn small", "data-key": `save-${p.name}`, onclick: async () => {
    const form = dialog().querySelector("form");
    try {
      await api.describeProfile(p.name, input.value);
      showError(form, "");
      toast(`Saved the description of ${p.name}`, "info");
    } catch (err) { showError(form, err.message); }
  } }, "Save");
  return el("li", { class: "profile-row", "data-profile": p.name },
    el("div", null, el("strong", null, p.name), el("span", { class: "muted small" },
      ` ${p.provider}${p.is_default ? " · default" : ""}${p.description_auto ? " · written by the orchestrator" : ""}`)),
    input, save);
}

async function open() {
  const d = dialog();
  const body = document.getElementById("profiles-body");
  d.showModal();
  try {
    const [settings, roster] = await Promise.all([api.orchestration(), api.profiles()]);
    const names = roster.profiles.map((p) => p.name);
    if (!names.length) {
      body.replaceChildren(el("p", { class: "muted" }, "No profiles are configured: add them under profiles: in config.yaml."));
      return;
    }
    body.replaceChildren(
      el("div", { class: "profile-settings" },
        profileSelect("orchestrator_profile", "Orchestrator", settings.orchestrator_profile, names),
        profileSelect("default_assignee", "Default assignee", settings.default_assignee, names)),
      el("ul", { class: "profiles" }, roster.profiles.map(profileRow)));
  } catch (err) {
    body.replaceChildren(el("p", { class: "form-error" }, err.message));
  }
}

const d = dialog();
if (d) {
  prepareDialog(d);
  document.getElementById("profiles-btn")?.addEventListener("click", open);
}
