"""Paging for lists: one COUNT and one page of rows, whatever the size of the list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import request, url_for
from sqlalchemy import Select, func, select

from coordination.database import db

T = TypeVar("T")
PER_PAGE = 20


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
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

    def url_for_page(self, number: int) -> str:
        args: dict[str, Any] = {key: value for key, value in request.args.items() if key != "page"}
        args["page"] = number
        assert request.endpoint is not None
        return url_for(request.endpoint, **(request.view_args or {}), **args)


def page_number() -> int:
    text = request.args.get("page", "1")
    return int(text) if text.isdigit() and 0 < len(text) < 7 else 1


def paginate(statement: Select[Any], number: int, per_page: int = PER_PAGE) -> Page[Any]:
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(1, number), pages)
    items = list(db.session.scalars(statement.limit(per_page).offset((number - 1) * per_page)))
    return Page(items=items, number=number, per_page=per_page, total=total)
