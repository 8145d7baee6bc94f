"""Steps as one JSON document: {"walkthrough", "title", "steps": [...]}."""

from __future__ import annotations

import json
from typing import Any, TextIO

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
