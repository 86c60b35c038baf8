"""The package layout is the architecture: data flows one way, Flask stays in the web package,
Whoosh's private parts stay in the engine package. Read from the source, so a stray import
fails here, by name, before it drifts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "searchapp"
# Each package may import from the packages before it, never after: seeds are read (ingest),
# Whoosh is driven (engine, which knows neither seeds nor our schema), the index is written
# (index), searched (search) and served (web). The top-level cli.py, settings.py and
# __init__.py put them together.
# cluster/ runs the index's shards on Ray for the search layer, which makes its pool lazily.
LAYERS = ("ingest", "engine", "index", "cluster", "search", "web")
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
        # Settings are resolved by the command line and the app factory, and passed in.
        assert target != "settings" or layer(path) == "web", f"{path.name} imports {name}"
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
