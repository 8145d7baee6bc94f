// A peer for serve_throughput.py: Express with express-session doing authcli's /login and /profile.
//
//     node benchmarks/peers/express_app.js session|jwt PORT_FILE
//
// Its packages go in a folder beside it, never committed (benchmarks/peers/.node is ignored):
//     npm install --prefix benchmarks/peers/.node express@5 express-session@1 argon2@0.45 jsonwebtoken@9
// serve_throughput.py sets NODE_PATH to that folder.
//
// The same work as authcli's routes, the way an Express app does it:
// - POST /login: JSON {email, password}, the password checked against an Argon2id hash with
//   OWASP's parameters (node-argon2; a dummy hash for an unknown email), then a session in
//   express-session's MemoryStore (cookie sessionId; Path=/; HttpOnly; SameSite=Lax; the
//   record with userId, createdAt, expiresAt; express-session also signs the cookie, its way)
//   or an HS256 token (sub, userId, iat, exp, jti) from jsonwebtoken;
// - GET /profile: the session read back and its deadline checked, or the token verified with
//   the key prepared once (a KeyObject), HS256 only, and the claims bare_server.py checks.
// No request log (Express has none by default). It writes "PORT" to PORT_FILE once listening.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const argon2 = require("argon2");
const express = require("express");
const session = require("express-session");
const jwt = require("jsonwebtoken");

const [mode, portFile] = process.argv.slice(2);
const TTL = 3600;
const OWASP = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const KEY = crypto.createSecretKey(crypto.randomBytes(32)); // prepared once, as authcli's server does

function headers(res) {
  res.set("Cache-Control", "no-store").set("X-Content-Type-Options", "nosniff");
  res.type("text/plain; charset=utf-8");
}

function iso(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isDate(v) {
  return typeof v === "number" && Math.abs(v) <= 253402300799;
}

function jwtUser(header) {
  const [scheme, token] = (header || "").split(" ");
  if (!scheme || scheme.toLowerCase() !== "bearer" || !token) return null;
  let decoded;
  try {
    decoded = jwt.verify(token, KEY, { algorithms: ["HS256"], complete: true });
  } catch (err) {
    return null;
  }
  const p = decoded.payload, now = Date.now() / 1000;
  if ("crit" in decoded.header || !isDate(p.exp) || !isDate(p.iat) || p.iat > now || typeof p.sub !== "string") return null;
  if ("aud" in p || ["iss", "jti"].some((n) => n in p && typeof p[n] !== "string")) return null;
  return p.sub;
}

async function main() {
  const users = { "a@b.com": { id: 1, hash: await argon2.hash("123", OWASP) } };
  const dummy = await argon2.hash(crypto.randomBytes(16).toString("hex"), OWASP);
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(express.json({ limit: "16kb" }));
  if (mode === "session") {
    app.use(session({
      secret: crypto.randomBytes(32).toString("hex"), name: "sessionId", resave: false,
      saveUninitialized: false, cookie: { path: "/", httpOnly: true, sameSite: "lax", secure: false },
      genid: () => crypto.randomBytes(32).toString("base64url"),
    }));
  }
  app.post("/login", async (req, res) => {
    headers(res);
    const { email, password } = req.body || {};
    if (typeof email !== "string" || typeof password !== "string") return res.status(400).send("Send JSON {email, password}\n");
    const user = users[email];
    const ok = await argon2.verify(user ? user.hash : dummy, password);
    if (!user || !ok) return res.status(401).send("Wrong credentials\n");
    const now = Date.now();
    if (mode === "jwt") {
      const iat = Math.floor(now / 1000);
      const claims = { sub: String(user.id), userId: user.id, iat, exp: iat + TTL, jti: crypto.randomBytes(12).toString("base64url") };
      return res.json({ token: jwt.sign(claims, KEY, { algorithm: "HS256" }) });
    }
    req.session.regenerate((err) => {
      if (err) return res.status(500).send("Internal server error\n");
      req.session.record = { userId: user.id, createdAt: iso(now), expiresAt: iso(now + TTL * 1000) };
      req.session.deadline = now + TTL * 1000;
      res.send("Logged in\n");
    });
  });
  app.get("/profile", (req, res) => {
    headers(res);
    let user = null;
    if (mode === "jwt") user = jwtUser(req.get("authorization"));
    else if (req.session && req.session.record && Date.now() < req.session.deadline) user = String(req.session.record.userId);
    if (user === null) return res.status(401).send("Not logged in\n");
    res.send(`Welcome user ${user}\n`);
  });
  const server = app.listen(0, "127.0.0.1", 1024, () => {
    fs.writeFileSync(portFile, `${server.address().port}\n`);
  });
  server.keepAliveTimeout = 10000;
}

main();
