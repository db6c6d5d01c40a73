"""Plugin discovery reads the entry points once per process (creating an app stays cheap), and
still sees a folder of plugins put on the import path, and which plugins each deployment
enables."""
import importlib.metadata

import pytest

from cowin_kit import plugins


@pytest.fixture
def reads(monkeypatch):
    """How many times the entry points of a plugin group were read."""
    count = {"n": 0}
    real = importlib.metadata.entry_points

    def counting(**kw):
        count["n"] += 1
        return real(**kw)

    monkeypatch.setattr(plugins, "entry_points", counting)
    plugins.forget_plugins()
    yield count
    plugins.forget_plugins()


def test_entry_points_are_read_once_per_process(reads):
    first = plugins.discover()
    after_first = reads["n"]
    assert after_first > 0
    again = plugins.discover({"cowin_kit.id_providers": ["pe.dni"]})
    assert reads["n"] == after_first
    assert set(again.group("cowin_kit.id_providers")) == {"pe.dni"}
    assert len(first.group("cowin_kit.id_providers")) > 1  # each registry its own choice


def test_a_folder_of_plugins_put_on_the_path_is_seen(reads, tmp_path, monkeypatch):
    plugins.discover()
    site = tmp_path / "site"
    info = site / "late_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: late-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[cowin_kit.sms_gateways]\nlate = json:JSONDecoder\n")
    monkeypatch.syspath_prepend(str(site))
    seen = plugins.discover().group("cowin_kit.sms_gateways", only_ok=False)
    assert "late" in seen and seen["late"].error
    monkeypatch.undo()
    assert "late" not in plugins.discover().group("cowin_kit.sms_gateways", only_ok=False)
