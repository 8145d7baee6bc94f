// Shared by the session and JWT pages: requests, and showing what came back.
"use strict";

const $ = (id) => document.getElementById(id);

function show(id, text, kind) {
  const out = $(id);
  out.textContent = text;
  out.className = kind || "";
}

function statusKind(status) {
  return status >= 200 && status < 300 ? "ok" : "bad";
}

// Deadlines (a session's expiresAt, a token's exp) are the server's clock; a student's laptop
// may run minutes apart from the teacher's server. Every answer's Date header says how far.
let serverAhead = 0;

async function call(path, options) {
  const response = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, options || {}));
  const date = Date.parse(response.headers.get("Date") || "");
  if (!Number.isNaN(date)) serverAhead = date / 1000 - Date.now() / 1000;
  const body = (await response.text()).trim();
  return { status: response.status, line: `${response.status} ${response.statusText}`, body };
}

function postJson(path, body, headers) {
  return call(path, {
    method: "POST",
    headers: Object.assign({ "Content-Type": "application/json" }, headers || {}),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function credentials(form) {
  const data = new FormData(form);
  return { email: data.get("email"), password: data.get("password") };
}

function secondsLeft(untilSeconds) {
  // By the server's clock, to the second its Date header gives.
  const left = Math.round(untilSeconds - (Date.now() / 1000 + serverAhead));
  return left > 0 ? `${left} s` : "none: expired";
}

// The attacker's page, served by this same server under its other name: 127.0.0.1 and
// localhost are different sites to the browser, so it is cross-site for real. The link reads
// as host and path; the victim's origin, percent-encoded, is only in the href.
for (const link of document.querySelectorAll("a.attacker-link")) {
  const other = location.hostname === "localhost" ? "127.0.0.1" : "localhost";
  const site = `${other}${location.port ? ":" + location.port : ""}`;
  link.href = `${location.protocol}//${site}/attacker?victim=${encodeURIComponent(location.origin)}`;
  link.textContent = `${site}/attacker`;
}
