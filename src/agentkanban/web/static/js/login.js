// The sign-in page: trade the token for the HttpOnly session cookie, then go to the board.
import { detailOf } from "./api.js";

const form = document.getElementById("login-form");
const input = document.getElementById("token");
const error = document.getElementById("login-error");

if (new URLSearchParams(location.search).get("error") === "token") {
  error.textContent = "The token in that link was not accepted. Paste the current one.";
  error.hidden = false;
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  error.hidden = true;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const res = await fetch("/api/auth/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token: input.value.trim() }),
    });
    if (res.ok) {
      location.assign("/");
      return;
    }
    let data = null;
    try {
      data = await res.json();
    } catch {
      /* not JSON */
    }
    error.textContent = res.status === 401 ? "That token was not accepted." : detailOf(data) || `Sign-in failed (${res.status}).`;
  } catch {
    error.textContent = "The server could not be reached.";
  }
  error.hidden = false;
  button.disabled = false;
  input.select();
});
