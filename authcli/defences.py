"""Every defence the narration names: what it protects against and what it does not, one line
each, with its sources. Teachers ask students exactly that; a `Defences` block shows it where
the defence changes what happens.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Defence:
    """`protects` and `not_protects` are one sentence each; `sources` are keys of authcli.sources."""

    key: str
    name: str
    protects: str
    not_protects: str
    sources: tuple[str, ...] = ()


_ENTRIES = [
    # --- cookies, sessions, browsers, HTTPS, CSP (helper A adds here) ----------------------
    Defence("httponly", "HttpOnly",
            "page script cannot read the cookie (document.cookie), so an injected script cannot copy it out",
            "an injected script can still send requests that carry the cookie; malware or a browser "
            "extension on the machine can read the cookie store",
            ("rfc6265-4.1.2.6",)),
    # --- JWT, refresh, passwords, lab (helper B adds here) ---------------------------------
]

DEFENCES: dict[str, Defence] = {d.key: d for d in _ENTRIES}
