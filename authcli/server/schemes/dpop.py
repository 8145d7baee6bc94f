"""DPoP-bound JWTs (RFC 9449): /login binds the token to the client's key (cnf.jkt), /profile
wants `Authorization: DPoP <token>` and a fresh proof signed by that key on every request."""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from typing import Any, Callable

from authcli.errors import MalformedToken
from authcli.events import AuthorizationRefused, Event, ProofChecked
from authcli.server.journal import Request, Response
from authcli.server.policy import HARDENED_DPOP, DpopPolicy
from authcli.server.routes import NO_STORE, text
from authcli.server.schemes.jwt_auth import ONE_WORD, REALM, JwtAuth, _quoted, unmarked
from authcli.tokens.dpop import ProofVerdict, check_proof
from authcli.tokens.checks import Check
from authcli.tokens.parse import split


FULL = "the replay cache is full: try again shortly"


class ReplayCache:
    """The jti of every proof accepted while it could still pass the iat check: bounded in time
    (entries older than `window` go) and in size (full of live entries: `add` says so)."""

    def __init__(self, entries: int, window: float, clock: Callable[[], float]):
        self.entries, self.window, self.clock = entries, window, clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # key -> forget after; in time order
        self._lock = threading.Lock()  # /login runs on worker threads, /profile on the loop

    def add(self, key: str) -> str:
        """"new" (now remembered), "seen" (a replay) or "full" (cannot remember it: refuse)."""
        now = self.clock()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) <= now:
                self._seen.popitem(last=False)
            if key in self._seen:
                return "seen"
            if len(self._seen) >= self.entries:
                return "full"
            self._seen[key] = now + self.window
            return "new"

    def __len__(self) -> int:
        return len(self._seen)


class DpopJwtAuth(JwtAuth):
    """JwtAuth whose tokens only work with a proof from the key they were issued to."""

    token_type = "DPoP"

    def __init__(self, *args: Any, dpop: DpopPolicy = HARDENED_DPOP, https: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.dpop = dpop
        self.scheme = "https" if https else "http"
        self.seen = ReplayCache(dpop.replay_entries, dpop.max_age + dpop.max_ahead, self.clock)
        self.algs = f'algs="{" ".join(dpop.algorithms)}"'
        self.challenge = f"DPoP {self.algs}"

    def page_script(self) -> str:
        return "dpop"  # a non-extractable WebCrypto key signs a proof for each request

    def _proof(self, request: Request, token: str | None = None, bound: Any = None) -> ProofVerdict:
        """RFC 9449 4.3 on the request's one DPoP header, then its jti against the replay cache."""
        values = request.header_values("DPoP")
        if len(values) != 1:
            said = "none sent" if not values else f"{len(values)} sent"
            return ProofVerdict([Check("DPoP header", False, f"{said}; each request needs one "
                                       "[^rfc9449-4.3]")])
        host = (request.header_values("Host") or [""])[0]
        verdict = check_proof(values[0], method=request.method, url=f"{self.scheme}://{host}{request.path}",
                              now=self.clock(), algorithms=self.dpop.algorithms, max_age=self.dpop.max_age,
                              max_ahead=self.dpop.max_ahead, token=token, bound_jkt=bound)
        if not verdict.ok:  # a failed proof's jti is neither looked up nor remembered
            return ProofVerdict([Check("jti", None, "not looked up: the proof failed another check")
                                 if c.name == "jti" and c.ok else c for c in verdict.checks], verdict.jti, verdict.jkt)
        seen = self.seen.add(f"{verdict.jkt}:{verdict.jti}")
        replay = Check("jti", seen == "new", "not seen before: remembered while the proof is fresh"
                       if seen == "new" else "this proof was already used: a replay [^rfc9449-11.1]"
                       if seen == "seen" else FULL)
        checks = [replay if c.name == "jti" else c for c in verdict.checks]
        return ProofVerdict(checks, verdict.jti, verdict.jkt)

    def _refused(self, verdict: ProofVerdict, events: list[Event]) -> Response:
        """401 with RFC 9449 7.1's challenge: invalid_token for another key's proof (the words of
        its example), invalid_dpop_proof for any other failure; 503 when the jti cache is full."""
        failed = verdict.failed
        detail = unmarked(f"{failed.name}: {failed.detail}") if failed else "no proof"
        if failed is not None and failed.detail == FULL:
            return text(503, "Too many DPoP proofs to remember: try again shortly", events,
                        [("Retry-After", str(self.dpop.max_age)), NO_STORE])
        error, said = (("invalid_token", "Invalid DPoP key binding") if failed is not None and failed.name == "cnf.jkt"
                       else ("invalid_dpop_proof", detail))
        challenge = f'DPoP error="{error}", error_description="{_quoted(said)}", {self.algs}'
        body = f"{error}: {said}" + (f" ({detail})" if said != detail else "")
        return text(401, body, events, [("WWW-Authenticate", challenge), NO_STORE])

    def _event(self, verdict: ProofVerdict) -> ProofChecked:
        failed = verdict.failed
        said = (f"DPoP proof refused, {failed.name}: {unmarked(failed.detail)}" if failed else
                f"DPoP proof: {', '.join(c.name for c in verdict.checks)} all pass")
        return ProofChecked(said, checks=verdict.checks, jkt=verdict.jkt)

    def login(self, request: Request, extra: dict[str, Any] | None = None) -> Response:
        """The token request (RFC 9449 5): a good proof, then the token is bound to its key."""
        verdict = self._proof(request)
        event = self._event(verdict)
        if not verdict.ok:
            if verdict.failed is not None and verdict.failed.detail == FULL:
                return self._refused(verdict, [event])
            body = json.dumps({"error": "invalid_dpop_proof", "error_description": event.message})
            return Response(400, body + "\n", [("Content-Type", "application/json"), NO_STORE], [event])
        response = super().login(request, {**(extra or {}), "cnf": {"jkt": verdict.jkt}})
        response.events.insert(0, event)
        return response

    def _bearer(self, request: Request) -> tuple[str | None, Response | None, list[Event]]:
        """`Authorization: DPoP <token>` with its proof; a Bearer token is refused (RFC 9449 7.2)."""
        events: list[Event] = []
        values = request.header_values("Authorization")
        scheme, _, token = (values[0].strip().partition(" ") if len(values) == 1 else ("", "", ""))
        if scheme.lower() != "dpop" or not ONE_WORD.fullmatch(token.strip()):
            events.append(AuthorizationRefused("no 'Authorization: DPoP <token>': this server takes DPoP-bound "
                                               "tokens only -> 401"))
            return None, text(401, "Send Authorization: DPoP <token> and a DPoP proof header", events,
                              [("WWW-Authenticate", self.challenge), NO_STORE]), events
        token = token.strip()
        try:
            cnf = split(token).payload.get("cnf")
        except MalformedToken:
            return token, None, events  # the token check says what is wrong with it
        # Compared before the signature is checked, and never alone: the token check that
        # follows must pass too, so a forged cnf gets nowhere.
        verdict = self._proof(request, token, cnf.get("jkt") if isinstance(cnf, dict) else None)
        events.append(self._event(verdict))
        if not verdict.ok:
            return None, self._refused(verdict, events), events
        return token, None, events

    def profile(self, request: Request) -> Response:
        response = super().profile(request)
        # The token checks answer with a Bearer challenge; this server's scheme is DPoP (RFC 9449 7.1).
        response.headers = [(k, re.sub(r"^Bearer realm=\"authcli\"", f'DPoP realm="authcli", {self.algs}', v))
                            if k == "WWW-Authenticate" and v.startswith(REALM) else (k, v)
                            for k, v in response.headers]
        return response
