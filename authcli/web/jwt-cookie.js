// The JWT-in-a-cookie page: the token is an HttpOnly cookie, so page script never holds it; it
// can only show what it is allowed to see (nothing) and what the server answers.
"use strict";

function seen() {
  show("seen", `document.cookie: ${JSON.stringify(document.cookie)}  localStorage.getItem("token"): ` +
       `${JSON.stringify(localStorage.getItem("token"))}\n(empty: the token is HttpOnly, out of this page's reach)`);
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await postJson("/login", credentials(event.target));
  show("login-answer", `${answer.line}: ${answer.body}\nThe token came back only in Set-Cookie; the browser keeps it.`,
       statusKind(answer.status));
  seen();
});

$("profile-button").addEventListener("click", async () => {
  const answer = await call("/profile");
  show("profile", `GET /profile, the cookie added by the browser: ${answer.line}: ${answer.body}`,
       statusKind(answer.status));
});

$("logout").addEventListener("click", async () => {
  const answer = await postJson("/logout");
  show("profile", `${answer.line}: ${answer.body}\nThe server cleared the cookie (Max-Age=0); it revoked nothing.`,
       statusKind(answer.status));
});

$("inject").addEventListener("click", async () => {
  const stolen = document.cookie;
  const answer = await call("/profile");
  show("inject-answer", `document.cookie gave the script: ${JSON.stringify(stolen)}\n` +
       `but its fetch("/profile") got ${answer.line}: the browser attached the cookie for it.`,
       answer.status === 200 ? "bad" : "ok");
});

seen();
