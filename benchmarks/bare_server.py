"""The baseline for serve_throughput.py: a stock ThreadingHTTPServer doing the same work.

Fair means the same work as authcli's GET /profile, nothing less and nothing more:
- the same lookups: the sessionId cookie read under the same rule (one pair, the issued
  shape), the record read as JSON with its deadline checked; or the bearer token split,
  base64url and JSON decoded, its algorithm checked against an allow-list, its HMAC verified
  with PyJWT's algorithm and a key prepared once, exp/iat/sub checked;
- the same answer: status, Content-Type, Cache-Control: no-store, X-Content-Type-Options,
  Content-Length, in one write (headers and body together);
- HTTP/1.1 keep-alive with Nagle off; no journal, no events, no routing table, no log.

Usage: python bare_server.py session|redis|jwt PORT_FILE [REDIS_URL]
It writes "port session_id_or_token" to PORT_FILE once listening.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1]
SECRET = secrets.token_bytes(32)
SESSIONS: dict[str, tuple[str, float]] = {}
ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
REDIS = None
if MODE == "redis":
    import redis

    REDIS = redis.Redis.from_url(sys.argv[3], decode_responses=True)
if MODE == "jwt":
    import jwt

    HS256 = jwt.get_algorithm_by_name("HS256")
    KEY = HS256.prepare_key(SECRET)  # prepared once, as authcli's server does


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jwt_user(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        head, payload = json.loads(_b64(head_b64)), json.loads(_b64(body_b64))
        if head.get("alg") != "HS256" or "crit" in head:
            return None
        if not HS256.verify(f"{head_b64}.{body_b64}".encode(), KEY, _b64(sig_b64)):
            return None
    except ValueError:
        return None
    now = time.time()
    exp, iat, sub = payload.get("exp"), payload.get("iat"), payload.get("sub")
    if not (_date(exp) and exp > now and _date(iat) and iat <= now and isinstance(sub, str)):
        return None
    # The rest of what authcli checks on every token: nbf, the types of iss and jti, no aud.
    if "nbf" in payload and not (_date(payload["nbf"]) and payload["nbf"] <= now):
        return None
    if any(name in payload and not isinstance(payload[name], str) for name in ("iss", "jti")) or "aud" in payload:
        return None
    return sub


def _date(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and abs(value) <= 253402300799)


def session_user(cookie_headers: list[str]) -> str | None:
    values = [v.strip() for h in cookie_headers for k, _, v in (p.partition("=") for p in h.split(";"))
              if k.strip() == "sessionId"]
    if len(values) != 1 or not ID_SHAPE.fullmatch(values[0]):
        return None
    if REDIS is not None:
        text = REDIS.get("session:" + values[0])  # Redis expires the key itself
    else:
        text, deadline = SESSIONS.get(values[0], (None, 0.0))
        if text is not None and time.time() >= deadline:
            text = None
    return str(json.loads(text)["userId"]) if text else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        if MODE == "jwt":
            user = jwt_user(self.headers.get("Authorization", ""))
        else:
            user = session_user(self.headers.get_all("Cookie") or [])
        body = f"Welcome user {user}\n".encode() if user is not None else b"Not logged in\n"
        head = (f"HTTP/1.1 {200 if user is not None else 401} {'OK' if user is not None else 'Unauthorized'}\r\n"
                f"Server: bare\r\nDate: {self.date_time_string()}\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
                f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n")
        self.wfile.write(head.encode("latin-1") + body)  # one write, as authcli does


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # authcli listens with a backlog of 1024 too

    def handle_error(self, request, client_address):
        pass  # wrk closing its connections at the end is not news


def main() -> None:
    server = Server(("127.0.0.1", 0), Handler)
    if MODE == "jwt":
        now = int(time.time())
        credential = jwt.encode({"sub": "123", "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256")
    else:
        credential = secrets.token_urlsafe(32)
        record = json.dumps({"userId": 1})
        if REDIS is not None:
            REDIS.set("session:" + credential, record, ex=3600)
        else:
            SESSIONS[credential] = (record, time.time() + 3600)
    with open(sys.argv[2], "w") as f:
        f.write(f"{server.server_address[1]} {credential}\n")
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
