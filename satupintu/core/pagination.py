from dataclasses import dataclass
from math import ceil
from typing import Any

from django.utils.translation import gettext as _

from .errors import InvalidInput, NotFound

MAX_PAGE_SIZE = 100
MAX_PAGE = 10_000  # deeper than anyone pages by hand; beyond it a number overflows the SQL OFFSET


@dataclass
class Page:
    items: list[Any]
    count: int
    page: int
    page_size: int
    capped: bool = False  # `count` is a lower bound: more items match than are listed

    @property
    def pages(self) -> int:
        return max(1, ceil(self.count / self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or self.capped

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def page_body(page: Page) -> dict:
    """A page as the API's `{count, page, page_size, pages, results}` schemas declare it."""
    return {"count": page.count, "page": page.page, "page_size": page.page_size, "pages": page.pages, "results": page.items}


def check_page(page: int, page_size: int) -> tuple[int, int]:
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput(_("Nomor halaman harus 1–%(n)d.") % {"n": MAX_PAGE}, code="invalid_page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(_("Ukuran halaman harus 1–%(n)d.") % {"n": MAX_PAGE_SIZE}, code="invalid_page_size")
    return page, page_size


def past_end(page: int, count: int, page_size: int) -> NotFound:
    return NotFound(
        _("Halaman %(p)d melewati halaman terakhir (%(last)d).") % {"p": page, "last": max(1, ceil(count / page_size))},
        code="page_out_of_range",
    )


def paginate(queryset, *, page: int = 1, page_size: int = 20, count_cap: int | None = None, load=None) -> Page:
    """One page of `queryset`. With `count_cap` the count stops there (`capped`), so a long
    backlog costs no more to count than `count_cap` rows — or, on a page beyond the cap, than
    the rows up to that page, which its OFFSET reads anyway: every page stays reachable.

    `load(page_pks)` gives the page's rows from a subquery of their primary keys (one query):
    the page is then cut on `queryset` alone and the joins `load` adds see only its rows. `load`
    must order them again (`pk__in` keeps no order). Use it when `queryset` reads an index in its
    order: joined before the LIMIT, a planner that misjudges how many rows match may join them
    all and sort them instead."""
    page, page_size = check_page(page, page_size)
    if count_cap is None:
        count, capped = queryset.count(), False
    else:
        limit = max(count_cap, page * page_size)
        count = queryset.order_by()[: limit + 1].count()  # any limit + 1 rows will do: no sort
        capped = count > limit
        count = min(count, limit)
    if page > 1 and (page - 1) * page_size >= count:
        raise past_end(page, count, page_size)
    offset = (page - 1) * page_size
    window = slice(offset, offset + page_size)
    rows = queryset[window] if load is None else load(queryset.values("pk")[window])
    return Page(list(rows), count, page, page_size, capped=capped)
