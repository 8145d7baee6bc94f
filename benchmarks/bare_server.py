"""The baseline for serve_throughput.py: a stock ThreadingHTTPServer doing the same lookup.

HTTP/1.1 keep-alive with Nagle off, like authcli's server, and nothing else: no journal, no
events, no routing table. Usage: python bare_server.py session|redis|jwt PORT_FILE [REDIS_URL]
It writes "port session_id_or_token" to PORT_FILE once listening.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1]
SECRET = b"s" * 32
SESSIONS: dict[str, str] = {}
REDIS = None
if MODE == "redis":
    import redis

    REDIS = redis.Redis.from_url(sys.argv[3], decode_responses=True)
if MODE == "jwt":
    import jwt


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        user = None
        if MODE == "jwt":
            auth = self.headers.get("Authorization", "")
            try:
                user = jwt.decode(auth[7:], SECRET, algorithms=["HS256"])["sub"]
            except jwt.PyJWTError:
                pass
        else:
            cookie = self.headers.get("Cookie", "")
            sid = cookie.partition("sessionId=")[2].split(";")[0]
            record = REDIS.get("session:" + sid) if REDIS is not None else SESSIONS.get(sid)
            user = json.loads(record)["userId"] if record else None
        body = f"Welcome user {user}\n".encode() if user is not None else b"Not logged in\n"
        self.send_response(200 if user is not None else 401)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
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
            SESSIONS[credential] = record
    with open(sys.argv[2], "w") as f:
        f.write(f"{server.server_address[1]} {credential}\n")
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
