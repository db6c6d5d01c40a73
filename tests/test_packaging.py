"""The wheel holds the code, every profile and the compiled catalogues, and finds them."""
import configparser
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    found = set(find_packages(ROOT, include=["cowin_kit", "cowin_kit.*"]))
    assert found - listed == set(), "add these to [options] packages in setup.cfg"


# What the wheel is built from (setup.cfg's metadata, packages and package data).
SOURCES = ["setup.cfg", "pyproject.toml", "README.md", "cowin_kit", "country_profiles", "locales"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    # Built from a copy: pip builds in the source folder (build/, *.egg-info), and test
    # processes running in parallel (pytest-xdist) would build in the same one at once.
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(source)], check=True)
    return next(out.glob("cowin_kit-*.whl"))


def test_wheel_holds_profiles_catalogues_migrations_and_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for profile in (ROOT / "country_profiles").glob("*/profile.toml"):
        code = profile.parent.name
        assert f"cowin_kit/country_profiles/{code}/profile.toml" in names
        for csv in profile.parent.rglob("*.csv"):
            rel = csv.relative_to(ROOT / "country_profiles").as_posix()
            assert f"cowin_kit/country_profiles/{rel}" in names
    for po in (ROOT / "locales").glob("*/LC_MESSAGES/messages.po"):
        lang = po.parent.parent.name
        assert f"cowin_kit/locales/{lang}/LC_MESSAGES/messages.mo" in names
    assert any(n.startswith("cowin_kit/migrations/versions/0001") for n in names)
    # The EU DCC value sets issuing codes doses with.
    assert "cowin_kit/certificates/data/valuesets/vaccine-medicinal-product.json" in names
    # Every template and static file of every package (web, portal, staff, …).
    assets = [f for pattern in ("*.html", "*.css", "*.js", "*.svg")
              for f in (ROOT / "cowin_kit").rglob(pattern)]
    assert any(f.name == "home.html" for f in assets)
    for asset in assets:
        assert asset.relative_to(ROOT).as_posix() in names, asset
    assert not any(n.startswith(("tests/", "country_profiles/", "locales/")) for n in names)
    # The EU DCC schemas and value sets the verifier reads, with their licence.
    for data in (ROOT / "cowin_kit" / "certificates" / "data").rglob("*"):
        if data.is_file():
            assert data.relative_to(ROOT).as_posix() in names, data


def test_installed_wheel_finds_its_data(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True)
    code = (
        "import cowin_kit.paths as p, cowin_kit.profiles as pr;"
        "print(p.profiles_dir()); print(p.locales_dir());"
        "print(len([pr.load_profile(c) for c in pr.shipped_codes()]))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == str(target / "cowin_kit" / "country_profiles")
    assert out[1] == str(target / "cowin_kit" / "locales")
    assert int(out[2]) == len(list((ROOT / "country_profiles").glob("*/profile.toml")))


def test_compiled_catalogues_are_fresh():
    """The committed .mo files match their .po files (run `pybabel compile -d locales`)."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    for po_path in (ROOT / "locales").glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.exists(), f"{mo_path} is missing"
        with po_path.open("rb") as fh:
            po = read_po(fh)
        with mo_path.open("rb") as fh:
            mo = read_mo(fh)
        def key(value):
            return value if isinstance(value, str) else tuple(value)

        expected = {key(m.id): key(m.string) for m in po
                    if m.id and m.string and not m.fuzzy and any(key(m.string))}
        got = {key(m.id): key(m.string) for m in mo if m.id}
        assert got == expected, f"{mo_path} is stale"


def test_installed_wheel_renders_a_page_in_spanish_and_arabic(wheel, tmp_path):
    """From the wheel alone: provision PE and AE, and serve pages in their languages."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True)
    code = """
import sys
from pathlib import Path
import cowin_kit
assert cowin_kit.__file__.startswith(sys.argv[1]), cowin_kit.__file__
from cowin_kit.app import create_app
from cowin_kit.profiles import load_profile
from cowin_kit.provisioning import provision
for country, lang in (("PE", "es"), ("AE", "ar")):
    inst = Path(sys.argv[2]) / country
    provision(load_profile(country), inst, database_url=None, admin_email="a@b.org",
              admin_password=None, demo=False, update=False)
    app = create_app({"INSTANCE_PATH": inst})
    page = app.test_client().get("/", headers={"Accept-Language": lang}).get_data(as_text=True)
    print(page)
"""
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", code, str(target), str(tmp_path)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=True).stdout
    assert '<html lang="es" dir="ltr">' in out and "Vacunas disponibles" in out
    assert '<html lang="ar" dir="rtl">' in out and "اللقاحات المتاحة" in out
