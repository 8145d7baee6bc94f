"""A peer for serve_throughput.py: Starlette on uvicorn doing authcli's /login and /profile.

    python benchmarks/peers/starlette_app.py session|jwt PORT_FILE plain|extras

plain: uvicorn's pure-Python stack (asyncio's loop, h11); extras: what `uvicorn[standard]` adds
(uvloop and httptools). One process, one worker, access log off (its fastest setting).
The same work as authcli's routes, with the checks of bare_server.py (imported, not copied):
- POST /login: JSON {email, password}, the password checked against an Argon2id hash with
  OWASP's parameters (argon2-cffi, in Starlette's thread pool; a dummy hash for an unknown
  email), then a session (256-bit ID, JSON record with createdAt/expiresAt, cookie sessionId
  with Path=/; HttpOnly; SameSite=Lax) or an HS256 token (sub, userId, iat, exp, jti);
- GET /profile: bare_server's session_user or jwt_user, the same headers in the answer.
Needs: pip install starlette uvicorn argon2-cffi, and for extras uvloop httptools.
It writes "PORT" to PORT_FILE once listening; the harness logs in through /login.
"""

from __future__ import annotations

import json
import secrets
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.argv = [sys.argv[0], sys.argv[1], "/dev/null", *sys.argv[2:]]  # bare_server reads its mode from argv
import bare_server as bare  # noqa: E402  (the same checks: session_user, jwt_user, the key)

import uvicorn  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from argon2.exceptions import VerificationError  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, PlainTextResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

MODE, PORT_FILE, STACK = sys.argv[1], sys.argv[3], sys.argv[4]
TTL = 3600
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)  # OWASP's Argon2id
USERS = {"a@b.com": (1, HASHER.hash("123"))}
DUMMY = HASHER.hash(secrets.token_urlsafe(16))  # unknown emails cost a hash too
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _check(email: str, password: str) -> int | None:
    user_id, stored = USERS.get(email, (None, DUMMY))
    try:
        HASHER.verify(stored, password)
    except VerificationError:
        return None
    return user_id


async def login(request: Request):
    try:
        body = await request.json()
        email, password = body["email"], body["password"]
        assert isinstance(email, str) and isinstance(password, str)
    except (ValueError, KeyError, TypeError, AssertionError):
        return PlainTextResponse("Send JSON {email, password}\n", 400, headers=HEADERS)
    user_id = await run_in_threadpool(_check, email, password)
    if user_id is None:
        return PlainTextResponse("Wrong credentials\n", 401, headers=HEADERS)
    now = time.time()
    if MODE == "jwt":
        iat = int(now)
        claims = {"sub": str(user_id), "userId": user_id, "iat": iat, "exp": iat + TTL,
                  "jti": secrets.token_urlsafe(16)}
        return JSONResponse({"token": bare.jwt.encode(claims, bare.SECRET, algorithm="HS256")}, headers=HEADERS)
    session_id = secrets.token_urlsafe(32)
    record = {"userId": user_id, "createdAt": _iso(now), "expiresAt": _iso(now + TTL)}
    bare.SESSIONS[session_id] = (json.dumps(record), now + TTL)
    response = PlainTextResponse("Logged in\n", headers=HEADERS)
    response.set_cookie("sessionId", session_id, path="/", httponly=True, samesite="lax")
    return response


async def profile(request: Request):
    if MODE == "jwt":
        user = bare.jwt_user(request.headers.get("authorization", ""))
    else:
        user = bare.session_user(request.headers.getlist("cookie"))
    if user is None:
        return PlainTextResponse("Not logged in\n", 401, headers=HEADERS)
    return PlainTextResponse(f"Welcome user {user}\n", headers=HEADERS)


app = Starlette(routes=[Route("/login", login, methods=["POST"]), Route("/profile", profile)])


def main() -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets (Linux)
    sock.listen(1024)  # listening before the port is told: the harness connects at once
    extras = STACK == "extras"
    config = uvicorn.Config(app, loop="uvloop" if extras else "asyncio", http="httptools" if extras else "h11",
                            access_log=False, log_level="warning", backlog=1024, lifespan="off")
    with open(PORT_FILE, "w") as f:
        f.write(f"{sock.getsockname()[1]}\n")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
