"""Use cases for tenants and API keys."""

import hashlib
import hmac
import secrets
import string
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

from recsys_platform.errors import ApplicationError
from tenants.models import ALL_SCOPES, ApiKey, Tenant, slug_validator

KEY_TAG = "rsk"
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
# last_used_at is a hint for operators; writing it on every request would cost a row update each.
LAST_USED_RESOLUTION = timedelta(minutes=1)
M = TypeVar("M", bound=Model)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tenant_get_or_create(*, slug: str, name: str | None = None) -> tuple[Tenant, bool]:
    from django.core.exceptions import ValidationError

    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise ApplicationError(
            "invalid_slug", f"Invalid tenant slug {slug!r}: {exc.messages[0]}"
        ) from exc
    return Tenant.objects.get_or_create(slug=slug, defaults={"name": name or slug})


@transaction.atomic
def api_key_create(
    *, tenant: Tenant, scopes: list[str] | tuple[str, ...] = ALL_SCOPES, name: str = ""
) -> tuple[ApiKey, str]:
    """Create a key; return it and the full secret, which is never stored and shown only once."""
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown or not scopes:
        raise ApplicationError(
            "invalid_scopes", f"Scopes must be a non-empty subset of {list(ALL_SCOPES)}."
        )
    while True:
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    secret = secrets.token_urlsafe(32)
    raw_key = f"{KEY_TAG}_{prefix}_{secret}"
    key = ApiKey.objects.create(
        tenant=tenant, name=name, prefix=prefix, digest=_digest(raw_key), scopes=sorted(set(scopes))
    )
    return key, raw_key


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def _columns(alias: str, model: type[Model]) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


# Every request looks its key up: SQL written once, as compiling the ORM query took longer than
# running it (benchmarks/profile_serving.py).
_KEY_BY_PREFIX = (
    f"SELECT {_columns('k', ApiKey)}, {_columns('t', Tenant)}"  # noqa: S608
    ' FROM "tenants_apikey" k JOIN "tenants_tenant" t ON t."id" = k."tenant_id"'
    ' WHERE k."prefix" = %s'
)


def _from_row(model: type[M], values: Sequence[Any]) -> M:
    """A model instance from its concrete fields' raw values, converted as the ORM converts them
    (jsonb arrives as text)."""
    fields = model._meta.concrete_fields
    converted = [
        value
        if value is None or not hasattr(field, "from_db_value")
        else field.from_db_value(value, None, connection)
        for field, value in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def _key_by_prefix(prefix: str) -> ApiKey | None:
    with connection.cursor() as cursor:
        cursor.execute(_KEY_BY_PREFIX, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(ApiKey._meta.concrete_fields)
    key = _from_row(ApiKey, row[:split])
    key.tenant = _from_row(Tenant, row[split:])
    return key


def key_prefix(raw_key: str) -> str | None:
    """The prefix part of a well-formed `rsk_<prefix>_<secret>`, else None."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_TAG or not parts[1] or not parts[2]:
        return None
    return parts[1]


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key` (looked up by prefix, digest compared in constant time)."""
    prefix = key_prefix(raw_key)
    if prefix is None:
        return None
    key = _key_by_prefix(prefix)
    if key is None or not hmac.compare_digest(key.digest, _digest(raw_key)):
        return None
    if key.revoked_at is not None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        key.last_used_at = now
    return key
