"""Steps as one JSON document: {"walkthrough", "title", "steps": [...]}."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # decode --json imports this module; it needs none of the walkthrough types
    from authcli.tokens import Examination
    from authcli.walkthroughs.model import Step, WalkthroughInfo


class JsonRenderer:
    """Collects the steps and writes one document at the end, so the output is always valid JSON."""

    def __init__(self, out: TextIO):
        self.out = out
        self.doc: dict[str, Any] = {}

    def start(self, info: WalkthroughInfo) -> None:
        self.doc = {"walkthrough": info.name, "title": info.title, "steps": []}

    def step(self, step: Step) -> None:
        self.doc["steps"].append(step.to_dict())

    def end(self) -> None:
        json.dump(self.doc, self.out, indent=2)
        self.out.write("\n")


def examination_json(exam: Examination) -> str:
    view = exam.view
    return json.dumps({
        "header": view.header,
        "payload": view.payload,
        "signature": view.signature_b64,
        "signature_bytes": view.signature_bytes,
        "claims": [asdict(c) for c in view.claims],
        "key": exam.key,
        "verified": exam.verified,
        "checks": [asdict(c) for c in exam.verdict.checks] if exam.verdict else [],
        "warnings": exam.warnings,
    }, indent=2, ensure_ascii=False)
