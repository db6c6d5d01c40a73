"""Shared helpers. The fixtures themselves come from cowin_kit.testing (a pytest plugin)."""
from __future__ import annotations

import pytest


def assert_refused(result, *fragments: str) -> None:
    """A CLI refusal: exit status 2, no traceback, a message naming what is wrong."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


@pytest.fixture
def refused():
    return assert_refused
