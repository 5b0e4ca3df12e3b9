"""gunicorn's own error answers in the API's JSON envelope.

gunicorn refuses some requests before Django sees them (a request line past
`limit_request_line`, headers past their limits, a malformed request line) and writes an HTML
page for them. `install()` (called from gunicorn.conf.py in each worker) replaces that writer, so
those answers carry the same `{"error": {code, message, details}}` body as every other fault.
The limits stay gunicorn's: it still stops reading at them.
"""

import json
from typing import Any

from gunicorn import util

# Fixed messages: gunicorn's own text can quote the refused request line back.
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad request: the request line or a header is malformed."),
    403: ("forbidden", "Request forbidden."),
    414: ("uri_too_long", "The request line (method, path and query) is too long."),
    417: ("expectation_failed", "The Expect header cannot be met."),
    431: ("header_too_large", "A request header, or all of them, are too large."),
    501: ("not_implemented", "The request uses a transfer coding the server does not support."),
}
_SERVER_ERROR = ("server_error", "Internal server error.")


def error_response(status: int, reason: str) -> bytes:
    """The whole HTTP response gunicorn sends for `status` (it closes the connection after)."""
    code, message = _ERRORS.get(status, _SERVER_ERROR)
    body = json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for `gunicorn.util.write_error` (same arguments; `mesg` is not sent)."""
    util.write_nonblock(sock, error_response(status_int, reason))


def install() -> None:
    util.write_error = write_json_error
