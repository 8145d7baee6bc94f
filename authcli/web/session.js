// The session page: the browser keeps the HttpOnly cookie and sends it by itself; page script
// can neither see it nor needs to. Login posts JSON (a cross-site HTML form cannot), so the
// server's login-CSRF defence holds.
"use strict";

let expiresAt = null;

async function refresh() {
  const cookie = document.cookie;
  show("cookie", cookie === "" ? '"" (empty: HttpOnly hides the session cookie from page script)'
                               : JSON.stringify(cookie), cookie === "" ? "ok" : "bad");
  const profile = await call("/profile");
  show("profile", `${profile.line}: ${profile.body}`, statusKind(profile.status));
  const view = await call("/session/record");
  let record = null;
  try { record = JSON.parse(view.body); } catch (err) { record = null; }
  if (record && record.found) {
    show("record", record.line, "ok");
    expiresAt = Date.parse(record.record.expiresAt) / 1000;
  } else {
    show("record", record ? record.line : view.line, "bad");
    expiresAt = null;
  }
  tick();
}

function tick() {
  show("left", expiresAt === null ? "no session" : secondsLeft(expiresAt));
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await postJson("/login", credentials(event.target));
  show("login-answer", `${answer.line}: ${answer.body}\nThe Set-Cookie header went to the browser's cookie store; fetch does not even show it to this script.`,
       statusKind(answer.status));
  await refresh();
});

$("refresh").addEventListener("click", refresh);

$("logout").addEventListener("click", async () => {
  const answer = await postJson("/logout");
  show("logout-answer", `${answer.line}: ${answer.body}\nThe server deleted the record and sent Set-Cookie with Max-Age=0: the browser dropped the cookie.`,
       statusKind(answer.status));
  await refresh();
});

$("inject").addEventListener("click", async () => {
  const stolen = document.cookie;
  const profile = await call("/profile");
  show("inject-answer",
       `document.cookie gave the script: ${JSON.stringify(stolen)} (nothing to steal)\n` +
       `fetch('/profile') from the script: ${profile.line}: ${profile.body}\n` +
       "HttpOnly keeps the ID from page script; it does not stop the script using the session while the page is open.",
       profile.status === 200 ? "bad" : "ok");
});

setInterval(tick, 1000);
refresh();
