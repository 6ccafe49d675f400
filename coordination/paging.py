"""Paging for lists: one COUNT and one page of rows, whatever the size of the list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm.interfaces import ORMOption

from coordination.database import db

T = TypeVar("T")
PER_PAGE = 20


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int  # 1-based, clamped to 1..pages
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first item on this page (0 when there are none)."""
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)

    def url_for_page(self, number: int, parameter: str = "page") -> str:
        args: dict[str, Any] = {key: value for key, value in request.args.items() if key != parameter}
        args[parameter] = number
        assert request.endpoint is not None
        return url_for(request.endpoint, **(request.view_args or {}), **args)


def page_number(value: str | None = None) -> int:
    """``?page=`` (or the value given) as a positive number; anything else is the first page."""
    text = request.args.get("page", "1") if value is None else value
    return int(text) if text.isdecimal() and 0 < len(text) < 7 and int(text) > 0 else 1


def paginate(
    statement: Select[Any], number: int, options: Sequence[ORMOption] = (), per_page: int = PER_PAGE
) -> Page[Any]:
    """Two statements (plus the options' own loads): the count, and one page of rows. A page past the
    end shows the last page."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(1, number), pages)
    items: Sequence[Any] = []
    if total:
        page_rows = statement.options(*options).limit(per_page).offset((number - 1) * per_page)
        items = db.session.scalars(page_rows).unique().all()
    return Page(items=items, number=number, per_page=per_page, total=total)
