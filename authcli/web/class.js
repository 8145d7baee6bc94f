// The class page: join with a name and the teacher's token, then follow the room live
// (Server-Sent Events on /class/events) and answer the open question. Everything shown is set
// with textContent: names and questions never become markup.
"use strict";

const state = { answers: {}, stream: null, lastId: "" };
const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const text = await response.text();
  let data;
  try { data = JSON.parse(text); } catch { data = { error: text.trim() }; }
  return { ok: response.ok, status: response.status, data };
}

function question(q) {
  const box = el("div", undefined, "question");
  box.dataset.key = q.key;
  box.append(el("p", q.prompt));
  if (q.request) box.append(el("pre", q.request));
  const row = el("div", undefined, "choices");
  q.choices.forEach((choice, i) => {
    const label = q.labels && q.labels[i] ? `${choice}: ${q.labels[i]}` : choice;
    const button = el("button", label);
    button.dataset.choice = choice;
    if (state.answers[q.key] === choice) button.classList.add("chosen");
    button.addEventListener("click", () => answer(q.key, choice));
    row.append(button);
  });
  box.append(row);
  return box;
}

async function answer(key, choice) {
  const sent = await post("/class/answer", { key, choice });
  if (sent.ok) {
    state.answers[key] = choice;
    document.querySelectorAll(`.question[data-key="${CSS.escape(key)}"] button`).forEach((b) =>
      b.classList.toggle("chosen", b.dataset.choice === choice));
    $("status").textContent = `Answer sent: ${choice}`;
  } else {
    $("status").textContent = sent.data.error || `Not counted (${sent.status})`;
  }
}

function results(revealed) {
  const box = $("results");
  box.replaceChildren();
  if (!revealed) return;
  for (const r of revealed.results) {
    const part = el("div", undefined, "question");
    part.append(el("p", r.prompt));
    const most = Math.max(1, ...Object.values(r.histogram));
    for (const [choice, n] of Object.entries(r.histogram)) {
      const line = el("div", undefined, choice === r.answer ? "right" : "");
      line.append(el("span", `${choice} `));
      const bar = el("span", undefined, "bar");
      bar.style.width = `${(12 * n) / most}em`;
      line.append(bar, el("span", ` ${n}${choice === r.answer ? " (right)" : ""}`));
      part.append(line);
    }
    part.append(el("p", `Right: ${r.answer} (${r.reason}).`));
    part.append(el("p", `You answered: ${state.answers[r.key] || "nothing"}.`, "dim"));
    box.append(part);
  }
}

function show(room) {
  const phases = { waiting: "Waiting for the next question.", predict: "Predict: what will happen?",
    check: "Concept check: answer every item.", reveal: "Revealed.", done: "The class is over. Thank you!" };
  $("phase").textContent = phases[room.phase] || "";
  $("questions").replaceChildren(...room.questions.map(question));
  // A reveal stays on screen under the next question until the next reveal: a student who
  // looked away, or a teacher quick with Enter, must not make it vanish unseen. A concept
  // check clears it (its items are not about the last step).
  if (room.revealed || room.phase === "check") results(room.revealed);
  $("previous").hidden = !(room.phase !== "reveal" && $("results").childElementCount);
}

function listen() {
  if (state.stream) state.stream.close();
  // Every state comes in order with an id; EventSource sends the last one back by itself when it
  // reconnects, and a new EventSource (after a refusal) asks from it: nothing missed is skipped.
  const last = state.lastId ? `?last=${encodeURIComponent(state.lastId)}` : "";
  state.stream = new EventSource(`/class/events${last}`);
  state.stream.addEventListener("state", (e) => {
    state.lastId = e.lastEventId;
    show(JSON.parse(e.data));
  });
  state.stream.addEventListener("error", () => {
    // Reconnecting by itself (a dropped network) is quiet; a refusal (the teacher restarted,
    // or too many pages open under this name) closes the stream: offer to join again.
    if (state.stream.readyState === EventSource.CLOSED) {
      $("status").textContent = "Disconnected from the class: join again (your answers are kept).";
      $("join").hidden = false;
    }
  });
}

function enter(me) {
  state.answers = me.answers || {};
  $("me").textContent = me.name;
  $("code").textContent = me.code || "";
  $("room").hidden = false;
  $("join").hidden = true;
  $("status").textContent = "";
  if (me.qr && !$("qr").src) {
    $("qr").addEventListener("load", () => { $("share").hidden = false; }, { once: true });
    $("qr").src = "/class/qr.svg";
  }
  listen();
}

async function join(event) {
  event.preventDefault();
  const form = new FormData($("join"));
  const sent = await post("/class/join", { name: form.get("name"), token: form.get("token"), code: form.get("code") });
  if (!sent.ok) {
    $("status").textContent = sent.data.error || `Not joined (${sent.status})`;
    return;
  }
  enter(sent.data);
}

async function resume() {
  // A reload (or a phone that slept) still holds its seat cookie: back in, answers kept.
  const response = await fetch("/class/me");
  if (response.ok) enter(await response.json());
}

document.addEventListener("DOMContentLoaded", () => {
  const token = new URLSearchParams(location.hash.slice(1)).get("t");
  if (token) document.querySelector("#join [name=token]").value = token;
  $("join").addEventListener("submit", join);
  resume();
});
