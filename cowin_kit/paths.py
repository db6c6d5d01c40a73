"""Where the kit's shipped data lives, whatever way it was installed.

From a wheel, ``country_profiles/`` and ``locales/`` sit inside the package
(``cowin_kit/country_profiles``); from a source checkout or an editable install they
are the top-level folders beside the package. This is the one place that knows.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


class DataNotFound(RuntimeError):
    pass


def data_dir(name: str) -> Path:
    """Return the folder of shipped data called ``name`` ("country_profiles" or "locales")."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise DataNotFound(
        f"cowin-kit's {name}/ folder was not found beside {PACKAGE_DIR}; "
        "reinstall the package (pip install cowin-kit)."
    )


def profiles_dir() -> Path:
    return data_dir("country_profiles")


def locales_dir() -> Path:
    return data_dir("locales")
