// Modal dialogs: confirm / prompt, and the focus trap the drawer shares. Native <dialog> with
// showModal() makes the rest of the page inert and handles Esc; we add the ARIA attributes.

export function prepareDialog(dialog) {
  dialog.setAttribute("role", "dialog");
  dialog.setAttribute("aria-modal", "true");
  for (const b of dialog.querySelectorAll("[data-close]")) b.addEventListener("click", () => dialog.close("cancel"));
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) dialog.close("cancel"); // click on the backdrop
  });
}

function showError(form, message) {
  const p = form.querySelector(".form-error");
  if (!p) return;
  p.textContent = message || "";
  p.hidden = !message;
}

export { showError };

/**
 * Ask the user to confirm, optionally with a text answer.
 * Resolves to null when cancelled, otherwise to {value}.
 */
export function ask({ title, message, input = null, ok = "OK", danger = false }) {
  const dialog = document.getElementById("ask-dialog");
  const form = dialog.querySelector("form");
  const okBtn = document.getElementById("ask-ok");
  const field = document.getElementById("ask-input");
  const label = document.getElementById("ask-input-label");
  document.getElementById("ask-title").textContent = title;
  document.getElementById("ask-message").textContent = message || "";
  okBtn.textContent = ok;
  okBtn.classList.toggle("danger", danger);
  label.hidden = !input;
  field.value = input?.value || "";
  field.placeholder = input?.placeholder || "";
  document.getElementById("ask-input-caption").textContent = input?.label || "";
  showError(form, "");
  return new Promise((resolve) => {
    let answered = null;
    const onSubmit = (e) => {
      e.preventDefault();
      if (input?.required && !field.value.trim()) {
        showError(form, `${input.label || "A value"} is required.`);
        field.focus();
        return;
      }
      answered = { value: field.value.trim() };
      dialog.close("ok");
    };
    const onKey = (e) => {
      if (e.key === "Enter" && !e.shiftKey && e.target === field) {
        e.preventDefault();
        form.requestSubmit();
      }
    };
    form.addEventListener("submit", onSubmit);
    field.addEventListener("keydown", onKey);
    dialog.addEventListener(
      "close",
      () => {
        form.removeEventListener("submit", onSubmit);
        field.removeEventListener("keydown", onKey);
        resolve(answered);
      },
      { once: true },
    );
    dialog.showModal();
    (input ? field : okBtn).focus();
  });
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), summary';

/** Keep Tab and Shift+Tab inside `container` while it is open. */
export function trapFocus(container, event) {
  if (event.key !== "Tab") return;
  const items = [...container.querySelectorAll(FOCUSABLE)].filter((n) => n.offsetParent !== null || n === document.activeElement);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && (document.activeElement === first || !container.contains(document.activeElement))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

// Toasts sit in their own strip (see .toasts in style.css), so they never cover a control; each
// can be dismissed, and an error stays until it is (or until newer ones push it out).
const MAX_TOASTS = 4;

export function toast(message, kind = "info", ms = 4000, { action = null } = {}) {
  const box = document.getElementById("toasts");
  const t = document.createElement("div");
  t.className = `toast toast-${kind}`;
  t.setAttribute("role", kind === "error" ? "alert" : "status");
  const text = document.createElement("span");
  text.className = "toast-text";
  text.textContent = message;
  t.append(text);
  let timer = 0;
  const close = () => {
    clearTimeout(timer);
    t.remove();
  };
  if (action) {
    const a = document.createElement("button");
    a.type = "button";
    a.className = "btn small toast-action";
    a.textContent = action.label;
    a.addEventListener("click", () => {
      close();
      action.run();
    });
    t.append(a);
  }
  const x = document.createElement("button");
  x.type = "button";
  x.className = "toast-close";
  x.setAttribute("aria-label", "Dismiss");
  x.textContent = "×";
  x.addEventListener("click", close);
  t.append(x);
  box.append(t);
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
  if (kind !== "error") {
    timer = setTimeout(close, ms);
    // Reading it (pointer over it, or focus in it) keeps it up.
    t.addEventListener("mouseenter", () => clearTimeout(timer));
    t.addEventListener("focusin", () => clearTimeout(timer));
    t.addEventListener("mouseleave", () => (timer = setTimeout(close, 2000)));
  }
  return t;
}

export function banner(message, { kind = "error", action = null } = {}) {
  const b = document.getElementById("banner");
  b.replaceChildren();
  delete b.dataset.kind;
  if (!message) {
    b.hidden = true;
    return;
  }
  b.className = `banner banner-${kind}`;
  const span = document.createElement("span");
  span.textContent = message;
  b.append(span);
  if (action) {
    const a = document.createElement("button");
    a.type = "button";
    a.className = "btn";
    a.textContent = action.label;
    a.addEventListener("click", action.run);
    b.append(a);
  }
  const x = document.createElement("button");
  x.type = "button";
  x.className = "btn ghost";
  x.setAttribute("aria-label", "Dismiss");
  x.textContent = "×";
  x.addEventListener("click", () => banner(null));
  b.append(x);
  b.hidden = false;
}

// The drawer gives the toasts' strip its height (style.css, body.drawer-open).
const strip = document.getElementById("toasts");
if (strip && "ResizeObserver" in window) {
  new ResizeObserver(() => document.body.style.setProperty("--toasts-h", `${strip.offsetHeight}px`)).observe(strip);
}
