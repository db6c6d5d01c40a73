"""Every example in the kit's docstrings runs (``>>>`` lines are documentation that must stay
true). Modules are found by their source, so a new example is picked up without listing it."""
import doctest
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

import pytest

import cowin_kit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PLUGIN = ROOT / "examples" / "registry-id-provider"


def _modules_with_examples() -> list[str]:
    found = []
    for info in pkgutil.walk_packages(cowin_kit.__path__, "cowin_kit."):
        # Alembic's env.py and revision scripts run on import; they hold no examples.
        if info.name.startswith("cowin_kit.migrations"):
            continue
        spec = importlib.util.find_spec(info.name)
        source = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
        if ">>> " in source:
            found.append(info.name)
    return sorted(found)


MODULES = _modules_with_examples()


def test_examples_are_found():
    assert "cowin_kit.accounts.otp" in MODULES and "cowin_kit.ratelimits" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} failing example(s) in {name}; see the output"


def test_the_example_plugins_docstring_examples(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN))
    for name in [m for m in sys.modules if m.startswith("example_registry")]:
        monkeypatch.delitem(sys.modules, name)
    module = importlib.import_module("example_registry.provider")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted and result.failed == 0
