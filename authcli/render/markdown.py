"""Steps as a Markdown transcript a teacher can hand out."""

from __future__ import annotations

from typing import TextIO

from authcli.render import text as plain
from authcli.stores.base import StoreSnapshot
from authcli.tokens import TokenView
from authcli.walkthroughs.model import Step, WalkthroughInfo


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _table(title: str, columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = [f"**{title}**", ""]
    if not rows:
        return lines
    lines.append("| " + " | ".join(_cell(c) for c in columns) + " |")
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _fence(lines: list[str]) -> list[str]:
    return ["```http", *lines, "```", ""]


def _store(snapshot: StoreSnapshot) -> list[str]:
    if snapshot.backend == "redis" and snapshot.rows:
        return [f"**{plain.store_title(snapshot)}**", "", "```", *plain.redis_cli_lines(snapshot), "```", ""]
    return _table(plain.store_title(snapshot), plain.STORE_COLUMNS, plain.store_rows(snapshot))


def token_markdown(view: TokenView) -> list[str]:
    out = ["Token (header.payload.signature):", "", "```", view.token, "```", ""]
    out += ["Header:", "", "```json", plain.pretty_json(view.header), "```", ""]
    out += ["Payload (encoded, not encrypted):", "", "```json", plain.pretty_json(view.payload), "```", ""]
    if view.claims:
        out += _table("Registered claims", plain.CLAIM_COLUMNS, plain.claim_rows(view))
    return out + [f"Signature: `{plain.signature_line(view)}`", ""]


def step_markdown(step: Step) -> str:
    title = f"Step {step.number}. {step.title}" if step.number is not None else step.title
    out = [f"## {title}", ""]
    for para in step.text:
        out += [para, ""]
    if step.warnings:
        out += [f"> **Warning:** {w}" for w in step.warnings] + [""]
    if step.exchange is not None:
        ex = step.exchange
        out += ["Request, as the server received it:", ""] + _fence(plain.request_lines(ex.request))
        out += ["Response, as the client received it:", ""] + _fence(plain.response_lines(ex.response))
        if ex.server:
            out += ["What the server did:", ""] + [f"- `{e.message}`" for e in ex.server] + [""]
    if step.token is not None:
        out += token_markdown(step.token)
    if step.checks:
        out += ["The server's checks:", ""] + [f"- {plain.check_line(c)}" for c in step.checks] + [""]
    if step.notes:
        out += [f"- **{n.term}**: {n.text}" for n in step.notes] + [""]
    if step.store is not None:
        out += _store(step.store)
    for view in step.servers or []:
        out += [f"**Server {view.name}** ({view.url or 'stopped'})", ""]
        if view.store is not None:
            out += _store(view.store)
    if step.cookie_jar is not None:
        out += _table(plain.jar_title(step.cookie_jar), plain.JAR_COLUMNS, plain.jar_rows(step.cookie_jar))
    for table in step.tables:
        out += _table(table.title, table.columns, table.rows)
    return "\n".join(out)


class MarkdownRenderer:
    def __init__(self, out: TextIO):
        self.out = out

    def start(self, info: WalkthroughInfo) -> None:
        self.out.write(f"# authcli demo {info.name}: {info.title}\n\n")

    def step(self, step: Step) -> None:
        self.out.write(step_markdown(step) + "\n")
        self.out.flush()

    def end(self) -> None:
        pass
