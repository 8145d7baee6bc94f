"""Steps as one JSON document: {"walkthrough", "title", "steps": [...]}; and decode's answer."""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, Callable, TextIO

from authcli.render.base import Renderer

if TYPE_CHECKING:  # decode --json imports this module; it needs none of the walkthrough types
    from authcli.http import Exchange
    from authcli.stores.base import StoreSnapshot
    from authcli.tokens.report import Examination
    from authcli.walkthroughs.model import ServerView, Step, WalkthroughInfo

NO_STORE = {"backend": "none", "rows": []}


def _plain(value: Any) -> Any:
    """Dataclasses (and server events, which know their own plain form) as JSON values."""
    if hasattr(value, "as_data"):
        return _plain(value.as_data())
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _snapshot(snapshot: StoreSnapshot) -> dict[str, Any]:
    return {"backend": snapshot.facts.name, "rows": _plain(snapshot.rows)}


def _server_view(view: ServerView) -> dict[str, Any]:
    store = None if view.url is None else _snapshot(view.store) if view.store is not None else NO_STORE
    return {"name": view.name, "url": view.url, "store": store}


def _exchange(exchange: Exchange) -> dict[str, Any]:
    # Top-level request/response keep the JSON easy to query: .steps[].response.status
    return {"request": _plain(exchange.request), "response": _plain(exchange.response),
            "server": _plain(exchange.server), "served_by": exchange.response.header("X-Served-By")}


@functools.lru_cache(maxsize=None)
def _blocks() -> dict[type, Callable[[Any, dict[str, Any]], None]]:
    """One function per block kind, each filling its keys of the step's object."""
    from authcli.walkthroughs import model as m

    return {
        m.Narration: lambda b, d: d["text"].extend(b.paragraphs),
        m.Warnings: lambda b, d: d["warnings"].extend(b.items),
        m.ExchangeBlock: lambda b, d: d.update(_exchange(b.exchange)),
        m.TokenBlock: lambda b, d: d.update(token=_plain(b.view)),
        m.ChecksBlock: lambda b, d: d.update(checks=_plain(b.checks)),
        m.NotesBlock: lambda b, d: d["notes"].extend(_plain(b.notes)),
        m.StoreBlock: lambda b, d: d.update(store=_snapshot(b.snapshot), **({"store_when": b.when} if b.when else {})),
        m.NothingStored: lambda b, d: d.update(store=NO_STORE),
        m.ServersBlock: lambda b, d: d.update(servers=[_server_view(v) for v in b.views]),
        m.JarBlock: lambda b, d: d.update(cookie_jar=_plain(b.cookies), cookie_jar_holder=b.holder),
        m.Script: lambda b, d: d["scripts"].append({"where": b.where, "code": b.code, "result": b.result}),
        m.ConfigBlock: lambda b, d: d["configs"].append({"title": b.title, "lines": b.lines, "text": b.text}),
        m.ClientStorage: lambda b, d: d["tables"].append(
            {"title": b.title, "columns": ["key", "value"], "rows": [[k, v] for k, v in b.items.items()]}),
        m.TableBlock: lambda b, d: d["tables"].append(_plain(b.table)),
        m.Sequence: lambda b, d: d.update(diagram={"lanes": b.lanes, "messages": [
            {"from": src, "to": dst, "text": text, "reply": reply} for src, dst, text, reply in b.messages],
            "notes": [{"before": at, "text": text} for at, text in b.notes]}),
        m.Wait: lambda b, d: d.update(wait=b.seconds),
        m.Defences: lambda b, d: d["defences"].extend(_defence(k) for k in b.keys),
    }


def _defence(key: str) -> dict[str, Any]:
    from authcli.defences import DEFENCES

    d = DEFENCES[key]
    return {"name": d.name, "protects": d.protects, "does_not_protect": d.not_protects, "sources": list(d.sources)}


def sources_json(doc: Any) -> dict[str, Any]:
    """Every source the document cites (markers `[^KEY]` in its text), by key."""
    from authcli.sources import MARKER, SOURCES

    cited = dict.fromkeys(k for k in MARKER.findall(json.dumps(doc)) if k in SOURCES)
    for step in doc.get("steps", []) if isinstance(doc, dict) else []:
        cited.update(dict.fromkeys(k for d in step.get("defences", []) for k in d["sources"]))
    return {k: {"short": SOURCES[k].short, "title": SOURCES[k].title, "url": SOURCES[k].url} for k in cited}


def step_json(step: Step) -> dict[str, Any]:
    """One step as a JSON object; every step has every key, so queries never miss one."""
    blocks = _blocks()
    data: dict[str, Any] = {"number": step.number, "title": step.title, "text": [], "store": None,
                            "cookie_jar": None, "scripts": [], "configs": [], "notes": [], "tables": [], "token": None,
                            "checks": None, "warnings": [], "servers": None, "wait": None,
                            "defences": []}
    for block in step.blocks:
        blocks[type(block)](block, data)
    return data


class JsonRenderer(Renderer):
    """Collects the steps and writes one document at the end, so the output is always valid JSON."""

    def __init__(self, out: TextIO):
        self.out = out
        self.doc: dict[str, Any] = {}

    def start(self, info: WalkthroughInfo) -> None:
        self.doc = {"walkthrough": info.name, "title": info.title, "steps": []}

    def step(self, step: Step) -> None:
        self.doc["steps"].append(step_json(step))

    def end(self) -> None:
        from authcli.render.escape import json_text

        self.doc["sources"] = sources_json(self.doc)
        self.out.write(json_text(json.dumps(self.doc, indent=2)) + "\n")


def examination_json(exam: Examination) -> str:
    from authcli.render.escape import json_text

    view, verdict = exam.view, exam.verdict
    # JSON all the way: claim values as the token holds them, null where there is nothing.
    claims = [{"name": c.name, "value": view.payload[c.name], "readable": c.readable or None,
               "meaning": c.meaning} for c in view.claims]
    checks = [{"name": c.name, "status": c.status, "ok": c.ok, "detail": c.detail}
              for c in verdict.checks] if verdict else []
    doc = {
        "header": view.header,
        "payload": view.payload if view.content is None else None,
        "jwt": view.content is None,
        "content": view.content,
        "signature": view.signature_b64,
        "signature_bytes": view.signature_bytes,
        "claims": claims,
        "key": exam.key,
        "verified": exam.verified,
        "signature_valid": verdict.signature_ok if verdict else None,
        "claims_valid": verdict.claims_ok if verdict else None,
        "checked_at": exam.at,
        "checks": checks,
        "warnings": exam.warnings,
    }
    doc["sources"] = sources_json({"checks": checks, "warnings": exam.warnings})
    return json_text(json.dumps(doc, indent=2, ensure_ascii=False))
