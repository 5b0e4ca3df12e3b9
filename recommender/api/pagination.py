"""Cursor pagination over the internal primary key: stable under inserts, O(page) per request."""

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from recsys_platform.errors import ApplicationError


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any] | None:
        raw_limit = request.query_params.get(self.page_size_query_param)
        if raw_limit is not None and (
            not raw_limit.isdigit() or not 1 <= int(raw_limit) <= self.max_page_size
        ):
            raise ApplicationError(
                "validation_error",
                f"'limit' must be an integer from 1 to {self.max_page_size}.",
                details=[{"field": "limit", "message": "out of range"}],
            )
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise ApplicationError(
                "validation_error",
                "Invalid 'cursor': pass back the 'next' or 'previous' link unchanged.",
                details=[{"field": "cursor", "message": "invalid"}],
            ) from None
