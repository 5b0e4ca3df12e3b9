"""Encoding: item and user text → vectors in the tenant's embedding space.

Work goes in chunks, each committed on its own: a worker killed mid-job loses at most the chunk in
flight, and the re-delivered job (acks_late) picks up exactly the items still missing or stale,
so every item ends with one vector (upserts keyed by space and item).
"""

import hashlib
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction

from recommender import vectorstore
from recommender.engine.config_schema import render_template
from recommender.models import Job
from recommender.models.vectors import EmbeddingSpace
from recommender.services.config import active_config
from recommender.services.encoding.encoders import encoder_for, encoder_settings
from recommender.services.encoding.spaces import space_activate, target_space
from recommender.services.jobs.lifecycle import ProgressReport
from recommender.services.training.queue import first_model_request
from tenants.models import Tenant


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def encode_tenant(*, tenant: Tenant, report: ProgressReport | None = None) -> dict[str, Any]:
    """Encode every item (and user profile text) whose vector is missing or stale."""
    config = active_config(tenant)
    encoder_config = config["encoder"]
    encoder = encoder_for(encoder_settings(encoder_config))
    space = target_space(
        tenant_id=tenant.pk, encoder_config=encoder_config, dimension=encoder.dimension
    )
    total = vectorstore.count_items_to_encode(space)
    counts: dict[str, Any] = {"space": space.pk, "items_total": total, "items_encoded": 0}
    after_id = 0
    while True:
        rows = vectorstore.items_to_encode(
            space, after_id=after_id, limit=settings.RECSYS_ENCODE_CHUNK
        )
        if not rows:
            break
        texts = [render_template(encoder_config["item_template"], fields) for _, _, fields in rows]
        vectors = encoder.encode(texts)
        with transaction.atomic():
            vectorstore.upsert_item_vectors(
                space, [row[0] for row in rows], [row[1] for row in rows], vectors
            )
        after_id = rows[-1][0]
        counts["items_encoded"] += len(rows)
        if report is not None:
            report(0.95 * counts["items_encoded"] / max(total, 1), counts)

    counts["users_encoded"] = _encode_user_texts(space, encoder_config)
    if space.status == EmbeddingSpace.Status.BUILDING and not vectorstore.count_items_to_encode(
        space
    ):
        space_activate(space=space)
        counts["activated_space"] = space.pk
    if report is not None:
        report(1.0, counts)
    return counts


def _encode_user_texts(space: EmbeddingSpace, encoder_config: dict[str, Any]) -> int:
    encoder = encoder_for(encoder_settings(encoder_config))
    encoded = 0
    after_id = 0
    while True:
        rows = vectorstore.users_to_encode(
            space, after_id=after_id, limit=settings.RECSYS_ENCODE_CHUNK
        )
        if not rows:
            return encoded
        after_id = rows[-1].user_id
        todo = []
        cleared = []
        for user_id, external_id, profile_text, attributes, stored_hash in rows:
            text = render_template(
                encoder_config["user_template"],
                {"id": external_id, "profile_text": profile_text, "attributes": attributes},
            )
            if not profile_text or not text:
                # The text is gone: a vector of the old text must not go on shaping results.
                if stored_hash is not None:
                    cleared.append(user_id)
            elif _text_hash(text) != stored_hash:
                todo.append((user_id, _text_hash(text), text))
        if cleared:
            vectorstore.delete_user_vectors(space, cleared)
        if todo:
            vectors = encoder.encode([text for _, _, text in todo])
            with transaction.atomic():
                vectorstore.upsert_user_vectors(
                    space, [t[0] for t in todo], [t[1] for t in todo], vectors
                )
            encoded += len(todo)


def encode_job_run(*, job: Job, report: ProgressReport) -> Mapping[str, Any]:
    """The `encode` job kind (runs on the gpu queue). A tenant with events but no model yet gets
    its first training queued once its items have vectors (the content source needs them)."""
    counts = encode_tenant(tenant=job.tenant, report=report)
    first = first_model_request(tenant=job.tenant)
    return {**counts, "queued_training": str(first.pk)} if first is not None else counts
