"""Settings are declared once; docs/settings.md documents every one exactly as declared."""

from __future__ import annotations

import pytest

from searchapp import settings
from conftest import ROOT


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented_in_the_readme(setting):
    readme = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    row = (f"| `{setting.name}` | `SEARCHAPP_{setting.name.upper()}` | `{setting.default}` | "
           f"{setting.help} |")
    assert row in readme


def test_readme_documents_no_setting_that_does_not_exist():
    readme = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    documented = {line.split("`")[1] for line in readme.splitlines()
                  if line.startswith("| `") and "`SEARCHAPP_" in line}
    assert documented == {s.name for s in settings.SETTINGS}


def test_priority_is_defaults_then_file_then_environment_then_overrides(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("port: 6000\nper_page: 30\nfacet_size: 7\n", encoding="utf-8")
    values = settings.load({"per_page": 40}, config,
                           environ={"SEARCHAPP_FACET_SIZE": "9", "SEARCHAPP_PER_PAGE": "35"})
    assert (values.port, values.facet_size, values.per_page) == (6000, 9, 40)


def test_unknown_or_bad_settings_are_named(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("prot: 6000\n", encoding="utf-8")
    with pytest.raises(settings.SettingsError, match="unknown setting 'prot'"):
        settings.load(config_file=config, environ={})
    with pytest.raises(settings.SettingsError, match="setting 'debug'"):
        settings.load(environ={"SEARCHAPP_DEBUG": "maybe"})


# Numbers that happen to equal a setting's default but mean something else, each with what
# it is: a new one belongs here only if it is not the setting under another name.
SAME_NUMBER_OTHER_MEANING = {
    ("index/build.py", "PARALLEL_WRITE_FROM"): "records from which a full build writes shards "
                                               "in parallel, not YAML nodes",
    ("index/manifest.py", "CHUNK"): "rows written to the manifest per statement",
    # 0.5 is story_threshold's default since issue 30; these halves are no story rule.
    ("web/server_patches.py", "CHECK_S"): "seconds between a waiting writer's looks",
    ("search/timeline.py", "FOCUS_WIDTH"): "the share of the dates' whole span a focused timeline may take",
    ("search/similar.py", "COMMON"): "the share of records a word says nothing of past",
    ("search/suggest.py", "DOUBLE"): "what a doubled or undoubled letter costs a correction",
}


def _bound_literals(tree):
    """(line, name, value) of every literal bound to a name: keyword defaults, dataclass
    fields and class or module constants."""
    import ast
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            pos = a.posonlyargs + a.args
            pairs = list(zip(pos[len(pos) - len(a.defaults):], a.defaults))
            pairs += [(k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
            for arg, d in pairs:
                if isinstance(d, ast.Constant):
                    yield d.lineno, arg.arg, d.value
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    yield node.lineno, t.id, node.value.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.target, ast.Name):
            yield node.lineno, node.target.id, node.value.value


GENERIC = {"wait", "size", "page", "terms", "values"}  # words too common to tell a setting by


def _words(name: str) -> set[str]:
    return {w for w in name.lower().split("_") if len(w) > 3} - GENERIC


def test_no_component_retypes_a_settings_default():
    """A setting's default is written once, in settings.py: a component is handed the
    Settings (or a part of them) by whoever builds it. A keyword default, field or constant
    that repeats a default drifts from it the day the setting changes, and lets a caller
    forget the configured value (as /compare once did)."""
    import ast
    from conftest import ROOT
    defaults = {s.name: s.default for s in settings.SETTINGS}
    # A default that is no everyday number: seen anywhere, it is the setting re-typed.
    telling = {v: n for n, v in defaults.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)
               and (v != int(v) or v > 100) and v != 500}
    found = []
    package = ROOT / "searchapp"
    for path in sorted(package.rglob("*.py")):
        where = str(path.relative_to(package))
        if where == "settings.py":
            continue
        for line, name, value in _bound_literals(ast.parse(path.read_text(encoding="utf-8"))):
            if value is None or isinstance(value, bool) or (where, name) in SAME_NUMBER_OTHER_MEANING:
                continue
            if name in defaults:
                found.append(f"{where}:{line}: {name}={value!r} (a setting's name)")
                continue
            for setting, default in defaults.items():
                if value == default and type(value) is type(default) and (
                        _words(name) & _words(setting) or telling.get(value) == setting):
                    found.append(f"{where}:{line}: {name}={value!r} repeats {setting}'s default")
    assert found == []
