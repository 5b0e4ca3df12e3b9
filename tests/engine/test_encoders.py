"""Encoder stages on a tiny BERT: pooling, normalisation, batching and length sorting."""

from typing import Any

import numpy as np
import pytest
import torch

from recommender.engine.encoders import (
    EncoderSettings,
    TextEncoder,
    native_bf16,
    pick_dtype,
    pool,
)

TEXTS = [
    "smart watch",
    "cast iron skillet pan for camping and trail running with a kettle of coffee",
    "yoga mat",
    "heart rate gps running watch with trail book",
    "tea",
    "garden seed toy puzzle novel book tent bike helmet cream serum",
]


def _encoder(tiny_bert: tuple[Any, Any], **overrides: Any) -> TextEncoder:
    tokenizer, model = tiny_bert
    settings = EncoderSettings(**{"precision": "fp32", **overrides})
    return TextEncoder.from_parts(settings, tokenizer, model)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize("batch_size", [1, 2, 4, 64])
def test_batched_and_sorted_equals_one_at_a_time(
    tiny_bert: tuple[Any, Any], pooling: str, batch_size: int
) -> None:
    encoder = _encoder(tiny_bert, pooling=pooling, batch_size=batch_size)
    together = encoder.encode(TEXTS)
    alone = np.vstack([encoder.encode([text]) for text in TEXTS])
    assert together.shape == (len(TEXTS), 32)
    assert together.dtype == np.float32
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_mean_pooling_ignores_padding() -> None:
    hidden = torch.tensor([[[1.0, 1.0], [3.0, 5.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert pool(hidden, mask, "mean").tolist() == [[2.0, 3.0]]
    assert pool(hidden, mask, "cls").tolist() == [[1.0, 1.0]]


def test_cls_pooling_takes_the_first_token(tiny_bert: tuple[Any, Any]) -> None:
    tokenizer, model = tiny_bert
    encoder = _encoder(tiny_bert, pooling="cls", normalize=False)
    tokens = tokenizer(["yoga mat"], return_tensors="pt")
    with torch.inference_mode():
        expected = model(**tokens).last_hidden_state[:, 0].numpy()
    np.testing.assert_allclose(encoder.encode(["yoga mat"]), expected, atol=1e-6)


def test_normalise_gives_unit_vectors_and_off_does_not(tiny_bert: tuple[Any, Any]) -> None:
    normalised = _encoder(tiny_bert, normalize=True).encode(TEXTS)
    raw = _encoder(tiny_bert, normalize=False).encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(normalised, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0, atol=1e-3)
    # Same direction: normalising is the only difference.
    np.testing.assert_allclose(
        raw / np.linalg.norm(raw, axis=1, keepdims=True), normalised, atol=1e-5
    )


def test_truncation_at_max_length(tiny_bert: tuple[Any, Any]) -> None:
    long_text = " ".join(["coffee"] * 200)
    short = _encoder(tiny_bert, max_length=8).encode([long_text, " ".join(["coffee"] * 6)])
    # Both truncate to the same 8 tokens ([CLS] + 6 words + [SEP]).
    np.testing.assert_allclose(short[0], short[1], atol=1e-5)


def test_bf16_is_close_to_fp32(tiny_bert: tuple[Any, Any]) -> None:
    tokenizer, model = tiny_bert
    fp32 = _encoder((tokenizer, model), precision="fp32").encode(TEXTS)
    bf16 = TextEncoder.from_parts(
        EncoderSettings(precision="bf16"), tokenizer, model.to(torch.float32)
    ).encode(TEXTS)
    cosine = (fp32 * bf16).sum(axis=1)
    assert cosine.min() > 0.99
    assert not np.array_equal(fp32, bf16)


def test_empty_input(tiny_bert: tuple[Any, Any]) -> None:
    assert _encoder(tiny_bert).encode([]).shape == (0, 32)


def test_progress_reports_every_batch(tiny_bert: tuple[Any, Any]) -> None:
    seen: list[int] = []
    _encoder(tiny_bert, batch_size=4).encode(TEXTS, progress=seen.append)
    assert seen == [4, 6]


def test_auto_precision_follows_the_hardware() -> None:
    cpu = torch.device("cpu")
    expected = torch.bfloat16 if native_bf16(cpu) else torch.float32
    assert pick_dtype("auto", cpu) == expected
    assert pick_dtype("fp32", cpu) == torch.float32
    assert pick_dtype("fp16", cpu) == torch.bfloat16  # no fp16 kernels worth using on a CPU
