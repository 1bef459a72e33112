// A banner while the server refuses a changed config.yaml: the server keeps the configuration
// loaded before, and says why the new one was refused (on /healthz, read every few seconds).
const EVERY_MS = 2000;

function show(config) {
  const b = document.getElementById("config-banner");
  if (!b) return;
  if (!config || config.ok) {
    b.hidden = true;
    b.replaceChildren();
    return;
  }
  const msg = document.createElement("span");
  msg.className = "config-error";
  msg.textContent = config.error || "config.yaml could not be loaded";
  const lead = document.createElement("strong");
  lead.textContent = "config.yaml was not reloaded: ";
  const tail = document.createElement("span");
  const since = new Date(config.loaded_at * 1000).toLocaleTimeString();
  tail.textContent = ` The configuration loaded at ${since} stays in force until the file is fixed.`;
  b.replaceChildren(lead, msg, tail);
  b.hidden = false;
}

async function poll() {
  try {
    const r = await fetch("/healthz", { cache: "no-store", credentials: "same-origin" });
    const body = await r.json();
    show(body.config);
  } catch {
    // The server is away: the live feed's own banner says so.
  }
}

export function watchConfig() {
  poll();
  setInterval(() => {
    if (!document.hidden) poll();
  }, EVERY_MS);
}
