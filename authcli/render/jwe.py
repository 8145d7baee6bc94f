"""A JWE on a terminal: its five parts, its protected header (escaped), what alg and enc mean."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

from authcli.render import tokentext as plain
from authcli.render.cite import terminal_text
from authcli.render.escape import printable
from authcli.render.parts import hanging

if TYPE_CHECKING:
    from authcli.tokens.jwe import JweParts

PART_STYLES = ("bold red", "bold yellow", "bold green", "bold magenta", "bold cyan")


def jwe_renderable(parts: JweParts, meanings: list[tuple[str, str]], opened: str | None) -> RenderableType:
    """`opened`: how it was decrypted, or None (no key: the payload stays unreadable)."""
    from authcli.tokens.jwe import PART_NAMES

    token = Text(overflow="fold")
    for i, (segment, style) in enumerate(zip(parts.segments, PART_STYLES)):
        if i:
            token.append(".", style="dim")
        token.append(segment, style=style)
    sizes = hanging([(Text(f"  {name}", style=style), Text(f"{size} bytes" if i else f"{size} bytes of JSON"))
                     for i, (name, style, size) in enumerate(zip(PART_NAMES, PART_STYLES, parts.sizes))])
    rows = [(Text(f"  {printable(name)}", style="bold"), Text(printable(text))) for name, text in meanings]
    said = ("This is a JWE [^rfc7516]: an ENCRYPTED token, not a signed-only JWT. Its payload is "
            "ciphertext: only the recipient's key (a private key, or a shared secret) opens it.")
    from authcli.tokens.jwe import key_type

    anyone = ("the recipient's public key" if key_type(parts.header["alg"]) != "oct" else "the shared secret")
    end = (Text.assemble((" DECRYPTED ", "bold black on green"), f" {opened}; the tag checked: the "
                         "ciphertext is unchanged since it was encrypted. Encryption alone does not say "
                         f"who made it: anyone holding {anyone} can encrypt.")
           if opened else
           Text.assemble((" ENCRYPTED ", "bold black on yellow"), " no key given: the payload cannot be "
                         "read. Pass --key (the recipient's private key, PEM or JWK) or --secret to decrypt."))
    return Group(Text("JWE (header.encrypted_key.iv.ciphertext.tag):", style="bold"), token, "",
                 terminal_text(said), "", Text("Protected header (readable by anyone)", style="bold red"),
                 Text(plain.pretty_json(parts.header)), "", hanging(rows), "", Text("Parts", style="bold"),
                 sizes, "", end, "")
