"""Layering rules that a grep can check: the portal never imports from the API package."""
from __future__ import annotations

import ast
from pathlib import Path

import cowin_kit

PACKAGE = Path(cowin_kit.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module a file imports (``from x import y`` counts as x and x.y)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_the_portal_does_not_import_from_the_api():
    """Domain queries return plain values that the API and the portal shape each their own
    way; the portal reaching into cowin_kit.api would couple the pages to Co-WIN's shapes."""
    offenders = sorted(
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / "portal").rglob("*.py")
        for name in _imports(path)
        if name == "cowin_kit.api" or name.startswith("cowin_kit.api."))
    assert offenders == []
