// The DPoP page: a non-extractable P-256 key from WebCrypto signs a proof (RFC 9449) for each
// request; the token, bound to that key, is useless without one.
"use strict";

const utf8 = (text) => new TextEncoder().encode(text);
let keys = null; // { privateKey (non-extractable), publicKey }
let jwk = null;  // the public key, as every proof's header carries it
let token = null;

function b64url(bytes) {
  let binary = "";
  new Uint8Array(bytes).forEach((b) => { binary += String.fromCharCode(b); });
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function makeKey() {
  keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const exported = await crypto.subtle.exportKey("jwk", keys.publicKey); // a public key always exports
  jwk = { kty: exported.kty, crv: exported.crv, x: exported.x, y: exported.y };
  await call("/", { method: "HEAD" }); // the server's Date header: proofs' iat by its clock
  show("key", `Key made: P-256, non-extractable. Public x ${jwk.x.slice(0, 12)}...`);
}

// One proof: typ dpop+jwt, the public jwk in the header; htm, htu, iat, jti, and ath with a token.
async function proof(method, path, withToken) {
  const claims = { jti: b64url(crypto.getRandomValues(new Uint8Array(16))), htm: method,
                   htu: location.origin + path, iat: Math.floor(Date.now() / 1000 + serverAhead) };
  if (withToken) claims.ath = b64url(await crypto.subtle.digest("SHA-256", utf8(withToken)));
  const header = { typ: "dpop+jwt", alg: "ES256", jwk };
  const input = `${b64url(utf8(JSON.stringify(header)))}.${b64url(utf8(JSON.stringify(claims)))}`;
  // WebCrypto's ECDSA signature is r || s, 64 bytes: what JWS ES256 wants.
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, utf8(input));
  const made = `${input}.${b64url(signature)}`;
  show("proof", made);
  return made;
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await postJson("/login", credentials(event.target), { DPoP: await proof("POST", "/login") });
  try { token = JSON.parse(answer.body).token || null; } catch (err) { token = null; }
  show("login-answer", `${answer.line}: ${token ? "a token bound to this page's key (cnf.jkt)" : answer.body}`,
       statusKind(answer.status));
  show("token", token || "");
});

$("profile-button").addEventListener("click", async () => {
  const headers = { Authorization: `DPoP ${token}`, DPoP: await proof("GET", "/profile", token) };
  const answer = await call("/profile", { headers });
  show("profile", `With a proof: ${answer.line}: ${answer.body}`, statusKind(answer.status));
});

$("bare").addEventListener("click", async () => {
  const answer = await call("/profile", { headers: { Authorization: `DPoP ${token}` } });
  show("profile", `The token alone: ${answer.line}: ${answer.body}`, statusKind(answer.status));
});

$("export").addEventListener("click", async () => {
  try {
    await crypto.subtle.exportKey("jwk", keys.privateKey);
    show("export-answer", "exportKey gave the private key out", "bad");
  } catch (err) {
    show("export-answer", `exportKey refused: ${err.name}. Script here can still sign with it (see below).`, "ok");
  }
});

makeKey();
