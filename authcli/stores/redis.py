"""Redis session store: `session:<id>` keys, JSON values, expiry by Redis itself (SET ... EX).

Also finds a Redis to use: the URL given, else a throwaway `redis-server` started on a free
loopback port, without persistence, stopped on exit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any

from authcli.errors import StoreConfigError, StoreMissing, StoreUnavailable
from authcli import clock
from authcli.stores.base import StoreFacts, StoreRow, StoreSnapshot, count_phrase

PREFIX = "session:"
# A sorted set beside the session keys: each session's ID, scored by its deadline, so the number
# of live sessions is one ZCOUNT (no key shape of a session: SCAN and snapshots skip it).
INDEX = "index"
DEFAULT_URL = "redis://127.0.0.1:6379/0"
# A session ID (or the attack lab's counter IDs), or a record the refresh demo files under a
# namespace (refresh:<sha256>, family:<id>, deny:<jti>); anything else is not ours to show.
ID_IN_KEY = re.compile(r"(?:[A-Za-z0-9_-]{43}|[0-9]{1,20}|(?:refresh|family|deny):[A-Za-z0-9_-]{12,64})")
# A dead Redis must turn into a quick 503, never a hung request.
TIMEOUT = 1.0
# After Redis failed to answer, fail fast this long before trying again: a hung Redis must not
# make every request wait TIMEOUT on the server's event loop.
RETRY_AFTER = 1.0

FACTS = StoreFacts(
    name="redis",
    label="Redis",
    survives_restart=True,
    expires_by_itself=True,
    expiry="Redis deletes the key by itself when its TTL runs out.",
    gone="the key is gone from Redis",
    takes_url=True,
)


class CommandNotation:
    """What Redis holds, as redis-cli would show the commands that read it back."""

    def title(self, rows: list[StoreRow]) -> str:
        return f"Redis, read back with SCAN, GET and PTTL: {count_phrase(len(rows), 'session key')}"

    def label(self, row: StoreRow) -> str:
        return row.key

    def transcript(self, rows: list[StoreRow]) -> list[str] | None:
        if not rows:
            return None
        lines = []
        for row in rows:
            pttl = -1 if row.ttl is None else round(row.ttl * 1000)
            lines += [f"> GET {row.key}", f"'{json.dumps(row.value)}'", f"> PTTL {row.key}", f"(integer) {pttl}"]
        return lines


def _redis_module():
    try:
        import redis
    except ImportError:
        raise StoreMissing("the Redis store needs redis-py: pip install 'authcli[redis]', or "
                           "pip install '.[redis]' in a clone of authcli") from None
    return redis


def client(url: str, timeout: float, **options: Any):
    """A redis-py client for `url`; a URL it cannot use is one clear error, not a ValueError."""
    redis = _redis_module()
    try:
        return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, **options)
    except (ValueError, TypeError) as err:
        raise StoreConfigError(f"unusable Redis URL {url!r}: {err}") from None


class RedisStore:
    """Shared by every server that points at the same Redis, and it outlives them."""

    facts = FACTS
    notation = CommandNotation()

    def __init__(self, url: str, namespace: str = ""):
        redis = _redis_module()
        self.url = url
        # The attack lab's weak servers file under "weak:session:", so nothing they write (a
        # ten-year record) is ever read by a hardened server sharing this Redis.
        self.prefix = namespace + PREFIX
        self.index = self.prefix + INDEX
        self._down_until = 0.0
        self._errors = (redis.ConnectionError, redis.TimeoutError)
        # redis-py turns a reply of the wrong shape into whatever its parser or response
        # callback trips on (TypeError, IndexError...): at this boundary, every one of them
        # means the store did not answer as Redis does.
        self._refused = (Exception,)
        # Bytes, decoded here: a value or key that is not UTF-8 is then one foreign record,
        # not a decode error that fails a whole SCAN or pipeline.
        self._redis = client(url, TIMEOUT, health_check_interval=0)

    def _call(self, fn, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._down_until:
            raise StoreUnavailable(f"Redis at {self.url} is not answering (next try within {RETRY_AFTER:g} s)")
        try:
            return fn(*args, **kwargs)
        except self._errors as err:
            self._down_until = time.monotonic() + RETRY_AFTER
            raise StoreUnavailable(f"Redis at {self.url} is not answering ({type(err).__name__})") from None
        except self._refused as err:
            # A read-only replica, a server answering -ERR or garbage, a value that is not UTF-8:
            # any answer authcli did not expect is the store failing, never a traceback.
            raise StoreUnavailable(f"Redis at {self.url} answered with an error: {_said(err)}") from None

    def where(self) -> str:
        return (f"a Redis session store at {self.url}: each session is a key session:<id> "
                "holding JSON, with a time to live that Redis itself enforces")

    def ping(self) -> None:
        self._call(self._redis.ping)

    def key(self, session_id: str) -> str:
        return self.prefix + session_id

    def create(self, session_id: str, record: dict[str, Any], ttl: int) -> None:
        # NX: never overwrite a live session, however unlikely a collision of 256-bit IDs is.
        # The index gets the ID in the same round trip: what size() counts (see INDEX).
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(self.key(session_id), json.dumps(record), ex=ttl, nx=True)
        pipe.zadd(self.index, {session_id: clock.now() + ttl})
        if not self._call(pipe.execute)[0]:
            raise KeyError("session ID already exists")

    def get(self, session_id: str) -> dict[str, Any] | None:
        text = self._call(self._redis.get, self.key(session_id))
        if text is None:
            return None
        try:
            value = json.loads(text.decode("utf-8")) if isinstance(text, bytes) else None  # a list: not ours
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            value = None
        if not isinstance(value, dict):
            raise StoreUnavailable(f"Redis holds a value at {self.key(session_id)[:80]} that authcli did not "
                                   "write (not a JSON object)")
        return value

    def delete(self, session_id: str) -> bool:
        pipe = self._redis.pipeline(transaction=False)
        pipe.delete(self.key(session_id))
        pipe.zrem(self.index, session_id)
        return bool(self._call(pipe.execute)[0])

    def snapshot(self) -> StoreSnapshot:
        """Read back from Redis itself: SCAN for session keys, then GET and PTTL each."""
        keys = sorted(k for k in map(_text, self._call(lambda: list(self._redis.scan_iter(match=self.prefix + "*",
                                                                                            count=1000))))
                      if self._ours(k))
        if not keys:
            return StoreSnapshot(self.facts, self.notation)
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
            pipe.pttl(key)
        replies = self._call(pipe.execute)
        if not isinstance(replies, list) or len(replies) != 2 * len(keys):
            raise StoreUnavailable(f"Redis at {self.url} answered GET and PTTL with something else")
        rows = []
        for key, text, pttl in zip(keys, replies[::2], replies[1::2]):
            if text is None:  # expired between SCAN and GET
                continue
            try:
                value = json.loads(text.decode("utf-8")) if isinstance(text, bytes) else None
            except (ValueError, RecursionError):
                continue
            if not isinstance(value, dict) or not isinstance(pttl, int):  # not written by authcli
                continue
            rows.append(StoreRow(key, key[len(self.prefix):], value, pttl / 1000 if pttl >= 0 else None))
        return StoreSnapshot(self.facts, self.notation, rows)

    def describe(self, op: str, session_id: str, result: Any = None, ttl: int | None = None) -> str:
        """The Redis command the store ran, in redis-cli notation."""
        key = self.key(session_id)
        if op == "write":
            return f"SET {key} '{json.dumps(result)}' EX {ttl} NX -> OK"
        if op == "read":
            return f"GET {key} -> " + (f"'{json.dumps(result)}'" if result is not None else "(nil)")
        return f"DEL {key} -> (integer) {1 if result else 0}"

    def count(self) -> int:
        """Session keys, counted with SCAN: not O(1), so callers on a hot path cache it."""
        return self._call(lambda: sum(1 for k in self._redis.scan_iter(match=self.prefix + "*", count=1000)
                                      if self._ours(_text(k))))

    def size(self) -> int:
        """ZCOUNT on the index from now on: O(log n), and right for every server sharing this
        Redis, where counting keys with SCAN read every key twice a second (a server holding
        100,000 sessions answered half as many requests with its log on)."""
        return int(self._call(self._redis.zcount, self.index, f"({clock.now()}", "+inf"))

    def _ours(self, key: object) -> bool:
        return isinstance(key, str) and key.startswith(self.prefix) and bool(ID_IN_KEY.fullmatch(key[len(self.prefix):]))

    def purge(self) -> None:
        """Redis expires the session keys by itself (SET ... EX); the index drops what expired."""
        self._call(self._redis.zremrangebyscore, self.index, "-inf", clock.now())

    def close(self) -> None:
        self._redis.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayRedis:
    """A `redis-server` of our own on a free loopback port: no disk, gone when stopped."""

    def __init__(self, binary: str, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="authcli-redis-")
        self._proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self._dir, "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = (self._proc.stderr.read() or b"").decode(errors="replace").strip().splitlines()
                raise StoreMissing(f"redis-server exited at start: {err[-1] if err else 'no message'}")
            if _answers(self.url):
                return
            time.sleep(0.02)
        self.stop()
        raise StoreMissing("redis-server did not answer within 5 s")

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stderr:
            self._proc.stderr.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def _text(raw: object) -> str | None:
    """A key as text; None when it is not UTF-8 (so not one authcli wrote)."""
    try:
        return raw.decode("utf-8") if isinstance(raw, bytes) else None
    except UnicodeDecodeError:
        return None


def _said(err: BaseException) -> str:
    return f"{type(err).__name__}: {str(err)[:200]}" if str(err) else type(err).__name__


def _answers(url: str) -> bool:
    """True when a Redis answers PING at `url`, False when nothing listens there; a server that
    answers something else (-ERR, NOAUTH, not Redis at all) is a StoreUnavailable saying what."""
    redis = _redis_module()
    probe = client(url, 0.5)
    try:
        return bool(probe.ping())
    except (redis.ConnectionError, redis.TimeoutError):
        return False
    except UnicodeError:  # the IDNA codec: a host label longer than 63 characters
        raise StoreConfigError(f"unusable Redis URL {url[:200]!r}: its host name cannot be looked up") from None
    except Exception as err:  # redis-py trips on answers of the wrong shape in its own ways
        raise StoreUnavailable(f"something answers at {url[:200]} but not as a usable Redis ({_said(err)})") from None
    finally:
        probe.close()


class RedisConnection:
    """Where Redis stores come from: a Redis URL that answers (else a throwaway redis-server),
    and a note saying which. Each `make()` is a new connection to the same Redis."""

    facts = FACTS

    def __init__(self, url: str | None = None):
        self.requested = url or os.environ.get("REDIS_URL") or DEFAULT_URL
        self.url = self.requested
        self.note = ""
        self._throwaway: ThrowawayRedis | None = None

    def __enter__(self) -> RedisConnection:
        if _answers(self.requested):
            self.note = f"Using Redis at {self.requested}."
            return self
        binary = shutil.which("redis-server")
        if binary is None:
            raise StoreMissing(f"no Redis answers at {self.requested} and no redis-server is installed: "
                               "install it (apt-get install redis-server) or pass --redis-url")
        self._throwaway = ThrowawayRedis(binary)
        self.url = self._throwaway.url
        self.note = (f"No Redis answered at {self.requested}, so authcli started a throwaway "
                     f"redis-server on {self.url} (no persistence); it stops when authcli does.")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._throwaway is not None:
            self._throwaway.stop()

    def make(self, clock: Any = None, namespace: str = "") -> RedisStore:
        """A new connection; Redis keeps its own clock, so `clock` is not used. `namespace`
        prefixes every key (the attack lab's weak servers use "weak:")."""
        return RedisStore(self.url, namespace)


Source = RedisConnection
