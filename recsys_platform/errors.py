"""One error envelope for every API error: {"error": {"code", "message", "details"}}.

Services raise `ApplicationError` (or Django's ValidationError / Http404); this module is the one
place that turns any of them, and DRF's own exceptions, into a response.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response


class ApplicationError(Exception):
    """A client-facing failure raised by services: code, message, optional row-level details."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        http_status: int = status.HTTP_400_BAD_REQUEST,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []
        self.http_status = http_status


class NotFoundError(ApplicationError):
    """An id that does not exist for the caller's tenant (foreign ids look exactly the same)."""

    def __init__(self, message: str) -> None:
        super().__init__("not_found", message, http_status=status.HTTP_404_NOT_FOUND)


# Seconds a client should wait before retrying after a 503 (a restart of a database or broker).
RETRY_AFTER_S = 5


class ServiceUnavailableError(ApplicationError):
    """A service the request needs (the database, the task broker) is down: 503, retry later."""

    def __init__(self, message: str) -> None:
        super().__init__(
            "service_unavailable", message, http_status=status.HTTP_503_SERVICE_UNAVAILABLE
        )


def _unavailable(message: str) -> Response:
    response = Response(
        envelope("service_unavailable", message), status=status.HTTP_503_SERVICE_UNAVAILABLE
    )
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def envelope(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or []}}


_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "validation_error",
}


def _drf_details(detail: Any, path: str = "") -> list[dict[str, Any]]:
    if isinstance(detail, dict):
        out: list[dict[str, Any]] = []
        for key, value in detail.items():
            out.extend(_drf_details(value, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(v, (dict, list)) for v in detail):
            return [{"field": path or None, "message": str(v)} for v in detail]
        out = []
        for index, value in enumerate(detail):
            out.extend(_drf_details(value, f"{path}[{index}]"))
        return out
    return [{"field": path or None, "message": str(detail)}]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF EXCEPTION_HANDLER: render every known failure in the envelope."""
    # Imported here: rest_framework.views imports the authentication classes, which import us.
    from rest_framework.views import exception_handler

    if isinstance(exc, ServiceUnavailableError):
        return _unavailable(exc.message)
    if isinstance(exc, ApplicationError):
        return Response(envelope(exc.code, exc.message, exc.details), status=exc.http_status)
    if isinstance(exc, (DatabaseOperationalError, DatabaseInterfaceError)):
        # Connection refused or cut (a restart, a failover): nothing the client did; whatever
        # the request wrote was in one transaction, so a retry is safe (batches are idempotent).
        return _unavailable("The database is unavailable; retry shortly.")
    if isinstance(exc, RequestDataTooBig):
        return Response(
            envelope("request_too_large", "The request body is larger than the server accepts."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        messages = exc.messages
        return Response(
            envelope(
                "validation_error",
                messages[0] if messages else "invalid input",
                [{"message": m} for m in messages],
            ),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        details = _drf_details(exc.detail)
        message = "The request is invalid."
    else:
        details = []
        message = str(exc.detail)
    response.data = envelope(code, message, details)
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler404 for URLs outside any view: the same envelope, never an HTML page."""
    return JsonResponse(envelope("not_found", "No such resource."), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(envelope("server_error", "Internal server error."), status=500)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(
            envelope("request_too_large", "The request body is larger than the server accepts."),
            status=413,
        )
    return JsonResponse(envelope("bad_request", "Bad request."), status=400)
