"""What a step shows by default: each credential whole once, where it is born, then shortened
the same way everywhere (wire, store, jar, tables); a store view lists only the records that
changed since it was last shown (none: it is left out; servers side by side say "unchanged");
an event that prints a record the store view prints anyway says `{...}`.
`--all-headers`/`--verbose` skip this; JSON never uses it."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from authcli.http import CookieView, Exchange
from authcli.render.escape import printable
from authcli.render.text import SAME_AS, UNCHANGED
from authcli.sources import MARKER
from authcli.stores.base import StoreSnapshot
from authcli.walkthroughs import model as m

# A session ID, refresh token, hash or JWT: a long run of base64url (a JWT's parts joined by
# dots, the last possibly empty). Not inside a longer run of base64 (+ /), so a PEM line or a
# scrypt hash is never cut in the middle of a word.
CREDENTIAL = re.compile(r"(?<![\w\-.+/$])[A-Za-z0-9_\-]{16,}(?:\.[A-Za-z0-9_\-]*){0,4}(?![\w\-+/=])")
DIGEST = re.compile(r"[0-9a-f]{40,}")  # a SHA-256 the server stores instead of a token
LONG = 40  # shorter values (a jti, a kid) read fine whole


def short(value: str) -> str:
    """The one short form of a long credential: `eyJhbGciOi...sQsk (203 chars)`."""
    value = printable(value)
    return value if len(value) < LONG else f"{value[:10]}...{value[-4:]} ({len(value)} chars)"


AS_BEFORE = "as before"
_CLOCK_AGE = re.compile(r"\b(ago|ahead)\b")
REASON = 24  # how much of a refusal's reason the wire lines keep when the checks say it all


def _wire_forms(detail: str) -> list[str]:
    """A check's reason as a server puts it on the wire: without source markers, and inside a
    WWW-Authenticate quoted-string (no `"` or `\\`)."""
    plain = re.sub(r" ?" + MARKER.pattern, "", detail)
    return list(dict.fromkeys([plain, re.sub(r'[^\x20-\x7e]|["\\]', "'", plain)[:200]]))


class Concise:
    """Remembers, over one run, which credentials were already shown whole and what each store
    last showed."""

    def __init__(self, *, traffic: bool = True) -> None:
        # traffic False: leave out the recap's list of every exchange (the steps showed each one;
        # a handout keeps it, drawn as a diagram).
        self.traffic = traffic
        self.seen: set[str] = set()
        self.whole: set[str] = set()  # credentials already shown whole somewhere
        self.born: set[str] = set()
        self.kinds: set[str] = set()  # "jwt", "opaque": the kinds of credential already shown whole  # tokens whose token view, in the step at hand, shows them whole
        self.stores: dict[object, list] = {}
        self.jars: dict[str, list] = {}
        self._reasons: list[str] = []
        self.said: set = set()  # event lines and checks already shown: the same again says nothing new
        self._last: tuple[m.Step, m.Step] | None = None

    def text(self, value: str, *, whole: bool = True) -> str:
        """`value` with every long credential shortened, except the first of its kind (a JWT, an
        opaque ID or refresh token) the first time it is shown: a second token in full teaches
        nothing the first did not. `whole` False: shortened even then, as in a request: what a
        client sends was born elsewhere (a response, a token view), except a JWT never seen
        before, which an attacker made for this request: the request is where it is born."""
        def one(match: re.Match[str]) -> str:
            found = match.group(0)
            if len(found) < LONG:
                return found
            if found not in self.seen and not DIGEST.fullmatch(found):  # a hash teaches nothing whole
                self.seen.add(found)
                kind = "jwt" if "." in found else "opaque"
                if whole and kind not in self.kinds:  # the first of its kind; later ones look alike
                    self.kinds.add(kind)
                    self.whole.add(found)
                    return found
                if not whole and kind == "jwt":  # a JWT first met in a request: forged there, born there
                    self.whole.add(found)
                    return found
            return short(found)
        return CREDENTIAL.sub(one, value)

    def step(self, step: m.Step) -> m.Step:
        """The step as shown by default (the same object back when asked twice: --step pages)."""
        if self._last is not None and self._last[0] is step:
            return self._last[1]
        shown = self._records(step)
        # A refusal's reason is said in full once, by the step's checks: the wire's copies of it
        # (error_description, body) are shortened, with their length.
        self._reasons = [r for b in step.all(m.ChecksBlock) for c in b.checks if c.ok is False
                         for r in _wire_forms(c.detail) if len(r) > REASON]
        # A token is born in its token view, coloured by part: whole there unless it was already
        # shown whole (an ID token first met shortened in a response, a forged token first met in
        # the request that carried it: the view is where a student copies it for authcli decode).
        for block in step.all(m.TokenBlock):
            if block.view.token not in self.whole:
                self.whole.add(block.view.token)
                self.seen.update((block.view.token, block.view.signature_b64))
                self.born.add(block.view.token)
                self.kinds.add("jwt")
            shown[id(block.view.payload)] = block.view.payload
        blocks = [self._block(b, shown) for b in step.blocks if self.traffic or not isinstance(b, m.Sequence)]
        blocks = [b for b in blocks if b is not None]
        out = replace(step, blocks=blocks)
        self._last = (step, out)
        return out

    def _records(self, step: m.Step) -> dict[object, object]:
        """Records this step's store views print whole, by their JSON: events need not print
        them too."""
        views = [(b.snapshot, self._where(b.snapshot)) for b in step.all(m.StoreBlock)]
        views += [(v.store, (v.name, v.url)) for b in step.all(m.ServersBlock) for v in b.views if v.store]
        return {json.dumps(row.value): row.value for snap, where in views
                for row in self._new_rows(snap, self.stores.get(where))}

    def _new_rows(self, snapshot: StoreSnapshot, before: list | None) -> list:
        """The rows not shown, as they are, the last time this store was shown."""
        old = set(before or [])
        return [row for row, sig in zip(snapshot.rows, self._signature(snapshot)) if sig not in old]

    @staticmethod
    def _where(snapshot: StoreSnapshot) -> object:
        # One server may keep several named stores (the OAuth demo's codes and refresh tokens).
        return snapshot.backend, getattr(snapshot.notation, "name", None)

    @staticmethod
    def _signature(snapshot: StoreSnapshot) -> list:
        return [(row.key, json.dumps(row.value, sort_keys=True)) for row in snapshot.rows]

    def _snapshot(self, snapshot: StoreSnapshot, where: object) -> tuple[StoreSnapshot, str]:
        """The snapshot with its keys shortened, listing only the records that are new or changed
        since this store was last shown; the summary counts the others."""
        signature, before = self._signature(snapshot), self.stores.get(where)
        fresh = self._new_rows(snapshot, before)
        self.stores[where] = signature
        kept = len(snapshot.rows) - len(fresh)
        if kept and not fresh:  # every row as last shown: the title (with its count) alone
            return snapshot, UNCHANGED
        rows = [replace(row, key=self.text(row.key)) for row in fresh]
        return replace(snapshot, rows=rows), f"plus {kept} unchanged" if kept else ""

    def _exchange(self, ex: Exchange, shown: dict[object, object], listed: bool = True) -> Exchange:
        """`listed` False: the step hides this exchange's events (its checks say them), so
        none of them counts as said."""
        if listed:  # the events below say why a check failed: the wire's copies of it are shortened
            reasons = [r for e in ex.server for c in getattr(e, "checks", None) or [] if c.ok is False
                       for r in _wire_forms(c.detail) if len(r) > REASON]
            self._reasons += [r for r in reasons if r not in self._reasons]
        request = replace(ex.request, headers=[(n, self.text(v, whole=False)) for n, v in ex.request.headers],
                          body=self.text(ex.request.body, whole=False))
        response = replace(ex.response, headers=[(n, self._reason(self.text(v))) for n, v in ex.response.headers],
                           body=self._reason(self.text(ex.response.body)))
        events = []
        body = ex.response.body.strip()
        for event in ex.server:
            if body and event.message.strip() == body:  # the refusal's reason is in the body: once
                continue
            if event.message in self.said:  # "password matches", said at the first login
                continue
            if listed:
                self.said.add(event.message)
            message = event.message
            for value in shown:  # a record the store view below prints whole, with its lifetime
                if isinstance(value, str) and len(value) > 12 and value in message:
                    message = re.sub(r"  \(expires in \d+ s\)", "", message.replace(value, "{...}"))
            claims = getattr(event, "claims", None)
            if claims and claims in shown.values():
                message = message.replace(json.dumps(claims), "{payload below}")
            events.append(replace(event, message=self.text(message)))
        return replace(ex, request=request, response=response, server=events)

    def _block(self, block: m.Block, shown: dict[object, object]) -> m.Block | None:
        if isinstance(block, m.Narration):
            return replace(block, paragraphs=[self.text(p) for p in block.paragraphs])
        if isinstance(block, m.ExchangeBlock):
            return replace(block, exchange=self._exchange(block.exchange, shown, block.events))
        if isinstance(block, m.StoreBlock):
            where = self._where(block.snapshot)
            if not block.snapshot.rows and self.stores.get(where) == []:
                return None  # empty, as it was when last shown: nothing to say (nor when unchanged)
            snapshot, summary = self._snapshot(block.snapshot, where)
            if summary == UNCHANGED:  # the events above say what was read; nothing new to list
                return None
            return replace(block, snapshot=snapshot, summary=summary)
        if isinstance(block, m.ServersBlock):
            views, listed = [], {}
            for view in block.views:
                if view.store is None:
                    views.append(view)
                    continue
                signature = self._signature(view.store)
                snapshot, summary = self._snapshot(view.store, (view.name, view.url))
                if not summary and signature and signature in listed.values():  # one shared store
                    snapshot = view.store
                    summary = SAME_AS + next(n for n, s in listed.items() if s == signature)
                listed[f"Server {view.name}"] = signature
                views.append(replace(view, store=snapshot, summary=summary))
            return replace(block, views=views)
        if isinstance(block, m.JarBlock):
            before, self.jars[block.holder] = self.jars.get(block.holder), block.cookies
            if before == block.cookies:  # the jar as last shown: the Cookie line says it was sent
                return None
            return replace(block, cookies=[self._cookie(c) for c in block.cookies])
        if isinstance(block, m.TokenBlock):
            if block.view.token in self.born:
                self.born.discard(block.view.token)
                return block
            brief = short(block.view.token)
            return replace(block, view=replace(block.view, token=brief, segments=[brief]))
        if isinstance(block, m.ChecksBlock):
            return replace(block, checks=self._checks(block.checks))
        if isinstance(block, m.ClientStorage):
            return replace(block, items={k: self.text(v) for k, v in block.items.items()})
        if isinstance(block, m.TableBlock):
            table = block.table
            return replace(block, table=replace(table, rows=[[self.text(c) for c in row] for row in table.rows]))
        if isinstance(block, m.Script) and isinstance(block.result, str):
            return replace(block, result=self.text(block.result))
        if isinstance(block, m.Sequence):
            return replace(block, messages=[(a, b, self.text(t), r) for a, b, t, r in block.messages])
        return block

    def _checks(self, checks: list) -> list:
        """Checks that passed exactly as they passed before share one line: `PASS algorithm,
        signature: as before`; what is new in this step (a FAIL, a SKIP, a time) stays whole."""
        out: list = []
        for check in checks:
            key = ("check", check.name, check.ok, check.detail)
            # An age read off the clock ("made under a second ago") is this request's own: equal
            # to the last one's only by the timing of the run, so never folded.
            if check.ok and key in self.said and not _CLOCK_AGE.search(check.detail or ""):
                if out and out[-1].detail == AS_BEFORE:
                    out[-1] = replace(out[-1], name=f"{out[-1].name}, {check.name}")
                else:
                    out.append(replace(check, detail=AS_BEFORE))
                continue
            self.said.add(key)
            out.append(check)
        return out

    def _reason(self, value: str) -> str:
        for reason in self._reasons:
            value = value.replace(reason, f"{reason[:REASON]}... ({len(reason)} chars)")
        return value

    def _cookie(self, cookie: CookieView) -> CookieView:
        return replace(cookie, value=self.text(cookie.value))
