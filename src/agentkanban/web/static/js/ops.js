// The operator's panel: the doctor's findings (with the safe repairs) and the board's recurring
// schedules. Everything is text set through el(): nothing stored reaches the page as HTML.
import { api } from "./api.js";
import { prepareDialog, toast } from "./dialogs.js";
import { el } from "./state.js";

const $ = (id) => document.getElementById(id);

function when(ts) {
  return ts ? new Date(ts * 1000).toLocaleString() : "–";
}

function finding(f) {
  const where = [f.board, f.task_id].filter(Boolean).join(" ");
  return el("li", { class: `finding${f.repairable ? " repairable" : ""}`, dataset: { code: f.code } },
    el("strong", { text: f.code }), where ? ` ${where}: ` : ": ", f.message,
    el("div", { class: "muted small", text: `Fix: ${f.fix}` }));
}

async function showDoctor(result) {
  const list = $("doctor-findings");
  const data = result || await api.doctor();
  const findings = data.findings || data.needs_person || [];
  list.replaceChildren(...findings.map(finding));
  $("doctor-empty").hidden = findings.length > 0;
  $("doctor-repair").disabled = !findings.some((f) => f.repairable);
}

function scheduleRow(s) {
  const state = s.paused ? "paused" : `next ${when(s.next_at)}`;
  const toggle = el("button", { type: "button", class: "btn ghost", text: s.paused ? "Resume" : "Pause",
    onclick: () => act(() => api.pauseSchedule(s.id, !s.paused)) });
  const remove = el("button", { type: "button", class: "btn ghost danger", text: "Remove",
    onclick: () => act(() => api.removeSchedule(s.id)) });
  return el("li", { class: "schedule", dataset: { id: s.id } },
    el("strong", { text: s.title }), ` ${s.cron} (${s.tz}) · ${state}`,
    s.template.assignee ? ` · ${s.template.assignee}` : "", " ", toggle, remove);
}

async function showSchedules() {
  const { schedules } = await api.schedules();
  $("schedule-list").replaceChildren(...schedules.map(scheduleRow));
  $("schedule-empty").hidden = schedules.length > 0;
}

async function act(fn) {
  try {
    await fn();
    await showSchedules();
  } catch (err) {
    toast(err.message, "error");
  }
}

async function addSchedule(e) {
  e.preventDefault();
  const form = e.target;
  const data = Object.fromEntries(new FormData(form));
  const err = form.querySelector(".form-error");
  const body = { title: data.title, cron: data.cron, tz: data.tz || "UTC", catch_up: data.catch_up,
                 skip_if_open: data.skip_if_open === "on", assignee: data.assignee || null };
  try {
    await api.addSchedule(body);
    err.hidden = true;
    form.reset();
    await showSchedules();
  } catch (error) {
    err.textContent = error.message;
    err.hidden = false;
  }
}

export async function openOps() {
  const dialog = $("ops-dialog");
  dialog.showModal();
  try {
    await Promise.all([showDoctor(), showSchedules()]);
  } catch (err) {
    toast(err.message, "error");
  }
}

export function installOps() {
  prepareDialog($("ops-dialog"));
  $("ops-btn").addEventListener("click", openOps);
  $("schedule-form").addEventListener("submit", addSchedule);
  $("doctor-repair").addEventListener("click", async () => {
    try {
      const result = await api.repair();
      toast(`Repaired ${result.repaired.length}; ${result.needs_person.length} need a person`);
      await showDoctor(result);
    } catch (err) {
      toast(err.message, "error");
    }
  });
}
