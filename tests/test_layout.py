"""The package layout is the architecture: data flows one way, Flask stays in the web package,
Whoosh's private parts stay in the engine package, the servers' in web/server_patches.py. Read from the source, so a stray import
fails here, by name, before it drifts."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "searchapp"
# Each package may import from the packages before it, never after: seeds are read (ingest),
# Whoosh is driven (engine, which knows neither seeds nor our schema), the index is written
# (index), one generation of it is read (reader), searched (search) and served (web). The
# top-level cli.py, settings.py and __init__.py put them together.
# cluster/ implements the reader's Scorer on Ray; the search layer makes its pool lazily and
# hands it to the reader.
LAYERS = ("ingest", "engine", "index", "reader", "cluster", "workspace", "search", "web")
INDEPENDENT = {("engine", "ingest")}  # engine comes before index, but needs nothing of ingest
# Whoosh's internal modules: formats, matchers and files the engine alone may read.
STDLIB_UNDERSCORED = {"os._exit"}  # documented, public despite the underscore
WHOOSH_INTERNAL_MODULES = ("whoosh.codec", "whoosh.matching", "whoosh.filedb", "whoosh.util")


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "templates" not in p.parts)


def layer(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def imported(path: Path) -> list[str]:
    """Every module `path` imports, as absolute dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(("searchapp",) + path.relative_to(PACKAGE).parent.parts)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append(name)
            out.extend(f"{name}.{a.name}" for a in node.names)
    return out


def test_every_module_is_in_a_package_or_is_the_composition_root():
    loose = {p.name for p in modules() if layer(p) is None}
    assert loose == {"__init__.py", "__main__.py", "cli.py", "settings.py"}
    assert {layer(p) for p in modules()} - {None} == set(LAYERS)


@pytest.mark.parametrize("path", [p for p in modules() if layer(p)],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_flow_one_way(path):
    own = LAYERS.index(layer(path))
    for name in imported(path):
        parts = name.split(".")
        if parts[0] != "searchapp" or len(parts) < 2:
            continue
        target = parts[1]
        assert target != "cli", f"{path.name} imports {name}"
        # Settings are resolved by the command line and the app factory, and passed in: a
        # component may name the Settings it is handed, but not ingest, which settings.py
        # reads its YAML through.
        assert target != "settings" or layer(path) != "ingest", f"{path.name} imports {name}"
        if target in LAYERS:
            assert LAYERS.index(target) <= own, f"{layer(path)} must not import {name}"
            assert (layer(path), target) not in INDEPENDENT, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_web_package_imports_flask(path):
    if layer(path) == "web":
        return
    flask = [n for n in imported(path) if n.split(".")[0] in ("flask", "werkzeug", "jinja2")]
    # The composition root may make the app, but only by importing the web package lazily.
    assert flask == [], f"{path.name} imports {flask}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_cluster_package_imports_ray(path):
    """Ray is an optional extra: nothing else may need it to be installed."""
    if layer(path) == "cluster":
        return
    assert [n for n in imported(path) if n.split(".")[0] == "ray"] == [], path.name


@pytest.mark.parametrize("path", [p for p in modules() if layer(p) != "engine"],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_engine_touches_whooshs_private_parts(path):
    names = imported(path)
    internal = [n for n in names if n.startswith(WHOOSH_INTERNAL_MODULES)]
    private = [n for n in names if n.startswith("whoosh") and
               any(part.startswith("_") for part in n.split("."))]
    assert internal == [] and private == [], f"{path.name} imports {internal + private}"
    # Nor does it read a private attribute of any object but its own.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    reads = [f"{ast.unparse(node)} (line {node.lineno})" for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and node.attr.startswith("_")
             and not node.attr.startswith("__")
             and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
             and ast.unparse(node) not in STDLIB_UNDERSCORED]
    assert reads == [], f"{path.name} reads private attributes: {reads}"


# waitress's modules that hold nothing we may use: reaching into one is reaching into the
# server (gunicorn's, which served before, stay listed). waitress.server holds the public
# create_server; its private names are caught by name, from PRIVATE.
SERVER_INTERNAL_MODULES = ("gunicorn.util", "gunicorn.workers", "gunicorn.http",
                           "waitress.channel", "waitress.task", "waitress.wasyncore",
                           "waitress.utilities", "waitress.parser")
SERVER_FENCE = PACKAGE / "web" / "server_patches.py"


def server_private_names() -> tuple[set[str], set[str]]:
    """The dotted names no module may import: those in PRIVATE and the classes holding one
    (`waitress.server.BaseWSGIServer` of `...BaseWSGIServer.channel_class`); and the attribute
    names in PRIVATE that say what they are: `channel_class`, `error_task_class` (not
    `execute`, `received` nor `__init__`, which any object may have)."""
    from searchapp.web.server_patches import PRIVATE
    holders = {name.rpartition(".")[0] for name in PRIVATE if name.count(".") >= 3}
    attributes = {name.rpartition(".")[2] for name in PRIVATE}
    return set(PRIVATE) | holders, {a for a in attributes
                                    if "_" in a.strip("_") and not a.startswith("__")}


def server_reaches(source: str, package: str = "searchapp.web") -> list[str]:
    """Where `source` touches gunicorn's or waitress's private parts: imports of their internal
    modules or of a name in PRIVATE, and any attribute or string (getattr, hasattr) named as a
    private attribute in PRIVATE is (`util.write_error = ...`, `listener.channel_class`)."""
    names, attributes = server_private_names()
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        dotted: list[str] = []
        if isinstance(node, ast.Import):
            dotted = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            dotted = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        for name in dotted:
            if name.startswith(SERVER_INTERNAL_MODULES) or name in names:
                found.append(f"import {name} (line {node.lineno})")
        if isinstance(node, ast.Attribute) and node.attr in attributes:
            found.append(f"{ast.unparse(node)} (line {node.lineno})")
        if isinstance(node, ast.Constant) and node.value in attributes:
            found.append(f"{node.value!r} (line {node.lineno})")
    return found


@pytest.mark.parametrize("path", [p for p in modules() if p != SERVER_FENCE],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_server_patches_touch_the_servers_private_parts(path):
    assert server_reaches(path.read_text(encoding="utf-8")) == [], path.name


# What web/server.py did before the fence (commit cb07839^), cut down: the rule must see it.
OLD_SERVER = """
from gunicorn import util
from gunicorn.app.base import BaseApplication
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, create_server
from waitress.task import ErrorTask
util.write_error = _gunicorn_error
util.write_nonblock(sock, data)
for listener in listeners:
    if hasattr(listener, "channel_class"):
        listener.channel_class = Channel
"""


def test_the_server_fence_rule_sees_the_layout_before_the_fence():
    found = server_reaches(OLD_SERVER)
    assert [f.rpartition(" (")[0] for f in found] == [
        "import gunicorn.util", "import waitress.channel", "import waitress.channel.HTTPChannel",
        "import waitress.server.MultiSocketServer", "import waitress.task",
        "import waitress.task.ErrorTask", "'channel_class'", "listener.channel_class"], found
    # And what serving needs of waitress is public: create_server.
    assert server_reaches("from waitress.server import create_server\n"
                          "import waitress\nwaitress.serve(app)\n") == []


def module_name(path: Path) -> str:
    parts = ("searchapp",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of searchapp it imports, anywhere in it (inside functions and
    `if TYPE_CHECKING:` too). `from package import name` is an edge to the submodule when
    `name` is one, else to the package's __init__ (a package's __init__ importing its own
    submodules is how packages are made, not a circle)."""
    known = {module_name(p) for p in modules()}
    graph: dict[str, set[str]] = {}
    for path in modules():
        package = module_name(path) if path.name == "__init__.py" else \
            module_name(path).rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in known)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    if sub in known:
                        edges.add(sub)
                    elif source in known:
                        edges.add(source)
        graph[module_name(path)] = edges - {module_name(path)}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected part of `graph` with more than one node (Tarjan's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "searchapp"


def test_no_module_imports_itself_back_through_others():
    """No import circle between files, type-only imports included: a type two modules need
    lives below both."""
    assert circles(import_graph()) == []


def test_no_package_imports_itself_back_through_others():
    """No import circle between packages (nor between a package and settings.py or cli.py)."""
    graph: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        graph.setdefault(package_of(module), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(module))
    assert circles(graph) == []


# The write side, the watcher and the seed parser: none is needed to search or serve.
WRITE_SIDE = ("searchapp.index.indexer", "searchapp.index.writing", "searchapp.engine.bulk",
              "searchapp.cluster.build", "searchapp.index.watch", "searchapp.index.supervisor")


def loaded_by(module: str) -> set[str]:
    """The modules a fresh interpreter has loaded after importing `module`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", f"import sys, {module}; print(*sys.modules)"],
                         env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["searchapp.search", "searchapp.web"])
def test_the_read_side_loads_nothing_of_the_write_side(module):
    assert sorted(loaded_by(module) & set(WRITE_SIDE)) == []


@pytest.mark.parametrize("module", ["searchapp.search", "searchapp.web"])
def test_the_read_side_loads_no_seed_parser(module):
    assert "searchapp.ingest.seeds" not in loaded_by(module)
