"""Pages of a long staff list: which page to show, and the links to the others, which keep
the list's search and filters (templates: staff/_pager.html)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask import request, url_for


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    total: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    def url(self, number: int) -> str:
        """This list's address at page ``number``, with the same filters."""
        args = {k: v for k, v in request.args.items() if k != "page" and v}
        return url_for(request.endpoint, **(request.view_args or {}), **args, page=number)


def page_of(total: int, per_page: int) -> Page:
    """The page the request asks for (?page=N), kept within the list."""
    pages = max(1, math.ceil(total / per_page))
    number = min(max(request.args.get("page", 1, type=int), 1), pages)
    return Page(number, pages, total, per_page)
