"""Every claim carries its source: markers point into the registry, every entry is used, and a
string that names a standard or a guide carries a marker (or, in a web page, a source link)."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from authcli.defences import DEFENCES
from authcli.render import cite
from authcli.sources import MARKER, SOURCES

PACKAGE = Path(__file__).resolve().parent.parent / "authcli"
# Names of standards and guides a sentence may lean on; each mention needs its source.
NAMES = re.compile(r"\bRFC ?\d{3,4}\b|\bOWASP\b|\bMDN\b|\bPortSwigger\b|\bNIST\b|draft-ietf-")
REGISTRIES = {PACKAGE / "sources.py", PACKAGE / "defences.py"}
# A command's --help names a standard as a pointer for the reader, and typer cannot show a
# footnote: the CLI's strings are exempt from the marker rule (not from the registry rule).
HELP_TEXTS = PACKAGE / "cli"
FIELD = "0000"  # what an f-string's field stands as (see strings())
SOURCE_LINK = re.compile(r'<a class="src" href="([^"]+)"[^>]*>(.*?)</a>', re.S)


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


@functools.lru_cache(maxsize=None)  # three tests read every module: parse each once
def strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module as the program sees them (implicit concatenation joined,
    an f-string's literal parts joined around its fields), docstrings left out."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _docstrings(tree)
    inner = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            # A field stands as digits: `f"RFC {n}"` names a standard as surely as "RFC 7519".
            out.append((node.lineno, "".join(v.value if isinstance(v, ast.Constant) else FIELD for v in node.values)))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
              and id(node) not in inner):
            out.append((node.lineno, node.value))
    return out


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def web_files() -> list[Path]:
    return sorted(p for p in (PACKAGE / "web").iterdir() if p.suffix in (".html", ".js"))


def markers(path: Path) -> list[tuple[int, str]]:
    """The literal markers of a module (`f"[^{key}]"` is a renderer making one, not a citation)."""
    return [(line, k) for line, s in strings(path) for k in MARKER.findall(s) if k != FIELD]


def used_keys() -> set[str]:
    keys = {k for path in python_files() if path not in REGISTRIES for _, k in markers(path)}
    keys |= {k for d in DEFENCES.values() for k in d.sources}
    from authcli.classroom.bank import ITEMS

    keys |= {item.source for item in ITEMS}  # the concept check's items name theirs as data
    urls = {s.url: s.key for s in SOURCES.values()}
    keys |= {urls[url] for path in web_files() for url, _ in SOURCE_LINK.findall(path.read_text()) if url in urls}
    return keys


def test_every_marker_names_a_registry_entry():
    unknown = [(path.name, line, key) for path in python_files() if path not in REGISTRIES
               for line, key in markers(path) if key not in SOURCES]
    unknown += [("defences.py", d.key, k) for d in DEFENCES.values() for k in d.sources if k not in SOURCES]
    assert not unknown


def test_every_registry_entry_is_used():
    assert not sorted(set(SOURCES) - used_keys())


def test_a_string_that_names_a_standard_carries_its_source():
    bare = [(path.relative_to(PACKAGE).as_posix(), line, s[:90]) for path in python_files()
            if path not in REGISTRIES and HELP_TEXTS not in path.parents
            for line, s in strings(path) if NAMES.search(s) and not cite.keys(s)]
    assert not bare, "add a [^KEY] marker from authcli/sources.py:\n" + "\n".join(map(str, bare))


def test_defences_cite_their_sources_and_say_both_sides():
    for d in DEFENCES.values():
        assert d.sources, d.key
        assert d.protects.strip() and d.not_protects.strip(), d.key
        assert not NAMES.search(d.protects + d.not_protects) or d.sources, d.key


def test_web_pages_link_their_sources():
    urls = {s.url for s in SOURCES.values()}
    for path in web_files():
        text = path.read_text()
        for url, _ in SOURCE_LINK.findall(text):
            assert url in urls, (path.name, url)
        # A name outside a source link: a claim without its source.
        outside = SOURCE_LINK.sub("", text)
        outside = re.sub(r"<!--.*?-->|/\*.*?\*/|//[^\n]*", "", outside, flags=re.S)  # comments are not shown
        assert not NAMES.search(outside), (path.name, NAMES.search(outside).group(0))


def test_registry_entries_are_well_formed():
    from authcli.sources import _ENTRIES

    keys = [s.key for s in _ENTRIES]  # a second entry under one key would silently replace the first
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    for key, s in SOURCES.items():
        assert MARKER.fullmatch(f"[^{key}]"), key
        assert s.short and s.title and s.url.startswith("https://"), key


def test_the_checker_sees_what_it_must():
    """The checks above fail on the evasions they exist for (a small fixture per rule)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fixture = Path(tmp) / "fixture.py"
        fixture.write_text('x = f"refused by RFC {7519}"\ny = ("expired, see " "RFC 7519")\n'
                           'def f():\n    """RFC 7519 in a docstring is not shown."""\n'
                           'z = "fine [^rfc7519-4.1.4]"\n')
        found = sorted(s for _, s in strings(fixture) if NAMES.search(s) and not cite.keys(s))
        assert found == ["expired, see RFC 7519", "refused by RFC 0000"]
