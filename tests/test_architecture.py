"""The layout keeps its promises: small modules and functions, one-way imports, one exception tree.

Read from the source itself (ast), so a change that breaks the design fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "authcli"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def name_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    """Modules `path` imports; top_level_only skips imports inside functions and TYPE_CHECKING."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
                if not top_level_only:
                    visit(node.body)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not top_level_only:
                    visit(node.body)
            elif isinstance(node, ast.ClassDef):
                visit(node.body)
            elif hasattr(node, "body") and isinstance(node.body, list):
                visit(node.body)
                visit(getattr(node, "orelse", []) or [])
                for handler in getattr(node, "handlers", []) or []:
                    visit(handler.body)
                visit(getattr(node, "finalbody", []) or [])

    visit(tree(path).body)
    return found


def area(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path):
    lines = path.read_text().count("\n")
    assert lines <= MAX_MODULE_LINES, f"{lines} lines: past {MAX_MODULE_LINES} a module does several jobs"
    for node in ast.walk(tree(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{node.name} is {length} lines"


@pytest.mark.parametrize("library, allowed", [("rich", {"render", "cli"}), ("typer", {"cli"})])
def test_only_the_outer_layers_import_rich_and_typer(library, allowed):
    offenders = [str(p.relative_to(PACKAGE)) for p in MODULES if area(p) not in allowed
                 and any(m == library or m.startswith(library + ".") for m in imports(p, top_level_only=False))]
    assert offenders == []


def test_nothing_below_the_cli_prints():
    offenders = [f"{p.relative_to(PACKAGE)}:{node.lineno}" for p in MODULES if area(p) not in {"render", "cli"}
                 for node in ast.walk(tree(p))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"]
    assert offenders == []


def test_no_import_cycles():
    known = {name_of(p): p for p in MODULES}
    graph = {name: {m for m in imports(path, top_level_only=True) if m in known and m != name}
             for name, path in known.items()}
    cycles = []

    def walk(node: str, stack: list[str], done: set[str]) -> None:
        for nxt in graph[node]:
            if nxt in stack:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in done:
                walk(nxt, stack + [nxt], done)
        done.add(node)

    done: set[str] = set()
    for name in graph:
        if name not in done:
            walk(name, [name], done)
    assert cycles == []


def test_every_exception_is_an_authcli_error_in_errors_py():
    defined = [(p, node) for p in MODULES for node in ast.walk(tree(p)) if isinstance(node, ast.ClassDef)
               and any(getattr(b, "id", "").endswith(("Error", "Exception")) for b in node.bases)]
    assert {p.name for p, _ in defined} == {"errors.py"}
    import authcli.errors as errors
    for _, node in defined:
        cls = getattr(errors, node.name)
        assert issubclass(cls, errors.AuthcliError) and cls.__doc__ and "\n" not in cls.__doc__.strip()


def test_only_stores_know_store_names():
    """What differs between stores is a fact on the store, never a comparison with its name."""
    offenders = []
    for path in MODULES:
        if area(path) == "stores":
            continue
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Compare):
                values = [c.value for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)]
                if any(v in ("memory", "redis") for v in values):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []


def test_walkthroughs_ask_for_events_by_type():
    """`exchange.server[-1]` attaches whatever came last; `exchange.event(Kind)` says what it needs."""
    offenders = [f"{p.relative_to(PACKAGE)}:{node.lineno}" for p in MODULES if area(p) == "walkthroughs"
                 for node in ast.walk(tree(p))
                 if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
                 and node.value.attr in ("server", "events")]
    assert offenders == []
