// The attacker's page: every button makes the visitor's browser send a request to the victim
// site, and the table shows what the server's journal says each one carried. No credential is
// ever visible to this script: that is the point.
"use strict";

const $ = (id) => document.getElementById(id);
const victim = document.body.dataset.victim;
const mode = document.body.dataset.mode;
let mark = null;

function why(r) {
  const reasons = [];
  if (mode === "jwt") {
    reasons.push("no Authorization header: the browser never adds a bearer token by itself");
  } else if (r.cookie) {
    reasons.push("the cookie went: SameSite=Lax still sends it on a top-level GET navigation, so a " +
                 "link keeps you logged in. That is why a GET must never change anything");
  } else {
    reasons.push("no cookie: SameSite=Lax keeps it off cross-site POSTs, frames and script requests " +
                 "(or you were not logged in)");
  }
  if (r.status === 403) reasons.push("the server refused it as cross-site (its Origin or Sec-Fetch-Site)");
  return reasons.join("; ");
}

// What a request means to the victim (the legend above the log says so): bad when it got
// through carrying their credentials, or when a forged login got through; good otherwise.
function forVictim(r) {
  const through = r.status >= 200 && r.status < 300;
  if (through && (r.cookie || r.authorization)) return ["bad", "got through with your credentials: bad for you"];
  if (through && r.request.endsWith(" /login")) return ["bad", "got through: you would be logged in as the attacker chose: bad for you"];
  if (through) return ["ok", "answered, but without your credentials: nothing of yours was used"];
  return ["ok", "refused: good for you"];
}

function entry(r) {
  const item = document.createElement("li");
  const head = document.createElement("strong");
  const [kind, meaning] = forVictim(r);
  head.textContent = `${r.request} -> ${r.status}: ${meaning}`;
  head.className = kind;
  const body = document.createElement("div");
  body.textContent = [
    `sent by: ${r.how}; Sec-Fetch-Site: ${r.secFetchSite || "(none)"}; Origin: ${r.origin || "(none)"}`,
    `Host: ${r.host}; Cookie: ${r.cookie || "(none)"}; Authorization: ${r.authorization || "(none)"}`,
    `server: ${r.server.join("; ")}`,
    `why: ${why(r)}`,
  ].join("\n");
  item.append(head, body);
  return item;
}

async function page(since) {
  const response = await fetch(since === null ? "/attacker/log" : `/attacker/log?since=${since}`,
                               { cache: "no-store" });
  return response.json();
}

async function refresh() {
  if (mark === null) { mark = (await page(null)).mark; return; }
  // The log comes a page at a time; a few pages are all a lesson makes.
  const shown = [];
  let log = { more: true, next: mark };
  for (let pages = 0; log.more && pages < 10; pages++) {
    log = await page(log.next);
    shown.push(...log.requests);
  }
  $("log").replaceChildren(...shown.map(entry));
}

$("here").textContent = location.origin;
$("wrong-site").hidden = new URL(victim).hostname !== location.hostname;
($(`mode-${mode}`) || $("mode-session")).hidden = false;

document.querySelector("iframe[name=answer]").addEventListener("load", refresh);
$("refresh").addEventListener("click", refresh);
window.addEventListener("focus", refresh);  // back from the tab the link opened
$("csrf-fetch").addEventListener("click", async () => {
  try {
    const answer = await fetch(`${victim}/profile`, { credentials: "include", mode: "no-cors", cache: "no-store" });
    $("fetch-answer").textContent = `The browser sent it and got an answer, but this script sees an opaque response: type "${answer.type}", status ${answer.status}, no body. In no-cors mode a cross-site answer is always opaque; reading it would take mode "cors" and the victim answering with Access-Control-Allow-Origin naming this site and Access-Control-Allow-Credentials: true.`;
  } catch (err) {
    $("fetch-answer").textContent = `fetch failed: ${err}`;
  }
  await refresh();
});
refresh();
