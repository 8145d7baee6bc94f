"""A JWT on a terminal: coloured by part like jwt.io, decoded parts, claims, checks, warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

from authcli.render import tokentext as plain
from authcli.render.cite import terminal_text
from authcli.render.parts import hanging, table
from authcli.render.escape import printable

if TYPE_CHECKING:
    from authcli.tokens.checks import Check
    from authcli.tokens.claims import TokenView
    from authcli.tokens.report import Examination

PART_STYLES = ("bold red", "bold magenta", "bold cyan")  # header, payload, signature (jwt.io's)


def coloured_token(view: TokenView) -> Text:
    out = Text(overflow="fold")
    for i, (segment, style) in enumerate(zip(view.segments, PART_STYLES)):
        if i:
            out.append(".", style="dim")
        out.append(segment, style=style)
    return out


def token_renderable(view: TokenView, *, compact: bool = False) -> RenderableType:
    """`compact` (walkthroughs): header and payload as one JSON line each, and each registered
    claim on one line with its date and meaning (the payload line already shows its value)."""
    if compact and view.content is None:
        return Group(
            Text("Token (header.payload.signature):", style="bold"), coloured_token(view), "",
            hanging([(Text("Header", style="bold red"), Text(plain.one_line_json(view.header))),
                      (Text("Payload", style="bold magenta"), Text(plain.one_line_json(view.payload))),
                      *((Text(f"  {printable(c.name)}", style="bold"),
                         Text(", ".join(x for x in (printable(c.readable), c.meaning) if x)))
                        for c in view.claims),
                      (Text("Signature", style="bold cyan"), Text(plain.signature_line(view)))]), "")
    return Group(
        Text("Token (header.payload.signature):", style="bold"), coloured_token(view), "",
        Text("Header", style="bold red"), Text(plain.pretty_json(view.header)), "",
        *((Text("Payload", style="bold magenta"), Text(plain.pretty_json(view.payload)), "")
          if view.content is None else
          (Text("Payload (JWS content, not JWT claims)", style="bold magenta"),
           Text(printable(view.content, newlines=True)), "")),
        table("Registered claims", plain.CLAIM_COLUMNS, plain.claim_rows(view)) if view.claims else "",
        Text.assemble(("Signature ", "bold cyan"), plain.signature_line(view)), "",
    )


def checks_renderable(checks: list[Check], title: str) -> RenderableType:
    styles = {"PASS": "bold green", "FAIL": "bold red", "SKIP": "bold yellow"}
    rows = [(Text(f"  {status}", style=styles[status]),
             Text.assemble((printable(names), "bold"), ": ", terminal_text(detail)))
            for status, names, detail in plain.merged_checks(checks)]
    return Group(Text(title, style="bold"), hanging(rows), "")


def warnings_renderable(warnings: list[str]) -> RenderableType:
    return Group(hanging([(Text("  !", style="bold yellow"), terminal_text(w, style="yellow"))
                          for w in warnings]), "")


def examination_renderable(exam: Examination) -> RenderableType:
    """The token, the checks, the warnings, then the verdict: a weak key or a missing exp is read
    before the word VERIFIED, not after it."""
    parts: list[RenderableType] = [token_renderable(exam.view),
                                   Text("The header and payload are encoded, not encrypted: anyone "
                                        "holding the token can read them.", style="dim"), ""]
    verdict = exam.verdict
    if verdict is not None:
        parts.append(checks_renderable(verdict.checks, f"Verification with {exam.key}:"))
    if exam.warnings:
        parts += [Text("Warnings:", style="bold yellow"), warnings_renderable(exam.warnings)]
    if verdict is None:
        parts += [Text.assemble((" UNVERIFIED ", "bold black on yellow"),
                                " no key given, so nothing above is proven: anyone can write a token "
                                "like this. Pass --secret, --secret-file or --key to check it."), ""]
    else:
        signature = ("genuine" if verdict.signature_ok else
                     f"NOT proven ({verdict.failed.name} failed)" if verdict.failed and
                     verdict.failed.name in ("algorithm", "signature", "crit") else "NOT proven")
        failed_claims = [c.name for c in verdict.checks if c.ok is False and c.name not in ("algorithm", "signature", "crit")]
        claims = ("none to check (a JWS, not a JWT)" if exam.view.content is not None else
                  "not checked (the signature was not verified)" if verdict.claims_ok is None else
                  f"acceptable {exam.when}" if verdict.claims_ok else
                  f"NOT acceptable {exam.when} ({', '.join(failed_claims)} failed)")
        warned = " (see the warnings above)" if exam.warnings and verdict.ok else ""
        parts += [Text.assemble((" VERIFIED ", "bold black on green") if verdict.ok else
                                (" NOT VERIFIED ", "bold white on red"),
                                f" signature {signature}; claims {claims}{warned}"), ""]
    return Group(*parts)
