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
