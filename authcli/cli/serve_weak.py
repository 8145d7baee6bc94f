"""`authcli serve --weak`: the attack lab's deliberately weak server, its checks first (loopback
only, plain HTTP, no option it would not honour), then run like any other."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Optional

from authcli.cli.common import open_store
from authcli.cli.serve_hints import verify_hints
from authcli.cli.serve_run import LOOPBACK, Mode, run
from authcli.errors import UsageError
from authcli.stores import DEFAULT

if TYPE_CHECKING:
    from authcli.stores.base import SessionStore


def weak_mode(names: str, mode: Mode | None, host: str, https: bool = False) -> Mode:
    """The mode the named weaknesses need; they never listen beyond loopback."""
    from authcli.server.lab.weaknesses import parse

    if https:
        raise UsageError("--weak servers speak plain HTTP on loopback: leave out --https")
    chosen = parse(names)
    if not chosen:
        raise UsageError("--weak needs at least one name: authcli lab --list")
    needed = Mode(chosen[0].mode)
    if mode is not None and mode is not needed:
        raise UsageError(f"--weak {names} is a {needed.value} weakness: leave out --mode {mode.value}")
    if host not in LOOPBACK:
        raise UsageError(f"a deliberately weak server listens on loopback only, never on {host}: "
                         "leave out --host")
    return needed


def refuse_ignored(mode: Mode, **given: object) -> None:
    """A weak server's key and policy are the lab's: options it would not honour are refused,
    never silently dropped."""
    unused = (("alg", "key", "idle", "open", "cookie") + (("secret",) if mode is not Mode.jwt else ())
              + (("store", "redis_url") if mode is not Mode.session else ()))
    ignored = ["--" + name.replace("_", "-") for name in unused if given[name] is not None]
    if ignored:
        raise UsageError(f"--weak servers take their algorithm, key and timeouts from the lab: leave out "
                         f"{', '.join(ignored)}")


def run_weak(stack: ExitStack, names: str, mode: Mode, host: str, port: int, ttl: int,
              store: Optional[str], redis_url: Optional[str], secret: Optional[str], quiet: bool) -> None:
    from authcli.passwords import lab_users
    from authcli.server.schemes.jwt_auth import JwtAuth
    from authcli.server.schemes.session_auth import SessionAuth
    from authcli.server.lab.weaknesses import jwt_policy, parse, session_policy
    from authcli.server.lab.jwt_weak import lab_key

    chosen = parse(names)
    tags = tuple(w.name for w in chosen)
    banner = (f"DELIBERATELY WEAK SERVER ({', '.join(tags)}): for the attack lab only. It answers on "
              "loopback only and marks every response X-Authcli-Weak.")
    if mode is Mode.session:
        # Its own namespace: a hardened server on the same store never reads what it wrote.
        sessions: SessionStore = open_store(stack, store or DEFAULT, redis_url).make(namespace="weak:")
        stack.callback(sessions.close)
        app = SessionAuth(sessions, ttl, policy=session_policy(chosen), users=lab_users(), weak=tags)
        run(app, sessions, mode, host, port, f"sessions live {ttl} s in {sessions.facts.name}", quiet,
             [], False, warning=banner)
        return
    if mode is Mode.oauth:
        from authcli.cli.serve_hints import oauth_hints
        from authcli.server.lab.weaknesses import oauth_policy
        from authcli.server.schemes.oauth import OAuthProvider

        client_side = [w.name for w in chosen if any(k.startswith("client.") for k in w.change)]
        if client_side:  # the client app's mistakes: this command serves the authorization server only
            raise UsageError(f"{', '.join(client_side)}: the client app's mistake, not the authorization server's; "
                             f"`authcli lab {client_side[0]}` runs it")
        app = OAuthProvider(policy=oauth_policy(chosen), users=lab_users(), weak=tags)
        run(app, None, mode, host, port, f"codes live {app.policy.code_ttl} s", quiet, oauth_hints(app.policy), False,
            warning=banner)
        return
    key = lab_key(chosen, secret.encode() if secret else None)
    policy = jwt_policy(chosen)
    if policy.key_source == "kid-sql":  # its keys in SQLite, found by kid
        from authcli.server.schemes.kid_table import KeyTableJwtAuth as JwtAuth  # noqa: N814
    app = JwtAuth(key, ttl, policy=policy, users=lab_users(), weak=tags)
    stack.callback(app.close)
    run(app, None, mode, host, port, f"{key.alg} tokens live {ttl} s", quiet,
         verify_hints(key, secret), False, warning=banner)
