// The login form posts JSON with fetch: the server takes JSON only, which a cross-site HTML
// form cannot send (login CSRF). The browser keeps the Set-Cookie by itself.
"use strict";

async function send(path, body) {
  const options = { method: "POST", credentials: "same-origin" };
  if (body !== undefined) {
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  document.getElementById("answer").textContent =
    `${response.status} ${response.statusText}\n${text}\n` +
    `document.cookie sees: ${JSON.stringify(document.cookie)} (HttpOnly hides the session)`;
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  send("/login", { email: form.get("email"), password: form.get("password") });
});

document.getElementById("logout").addEventListener("submit", (event) => {
  event.preventDefault();
  send("/logout");
});
