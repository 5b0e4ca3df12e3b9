"""Request rate limits in Redis: token buckets per API key and per tenant, and a failed-auth
counter per key prefix.

Both are one Lua script each, so concurrent web processes never race on a bucket. Redis's own
clock (TIME) is used, so web hosts with skewed clocks share one notion of time.

If Redis cannot be reached the request is allowed (fail open) and a warning is logged: the limits
protect capacity, and the serving path needs nothing else from Redis, so an outage of the limiter
must not turn into an outage of recommendations. The client's timeouts are short so a hung Redis
adds at most a few tens of milliseconds.
"""

import logging
import math
import time
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings

from tenants.models import ApiKey, Tenant

logger = logging.getLogger(__name__)

# KEYS: one bucket per limit; ARGV: rate (tokens/s) and burst for each, pairwise. Takes one token
# from every bucket, or from none when any is empty; returns the seconds until all have one
# ("0" when allowed), as a string because Lua numbers come back from Redis truncated to integers.
_BUCKET_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local wait = 0
local tokens = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local level = tonumber(state[1]) or burst
  local ts = tonumber(state[2]) or now
  level = math.min(burst, level + math.max(0, now - ts) * rate)
  tokens[i] = level
  if level < 1 then
    wait = math.max(wait, (1 - level) / rate)
  end
end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local level = tokens[i]
  if wait == 0 then level = level - 1 end
  redis.call('HSET', key, 'tokens', tostring(level), 'ts', tostring(now))
  -- a bucket left alone refills to full; after that it needs no row
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
end
return tostring(wait)
"""

# KEYS[1]: the prefix's failure counter; ARGV[1]: the window in seconds, started by the first
# failure (a fixed window: simple, and an attacker gets at most 2N tries per window).
_FAILURE_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""

_NAMESPACE = "recsys:rl:"
# Prefixes are 8 characters; a longer one is not ours, and is cut so it cannot bloat Redis keys.
_PREFIX_MAX = 16
_WARN_EVERY_S = 60.0
_last_warning = 0.0


@dataclass(frozen=True)
class Limits:
    """Tokens per second and bucket size; a rate of 0 means unlimited."""

    key_rate: float
    key_burst: int
    tenant_rate: float
    tenant_burst: int


def limits_for(tenant: Tenant) -> Limits:
    """The tenant's own limits where set in the admin, else the platform defaults."""
    defaults = settings.RECSYS_RATE_LIMITS

    def pick(value: float | int | None, name: str) -> float:
        return float(defaults[name] if value is None else value)

    return Limits(
        key_rate=pick(tenant.rate_limit_key_per_s, "key_rate"),
        key_burst=int(pick(tenant.rate_limit_key_burst, "key_burst")),
        tenant_rate=pick(tenant.rate_limit_tenant_per_s, "tenant_rate"),
        tenant_burst=int(pick(tenant.rate_limit_tenant_burst, "tenant_burst")),
    )


def _client() -> redis.Redis:
    return _client_for(settings.RECSYS_RATE_LIMIT_REDIS_URL)


@cache
def _client_for(url: str) -> redis.Redis:
    # Celery spells the unix socket "redis+socket://"; redis-py spells it "unix://".
    if url.startswith("redis+socket://"):
        url = "unix://" + url.removeprefix("redis+socket://")
    return redis.Redis.from_url(url, socket_timeout=0.05, socket_connect_timeout=0.05)


def _failed_open(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_S:  # one line a minute, not one a request
        _last_warning = now
        logger.warning("rate limiter: Redis unreachable, allowing requests (%s)", exc)


def acquire(key: ApiKey) -> float:
    """Take one token for `key` and its tenant; return 0 when allowed, else seconds to wait."""
    limits = limits_for(key.tenant)
    keys: list[str] = []
    args: list[str] = []
    for name, rate, burst in (
        (f"key:{key.prefix}", limits.key_rate, limits.key_burst),
        (f"tenant:{key.tenant_id}", limits.tenant_rate, limits.tenant_burst),
    ):
        if rate > 0 and burst > 0:
            keys.append(_NAMESPACE + name)
            args.extend((repr(rate), str(burst)))
    if not keys:
        return 0.0
    try:
        result = _client().eval(_BUCKET_SCRIPT, len(keys), *keys, *args)
    except redis.RedisError as exc:
        _failed_open(exc)
        return 0.0
    return float(result)


def _failure_key(prefix: str) -> str:
    return f"{_NAMESPACE}authfail:{prefix[:_PREFIX_MAX]}"


def auth_blocked_for(prefix: str) -> int:
    """Seconds this prefix stays blocked after too many failed authentications, else 0."""
    max_failures = settings.RECSYS_AUTH_FAILURES_MAX
    if max_failures <= 0:
        return 0
    try:
        with _client().pipeline(transaction=False) as pipe:
            pipe.get(_failure_key(prefix))
            pipe.ttl(_failure_key(prefix))
            count, ttl = pipe.execute()
    except redis.RedisError as exc:
        _failed_open(exc)
        return 0
    if count is None or int(count) < max_failures:
        return 0
    return max(1, int(ttl))


def auth_failed(prefix: str) -> None:
    """Count one failed authentication against `prefix`."""
    if settings.RECSYS_AUTH_FAILURES_MAX <= 0:
        return
    try:
        _client().eval(
            _FAILURE_SCRIPT, 1, _failure_key(prefix), settings.RECSYS_AUTH_FAILURE_WINDOW_S
        )
    except redis.RedisError as exc:
        _failed_open(exc)


def clear_state() -> int:
    """Forget every bucket and failure count (after changing limits, or a fresh test database
    whose tenant ids restart); return how many entries were removed."""
    client = _client()
    removed = 0
    for name in client.scan_iter(match=_NAMESPACE + "*", count=1000):
        removed += int(client.delete(name))
    return removed


def retry_after(wait: float) -> int:
    """Whole seconds for a Retry-After header: never 0, which would invite an instant retry."""
    return max(1, math.ceil(wait))
