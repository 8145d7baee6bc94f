"""The layout keeps its promises: small modules and functions, one-way imports, one exception tree.

Read from the source itself (ast), so a change that breaks the design fails here, not in review.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "authcli"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def name_of(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def tree(path: Path) -> ast.Module:
    return _parsed(str(path), path.read_text())


@functools.lru_cache(maxsize=None)
def _parsed(name: str, text: str) -> ast.Module:
    """Each module parsed once per worker (the checks only read the trees): keyed by its text, so a
    changed file or a test's own fixture file is parsed afresh."""
    return ast.parse(text, name)


def lazy_faces(known: dict[str, Path]) -> dict[str, dict[str, str]]:
    """Each package face's PEP 562 table: name -> the module `__getattr__` imports it from."""
    faces = {}
    for name, path in known.items():
        if path.name == "__init__.py":
            faces[name] = {k.value: v.value for node in ast.walk(tree(path)) if isinstance(node, ast.Dict)
                           for k, v in zip(node.keys, node.values)
                           if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and v.value in known}
    return faces


def imports(path: Path, known: dict[str, Path], root: Path = PACKAGE, *, typing: bool = True) -> set[str]:
    """Every module of the package `path` imports, wherever the import stands (inside a function,
    under TYPE_CHECKING unless `typing` is False), a name taken from a lazy package face counted
    as its real module, and every module named in a string (importlib.import_module, a face's
    table). A package is not counted as imported by the import of one of its submodules."""
    me = name_of(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    faces = lazy_faces(known)
    found: set[str] = set()
    module = tree(path)
    skip = set() if typing else {id(n) for block in ast.walk(module) if isinstance(block, ast.If)
                                 and "TYPE_CHECKING" in ast.dump(block.test)
                                 for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(module):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                real = faces.get(base, {}).get(alias.name, f"{base}.{alias.name}")
                found.add(real if real in known else base)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known:
            found.add(node.value)
    return {m for m in found if m in known and m != me}


def import_cycles(root: Path) -> list[list[str]]:
    """Cycles among the imports that run: an import only for type checking never executes."""
    known = {name_of(p, root): p for p in sorted(root.rglob("*.py"))}
    graph = {name: imports(path, known, root, typing=False) for name, path in known.items()}
    cycles = []

    def walk(node: str, stack: list[str], done: set[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in stack:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in done:
                walk(nxt, stack + [nxt], done)
        done.add(node)

    done: set[str] = set()
    for name in graph:
        if name not in done:
            walk(name, [name], done)
    return cycles


def area(path: Path, root: Path = PACKAGE) -> str:
    return path.relative_to(root).parts[0].removesuffix(".py")


def external_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


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
                 and any(m == library or m.startswith(library + ".") for m in external_imports(p))]
    assert offenders == []


def test_every_exception_is_an_authcli_error_in_errors_py():
    defined = [(p, node) for p in MODULES for node in ast.walk(tree(p)) if isinstance(node, ast.ClassDef)
               and any(getattr(b, "id", "").endswith(("Error", "Exception")) for b in node.bases)]
    assert {p.name for p, _ in defined} == {"errors.py"}
    import authcli.errors as errors
    for _, node in defined:
        cls = getattr(errors, node.name)
        assert issubclass(cls, errors.AuthcliError) and cls.__doc__ and "\n" not in cls.__doc__.strip()


# Each rule below is a checker over a package directory, run on a small fixture tree holding
# one evasion (the check must catch it), then on authcli itself (which must pass).

def fixture(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(text)
    return root


def printing(root: Path) -> list[str]:
    """Calls that write to the terminal below cli/ and render/: print, sys.stdout/stderr, x.print."""
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if area(path, root) in {"render", "cli"}:
            continue
        for node in ast.walk(tree(path)):
            std = (isinstance(node, ast.Attribute) and node.attr in {"stdout", "stderr", "__stdout__", "__stderr__"}
                   and getattr(node.value, "id", "") == "sys")
            call = isinstance(node, ast.Call) and (getattr(node.func, "id", "") in {"print", "pprint"}
                                                   or getattr(node.func, "attr", "") == "print")
            from_sys = isinstance(node, ast.ImportFrom) and node.module == "sys" and any(
                a.name in {"stdout", "stderr"} for a in node.names)
            if std or call or from_sys:
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    return offenders


def store_names(root: Path, names: set[str]) -> list[str]:
    """A store's name written anywhere outside stores/: in a comparison, a tuple, an argument."""
    return [f"{p.relative_to(root)}:{node.lineno}" for p in sorted(root.rglob("*.py")) if area(p, root) != "stores"
            for node in ast.walk(tree(p)) if isinstance(node, ast.Constant) and node.value in names]


def events_by_position(root: Path) -> list[str]:
    """A walkthrough indexing the server's events (`ex.server[-1]`, or `said[-1]` where `said`
    was made from `ex.server`) instead of asking for a type (`ex.event(Kind)`, `ex.events(Kind)`)."""
    offenders = []
    for path in sorted((root / "walkthroughs").rglob("*.py")):
        for func in ast.walk(tree(path)):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                continue
            typed = {id(n.func) for n in ast.walk(func) if isinstance(n, ast.Call) and n.args}

            def untyped(expr: ast.AST) -> bool:
                return any(isinstance(n, ast.Attribute) and n.attr in ("server", "events") and id(n) not in typed
                           for n in ast.walk(expr))

            tainted = {t.id for n in ast.walk(func) if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value
                       and untyped(n.value) for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                       if isinstance(t, ast.Name)}
            offenders += [f"{path.relative_to(root)}:{n.lineno}" for n in ast.walk(func)
                          if isinstance(n, ast.Subscript) and (untyped(n.value) or getattr(n.value, "id", "") in tainted)]
    return sorted(set(offenders))


# Modules at the bottom: data that the server, the client and the walkthroughs all use.
BELOW = {"http", "events", "errors", "clock", "encoding"}
ABOVE = {"server", "client", "walkthroughs", "render", "cli", "stores", "tokens", "browser"}


def layering(root: Path) -> list[str]:
    """A bottom module importing from a layer above it, even only for type checking."""
    known = {name_of(p, root): p for p in sorted(root.rglob("*.py"))}
    return [f"{name} imports {m}" for name, path in known.items() if area(path, root) in BELOW
            for m in sorted(imports(path, known, root)) if m.split(".")[1] in ABOVE]


CYCLE_IN_A_FUNCTION = {  # lab.py <-> lab_attacks.py, dodged by an import inside a function
    "lab.py": "def run():\n    from pkg.attacks import ATTACKS\n    return ATTACKS\n",
    "attacks.py": "from pkg.lab import run\nATTACKS = {}\n",
}
CYCLE_THROUGH_A_FACE = {  # user -> face.impl (named only in the face's lazy table) -> user
    "face/__init__.py": "import importlib\n_EXPORTS = {'thing': 'pkg.face.impl'}\n\n"
                        "def __getattr__(name):\n    return getattr(importlib.import_module(_EXPORTS[name]), name)\n",
    "face/impl.py": "from pkg.user import helper\nthing = 1\n",
    "user.py": "from pkg.face import thing\n\ndef helper():\n    return thing\n",
}


@pytest.mark.parametrize("files", [CYCLE_IN_A_FUNCTION, CYCLE_THROUGH_A_FACE], ids=["function-import", "lazy-face"])
def test_the_cycle_check_sees_every_import(tmp_path, files):
    assert import_cycles(fixture(tmp_path, files))


def test_no_import_cycles():
    assert import_cycles(PACKAGE) == []


@pytest.mark.parametrize("text", ["import sys\n\ndef f():\n    sys.stdout.write('x')\n",
                                  "def f(console):\n    console.print('x')\n",
                                  "from sys import stderr\n", "print('x')\n"],
                         ids=["sys.stdout.write", "console.print", "from-sys", "print"])
def test_the_print_check_catches(tmp_path, text):
    found = printing(fixture(tmp_path, {"server/transport/loop.py": text, "cli/app.py": "print('fine here')\n"}))
    assert found and all(o.startswith("server/transport/loop.py:") for o in found)


def test_nothing_below_the_cli_prints():
    assert printing(PACKAGE) == []


STORE_NAME_EVASIONS = {
    "comparison": "def f(backend):\n    return backend == 'redis'\n",
    "tuple": "STORES = ('memory', 'redis')\n",
    "argument": "def f(stack, try_store, url):\n    return try_store(stack, 'redis', url)\n",
}


@pytest.mark.parametrize("text", STORE_NAME_EVASIONS.values(), ids=STORE_NAME_EVASIONS.keys())
def test_the_store_name_check_catches(tmp_path, text):
    found = store_names(fixture(tmp_path, {"bench.py": text, "stores/memory.py": "NAME = 'memory'\n"}),
                        {"memory", "redis"})
    assert found and all(o.startswith("bench.py:") for o in found)


def test_only_stores_know_store_names():
    """What differs between stores is a fact on the store, never a comparison with its name."""
    from authcli.stores import SOURCES
    assert store_names(PACKAGE, set(SOURCES)) == []


EVENT_EVASIONS = {
    "direct": "def f(exchange):\n    return exchange.server[-1]\n",
    "through-a-name": "def f(exchange):\n    said = [e for e in exchange.server if e]\n    return said[-1].message\n",
    "events-attribute": "def f(x):\n    return x.events[0]\n",
}


@pytest.mark.parametrize("text", EVENT_EVASIONS.values(), ids=EVENT_EVASIONS.keys())
def test_the_event_position_check_catches(tmp_path, text):
    assert events_by_position(fixture(tmp_path, {"walkthroughs/predict.py": text}))


def test_the_event_position_check_allows_asking_by_type(tmp_path):
    text = "def f(exchange, Kind):\n    found = exchange.events(Kind)\n    return found[0], exchange.event(Kind)\n"
    assert events_by_position(fixture(tmp_path, {"walkthroughs/lab/runner.py": text})) == []


def test_walkthroughs_ask_for_events_by_type():
    """`exchange.server[-1]` attaches whatever came last; `exchange.event(Kind)` says what it needs."""
    assert events_by_position(PACKAGE) == []


def test_the_layering_check_catches_a_type_only_import(tmp_path):
    root = fixture(tmp_path, {"http.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                         "    from pkg.server.events import Event\n",
                              "server/events.py": "class Event: ...\n"})
    assert layering(root) == ["pkg.http imports pkg.server.events"]


def test_the_data_model_sits_below_the_server_and_the_client():
    assert layering(PACKAGE) == []


def format_choices(root: Path, names: set[str]) -> list[str]:
    """cli/ choosing an output format itself instead of asking the render registry: a format's
    name as a literal (`fmt == "markdown"`, `fmt.value in ("md", "html")`), a member of a format
    enum (`fmt is Format.rich`), or a renderer asked what it can do (`hasattr(renderer, ...)`)."""
    offenders = []
    for path in sorted((root / "cli").rglob("*.py")):
        for node in ast.walk(tree(path)):
            literal = isinstance(node, ast.Constant) and node.value in names
            member = (isinstance(node, ast.Attribute) and node.attr in names
                      and getattr(node.value, "id", "").endswith("Format"))
            probe = (isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"hasattr", "getattr"}
                     and node.args and "renderer" in ast.unparse(node.args[0]))
            if literal or member or probe:
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    return offenders


FORMAT_EVASIONS = {
    "enum-member": "def play(fmt, Format):\n    if fmt is Format.rich:\n        return 1\n",
    "literal": "def play(fmt):\n    return 2 if fmt == 'markdown' else 3\n",
    "tuple": "def play(fmt):\n    return fmt.value in ('md', 'html')\n",
    "match": "def play(fmt):\n    match fmt:\n        case 'json':\n            return 4\n",
    "hasattr": "def show(renderer):\n    if hasattr(renderer, 'new_screen'):\n        renderer.new_screen()\n",
}


@pytest.mark.parametrize("text", FORMAT_EVASIONS.values(), ids=FORMAT_EVASIONS.keys())
def test_the_format_check_catches(tmp_path, text):
    root = fixture(tmp_path, {"cli/common.py": text, "render/base.py": "FORMATS = {'rich': 1, 'markdown': 2}\n"})
    found = format_choices(root, {"rich", "markdown", "md", "html", "json"})
    assert found and all(o.startswith("cli/common.py:") for o in found)


def test_the_cli_asks_the_render_registry_for_formats():
    """A renderer is one interface: a new format is one module and one line in FORMATS."""
    from authcli.render.base import FORMATS
    assert format_choices(PACKAGE, set(FORMATS)) == []


def lazy_face_hooks(root: Path) -> list[str]:
    """A package face with a module-level `__getattr__` (PEP 562): its names would be imported
    by a string table that readers and tools cannot follow."""
    return [f"{p.relative_to(root)}:{node.lineno}" for p in sorted(root.rglob("__init__.py"))
            for node in tree(p).body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name in {"__getattr__", "__dir__"}]


def test_the_lazy_face_check_catches(tmp_path):
    root = fixture(tmp_path, CYCLE_THROUGH_A_FACE)
    assert lazy_face_hooks(root) == ["face/__init__.py:4"]


def test_package_faces_import_their_names_explicitly():
    """`from authcli.tokens.report import examine`, not a name a face's __getattr__ resolves."""
    assert lazy_face_hooks(PACKAGE) == []


def _string_predicates(path: Path) -> list[int]:
    """Lines where wait_for_function is given an expression that is not a function: Playwright
    re-evaluates such a string with eval() at each poll, which the pages' CSP (no 'unsafe-eval')
    refuses once the first check came out false; a function is evaluated once and then called."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "wait_for_function"
                and node.args):
            arg = node.args[0]
            text = (arg.value if isinstance(arg, ast.Constant) else
                    "".join(v.value for v in arg.values if isinstance(v, ast.Constant)) if isinstance(arg, ast.JoinedStr)
                    else "")
            if not text.lstrip().startswith(("() =>", "function", "async")):
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("text,found", [('t.wait_for_function("window.x === 1")', [1]),
                                        ("t.wait_for_function(f\"document.querySelector('#{a}')\")", [1]),
                                        ('t.wait_for_function("() => window.x === 1")', [])])
def test_the_predicate_check_catches(tmp_path, text, found):
    (tmp_path / "m.py").write_text(text)
    assert _string_predicates(tmp_path / "m.py") == found


def test_waits_in_chromium_pass_a_function_not_a_string():
    tests = Path(__file__).resolve().parent
    bad = [(p.name, n) for p in [*PACKAGE.rglob("*.py"), *tests.glob("*.py")] for n in _string_predicates(p)]
    assert not bad


def test_every_walkthrough_heading_names_its_command_once():
    """A walkthrough's heading is `authcli <command>: <title>`; a command written with its own
    `authcli` read "authcli authcli demo oauth --browser" at the top of the screen."""
    import importlib
    import pkgutil

    import authcli.walkthroughs as package
    from authcli.walkthroughs.model import WalkthroughInfo

    infos = [getattr(importlib.import_module(m.name), "INFO", None)
             for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    infos = [i for i in infos if isinstance(i, WalkthroughInfo)]
    assert len(infos) > 10
    assert not [i.heading for i in infos if i.heading.startswith("authcli authcli")]
