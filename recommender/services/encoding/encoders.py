"""One loaded encoder per process and setting: workers and web processes load lazily, once."""

import threading
from functools import lru_cache
from typing import Any

from django.conf import settings as django_settings

from recommender.engine.encoders import EncoderSettings, TextEncoder, configure_cpu_threads

_load_lock = threading.Lock()
_threads_configured = False


def encoder_settings(encoder_config: dict[str, Any]) -> EncoderSettings:
    return EncoderSettings(
        model=encoder_config["model"],
        pooling=encoder_config["pooling"],
        max_length=encoder_config["max_length"],
        normalize=encoder_config["normalize"],
        precision=encoder_config["precision"],
        device=encoder_config["device"],
        batch_size=encoder_config["batch_size"],
    )


@lru_cache(maxsize=4)
def _load(settings: EncoderSettings) -> TextEncoder:
    return TextEncoder.load(settings)


def encoder_for(settings: EncoderSettings) -> TextEncoder:
    """The process's encoder for `settings`, loaded on first use (never in a fork-time hook)."""
    global _threads_configured
    with _load_lock:  # web threads asking at once load the model once
        if not _threads_configured:
            configure_cpu_threads(django_settings.RECSYS_TORCH_THREADS or None)
            _threads_configured = True
        return _load(settings)
