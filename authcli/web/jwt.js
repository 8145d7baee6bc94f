// The JWT page: the token lives in localStorage, page script adds Authorization: Bearer, and
// logout can only forget the client's copy: a copied token still works until exp.
"use strict";

const KEY = "token";
let copied = null; // what someone who copied the token before logout still holds

function decodePart(part) {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(base64 + "=".repeat((4 - base64.length % 4) % 4)), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function coloured(token) {
  const out = $("token");
  out.textContent = "";
  token.split(".").forEach((part, i) => {
    if (i) out.append(".");
    const span = document.createElement("span");
    span.className = ["hdr", "pay", "sig"][i] || "";
    span.textContent = part;
    out.append(span);
  });
}

function render() {
  const token = localStorage.getItem(KEY);
  // Before login (and after logout) there is nothing to decode: say so, show no empty boxes.
  $("decoded").hidden = $("decoded-note").hidden = !token;
  if (!token) {
    show("token", "Not logged in: localStorage has no token. Log in above, and it appears here.");
    ["header", "payload", "claims"].forEach((id) => show(id, ""));
    return;
  }
  coloured(token);
  const [header, payload] = token.split(".").slice(0, 2).map(decodePart);
  $("header").textContent = JSON.stringify(header, null, 2);
  $("payload").textContent = JSON.stringify(payload, null, 2);
  const when = (name, meaning) => payload[name] === undefined ? [] :
    [`${name} ${payload[name]} = ${new Date(payload[name] * 1000).toISOString()} (${meaning})`];
  show("claims", [`sub ${JSON.stringify(payload.sub)} (who the token is about)`,
                  ...when("iat", "issued at"), ...when("exp", "expires at"),
                  `time left: ${secondsLeft(payload.exp)}`].join("\n"));
}

async function profileWith(token, label) {
  const answer = await call("/profile", token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  show("profile", `${label}: ${answer.line}: ${answer.body}`, statusKind(answer.status));
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await postJson("/login", credentials(event.target));
  let token = null;
  try { token = JSON.parse(answer.body).token; } catch (err) { token = null; }
  if (token) {
    localStorage.setItem(KEY, token);
    copied = token;
  }
  show("login-answer", `${answer.line}: the token arrived in the response body; page script saved it in localStorage.`,
       statusKind(answer.status));
  render();
});

$("profile-button").addEventListener("click", () =>
  profileWith(localStorage.getItem(KEY), "GET /profile, Authorization added by this page"));

$("logout").addEventListener("click", async () => {
  const token = localStorage.getItem(KEY);
  const answer = await postJson("/logout", undefined, token ? { Authorization: `Bearer ${token}` } : {});
  localStorage.removeItem(KEY);
  render();
  show("profile", `${answer.line}: ${answer.body}\nlocalStorage no longer has the token, but the server has nothing to revoke.`,
       statusKind(answer.status));
});

$("replay").addEventListener("click", () =>
  profileWith(copied, "The copied token, replayed after logout"));

$("inject").addEventListener("click", async () => {
  const stolen = localStorage.getItem(KEY);
  show("inject-answer", stolen
    ? `localStorage.getItem("token") gave the script the whole token (${stolen.length} characters).\n` +
      "It can send it anywhere and use it from any machine until exp."
    : "localStorage holds no token now (log in first).", stolen ? "bad" : "ok");
});

setInterval(() => { if (localStorage.getItem(KEY)) render(); }, 1000);
render();
