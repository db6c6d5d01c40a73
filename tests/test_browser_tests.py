"""The browser tests check what is on screen with Playwright's waiting assertions.

A CI run failed because a test asserted ``locator.is_visible()`` just after clicking
Search: ``is_visible`` answers at once, and on a loaded machine the results page had not
been drawn yet. ``expect(locator).to_be_visible()`` waits for it (up to its timeout).
"""
import ast
from pathlib import Path

BROWSER_TESTS = sorted(Path(__file__).parent.glob("test_*browser*.py"))
# Locator methods that answer at once, without waiting.
AT_ONCE = {"is_visible", "is_hidden", "is_checked", "is_enabled", "is_disabled", "is_editable"}


def _asserted_at_once(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.name}:{node.lineno}: {ast.unparse(node)}" for node in ast.walk(tree)
            if isinstance(node, ast.Assert) and any(
                isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr in AT_ONCE for call in ast.walk(node.test))]


def test_there_are_browser_tests_to_read():
    assert len(BROWSER_TESTS) >= 10


def test_no_browser_test_asserts_what_it_has_not_waited_for():
    found = [line for path in BROWSER_TESTS for line in _asserted_at_once(path)]
    assert not found, "use expect(locator).to_be_visible() (it waits):\n" + "\n".join(found)
