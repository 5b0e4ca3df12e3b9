"""Cursor pagination over the internal primary key: stable under inserts, O(page) per request."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from recsys_platform.errors import ApplicationError


class IdCursorPagination(CursorPagination):
    """Pages of `{"next", "previous", "results"}`; its OpenAPI parameters and page schema come
    from the same attributes that `paginate_queryset` enforces."""

    ordering: str | tuple[str, ...] = "id"
    page_size = 100
    page_size_query_param = "limit"
    min_page_size = 1
    max_page_size = 1000
    cursor_query_description = "Opaque: pass back a `next` or `previous` link unchanged."
    _position_field: "Field[Any, Any] | None" = None

    def decode_cursor(self, request: Request) -> Cursor | None:
        cursor = super().decode_cursor(request)
        # DRF trusts the cursor's position; a forged one ('p=abc' on an integer key) would reach
        # the query and fail there as a 500, so it is checked against the ordering field here.
        if cursor is not None and cursor.position is not None and self._position_field is not None:
            try:
                self._position_field.to_python(cursor.position)
            except DjangoValidationError:
                raise NotFound(self.invalid_cursor_message) from None
        return cursor

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any] | None:
        raw_limit = request.query_params.get(self.page_size_query_param)
        if raw_limit is not None and (
            not raw_limit.isdigit()
            or not self.min_page_size <= int(raw_limit) <= self.max_page_size
        ):
            raise ApplicationError(
                "validation_error",
                f"'limit' must be an integer from {self.min_page_size} to {self.max_page_size}.",
                details=[{"field": "limit", "message": "out of range"}],
            )
        first = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
        self._position_field = queryset.model._meta.get_field(first.lstrip("-"))
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise ApplicationError(
                "validation_error",
                "Invalid 'cursor': pass back the 'next' or 'previous' link unchanged.",
                details=[{"field": "cursor", "message": "invalid"}],
            ) from None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": self.min_page_size,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated: dict[str, Any] = super().get_paginated_response_schema(schema)
        # Both links are always there, null at either end of the list.
        return {**paginated, "required": ["next", "previous", "results"]}


class NewestFirstPagination(IdCursorPagination):
    """Newest rows first. The cursor's position is the creation time; rows created in the same
    microsecond keep one order by id, so a page boundary never skips or repeats one."""

    ordering = ("-created_at", "-id")
