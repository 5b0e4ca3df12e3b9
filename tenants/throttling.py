"""DRF throttle: each request takes a token from its key's and its tenant's bucket."""

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tenants.models import ApiKey
from tenants.ratelimit import acquire, retry_after


class ApiKeyRateThrottle(BaseThrottle):
    """Refuses a request with 429 and Retry-After once its key's or its tenant's bucket is empty.
    Requests without a key (health, schema) are not limited here."""

    def __init__(self) -> None:
        self._wait = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        self._wait = acquire(key)
        return self._wait == 0

    def wait(self) -> float:
        return float(retry_after(self._wait))
