"""gunicorn settings, read from the working directory (scripts/up.sh starts it from the root).

The request line may be as long as gunicorn allows (8190 bytes, default 4094): ids of up to
EXTERNAL_ID_MAX characters, percent-encoded, and filter query strings reach the API, which
answers any fault in its JSON envelope. gunicorn itself refuses a longer line (414), and its
refusals are written in the same envelope (recsys_platform/gunicorn_errors.py), not as HTML.
"""

from typing import Any

limit_request_line = 8190
limit_request_field_size = 8190


def post_worker_init(worker: Any) -> None:
    from recsys_platform.gunicorn_errors import install

    install()
