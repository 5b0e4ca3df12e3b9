"""Encoding throughput of our TextEncoder next to sentence-transformers, same model, same run.

    python benchmarks/encoding_throughput.py [--items 10000] [--repeat 1] [--chunk 1000]

Baseline: `SentenceTransformer(path).encode(texts, batch_size=64, normalize_embeddings=True)` with
the packaged all-MiniLM-L6-v2 weights. Variants: our encoder in fp32 and bf16, int8 dynamic
quantisation of every nn.Linear (per-tensor and per-channel weights), and bf16 with length sorting
switched off. Every variant gets a quality check against the fp32 sentence-transformers vectors:
mean/min cosine and recall@10 agreement of nearest neighbours on a 1,000-text subset.

Fairness: the same torch thread count for all, a warm-up before timing, and the texts are timed in
chunks with the variants interleaved (rotating order) chunk by chunk, so that background load on a
shared machine hits every variant alike. With --repeat N each chunk's best time over N passes is
kept. Also measures the CPU's matmul peak (fp32, bf16, int8) and the share of it each variant
reaches. No Django needed. Prints a table and saves benchmarks/results/encoding_throughput.json.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

from recommender.demo.catalog import generate_items  # noqa: E402
from recommender.engine.encoders import (  # noqa: E402
    PACKAGED_MINILM,
    EncoderSettings,
    TextEncoder,
    resolve_model_path,
)

RESULTS = ROOT / "benchmarks" / "results" / "encoding_throughput.json"
QUALITY_SUBSET = 1_000
NEIGHBOURS = 10
FLOP_FORMULA = (
    "FLOPs(text of T tokens) = 2 * P_linear * T + 4 * L * T^2 * d  "
    "(P_linear = weights in the encoder's linear layers, L layers, hidden size d; "
    "real tokens only, padding not counted)"
)

Encode = Callable[[Sequence[str]], np.ndarray]


def build_texts(count: int) -> list[str]:
    return [
        f"{item['title']}. {item['description']}. Categories: "
        f"{', '.join(str(c) for c in item['categories'])}"  # type: ignore[attr-defined]
        for item in generate_items(count)
    ]


class UnsortedEncoder(TextEncoder):
    """Our encoder with length sorting switched off: batches in input order (benchmark only)."""

    def encode(self, texts: Sequence[str], *, progress: Any = None) -> np.ndarray:
        size = self.settings.batch_size
        parts = []
        with torch.inference_mode():
            for start in range(0, len(texts), size):
                parts.append(self._encode_batch(list(texts[start : start + size])))
        return np.vstack(parts)


# --------------------------------------------------------------------------- peak and FLOPs


def matmul_peak(dtype: torch.dtype, size: int = 2048, reps: int = 8, rounds: int = 3) -> float:
    """Best GFLOP/s (GOP/s for int8) of a square matmul on the current thread count."""
    if dtype == torch.int8:
        a = torch.randint(-128, 127, (size, size), dtype=torch.int8)
        b = torch.randint(-128, 127, (size, size), dtype=torch.int8)

        def op() -> object:
            return torch._int_mm(a, b)
    else:
        a = torch.randn(size, size).to(dtype)
        b = torch.randn(size, size).to(dtype)

        def op() -> object:
            return torch.matmul(a, b)

    op()
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(reps):
            op()
        best = max(best, 2 * size**3 * reps / (time.perf_counter() - start) / 1e9)
    return best


def model_flops(model: Any, token_counts: np.ndarray) -> tuple[float, dict[str, float]]:
    """Useful FLOPs to encode texts with these token counts (see FLOP_FORMULA)."""
    encoder = model.encoder
    linear = sum(
        module.weight.numel() for module in encoder.modules() if isinstance(module, torch.nn.Linear)
    )
    layers = int(model.config.num_hidden_layers)
    hidden = int(model.config.hidden_size)
    tokens = token_counts.astype(np.float64)
    total = float((2 * linear * tokens + 4 * layers * tokens**2 * hidden).sum())
    return total, {"P_linear": linear, "L": layers, "d": hidden}


# --------------------------------------------------------------------------- quality


def quality(vectors: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    cosine = (vectors * reference).sum(axis=1) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1)
    )
    n = min(QUALITY_SUBSET, len(vectors))
    return {
        "cosine_mean": float(cosine.mean()),
        "cosine_min": float(cosine.min()),
        "nn_recall_at_10": neighbour_agreement(vectors[:n], reference[:n]),
    }


def _top_k(vectors: np.ndarray, k: int) -> np.ndarray:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = unit @ unit.T
    np.fill_diagonal(scores, -np.inf)
    return np.argpartition(-scores, k, axis=1)[:, :k]


def neighbour_agreement(vectors: np.ndarray, reference: np.ndarray) -> float:
    """Mean share of each text's 10 nearest neighbours (by reference) that the variant finds."""
    k = min(NEIGHBOURS, len(vectors) - 1)
    if k < 1:
        return 1.0
    ours, theirs = _top_k(vectors, k), _top_k(reference, k)
    hits = [len(set(a) & set(b)) for a, b in zip(ours, theirs, strict=True)]
    return float(np.mean(hits) / k)


# --------------------------------------------------------------------------- variants


def build_variants(
    path: str, batch_size: int, per_channel: bool
) -> tuple[dict[str, Encode], dict[str, str], Any]:
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    variants: dict[str, Encode] = {}
    notes: dict[str, str] = {}
    st = SentenceTransformer(path, device="cpu")

    def st_encode(texts: Sequence[str]) -> np.ndarray:
        return st.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    variants["sentence-transformers fp32"] = st_encode
    notes["sentence-transformers fp32"] = "baseline"

    tokenizer = AutoTokenizer.from_pretrained(path)
    base = AutoModel.from_pretrained(path).eval()

    def ours(precision: str, cls: type[TextEncoder] = TextEncoder) -> TextEncoder:
        settings = EncoderSettings(
            model=PACKAGED_MINILM,
            precision=precision,  # type: ignore[arg-type]
            device="cpu",
            batch_size=batch_size,
        )
        return cls.from_parts(settings, tokenizer, copy.deepcopy(base))

    variants["ours fp32"] = ours("fp32").encode
    variants["ours bf16"] = ours("bf16").encode
    notes["ours bf16"] = 'EncoderSettings(precision="bf16")'
    try:
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        specs: list[tuple[str, Any]] = [("ours int8 dynamic", {torch.nn.Linear})]
        if per_channel:
            specs.append(
                ("ours int8 dynamic per-channel", {torch.nn.Linear: per_channel_dynamic_qconfig})
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, spec in specs:
                encoder = ours("fp32")
                encoder.model = quantize_dynamic(encoder.model, spec, dtype=torch.qint8)
                variants[name] = encoder.encode
                notes[name] = "quantize_dynamic(nn.Linear, qint8), activations quantised per batch"
    except Exception as exc:  # report any failure of the (deprecated) API and carry on
        notes["ours int8 dynamic"] = f"unavailable: {type(exc).__name__}: {exc}"
    variants["ours bf16, no length sort"] = ours("bf16", UnsortedEncoder).encode
    notes["ours bf16, no length sort"] = "batches in input order (benchmark-only subclass)"
    return variants, notes, (tokenizer, base)


def timed_interleaved(
    variants: dict[str, Encode], texts: list[str], chunk: int, repeat: int
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Seconds per variant (sum over chunks of the best of `repeat`) and the vectors."""
    names = list(variants)
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    best = {name: [float("inf")] * len(chunks) for name in names}
    parts: dict[str, list[np.ndarray]] = {name: [None] * len(chunks) for name in names}  # type: ignore[list-item]
    turn = 0
    for rep in range(repeat):
        for index, part in enumerate(chunks):
            order = names[turn % len(names) :] + names[: turn % len(names)]
            turn += 1
            for name in order:
                start = time.perf_counter()
                vectors = variants[name](part)
                best[name][index] = min(best[name][index], time.perf_counter() - start)
                parts[name][index] = vectors
            done = (rep * len(chunks) + index + 1) / (repeat * len(chunks))
            print(f"  timed {done:6.1%} ({len(part)} texts x {len(names)} variants)", flush=True)
    seconds = {name: float(sum(best[name])) for name in names}
    return seconds, {name: np.vstack(parts[name]).astype(np.float32) for name in names}


# --------------------------------------------------------------------------- main


PEAK_KEY = {
    "sentence-transformers fp32": "fp32",
    "ours fp32": "fp32",
    "ours bf16": "bf16",
    "ours int8 dynamic": "int8",
    "ours int8 dynamic per-channel": "int8",
    "ours bf16, no length sort": "bf16",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1, help="passes; best time per chunk")
    parser.add_argument("--chunk", type=int, default=1_000, help="texts per interleaved chunk")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--int8-per-channel",
        action="store_true",
        help="also time int8 with per-channel weight scales (better quality, slower)",
    )
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    path = resolve_model_path(PACKAGED_MINILM)
    load_before = os.getloadavg()

    print(f"torch {torch.__version__}, {args.threads} threads, cpu {platform.processor() or '?'}")
    print("Measuring matmul peak (2048x2048, best of 3)…", flush=True)
    peaks = {
        "fp32": matmul_peak(torch.float32),
        "bf16": matmul_peak(torch.bfloat16),
        "int8": matmul_peak(torch.int8),
    }
    print("  " + ", ".join(f"{k} {v:,.0f} GFLOP/s" for k, v in peaks.items()))

    texts = build_texts(args.items)
    variants, notes, (tokenizer, base) = build_variants(
        path, args.batch_size, args.int8_per_channel
    )
    token_counts = np.array(
        [len(ids) for ids in tokenizer(texts, truncation=True, max_length=256)["input_ids"]]
    )
    flops, flop_terms = model_flops(base, token_counts)
    print(
        f"{len(texts):,} texts, {token_counts.mean():.1f} tokens on average "
        f"(min {token_counts.min()}, max {token_counts.max()}); "
        f"{flops / len(texts) / 1e9:.2f} GFLOP per text",
        flush=True,
    )

    print("Warming up…", flush=True)
    for encode in variants.values():
        encode(texts[:128])
    print(f"Timing {len(variants)} variants, interleaved in chunks of {args.chunk}…", flush=True)
    seconds, vectors = timed_interleaved(variants, texts, args.chunk, args.repeat)
    load_after = os.getloadavg()

    reference = vectors["sentence-transformers fp32"]
    baseline_ips = len(texts) / seconds["sentence-transformers fp32"]
    rows = []
    for name in variants:
        ips = len(texts) / seconds[name]
        achieved = flops / seconds[name] / 1e9
        peak_key = PEAK_KEY.get(name, "fp32")
        rows.append(
            {
                "variant": name,
                "seconds": seconds[name],
                "items_per_s": ips,
                "x_baseline": ips / baseline_ips,
                "achieved_gflop_s": achieved,
                "peak_used": peak_key,
                "share_of_peak": achieved / peaks[peak_key],
                **quality(vectors[name], reference),
                "note": notes.get(name, ""),
            }
        )

    header = (
        f"{'variant':32s} {'items/s':>8s} {'x base':>7s} {'cos mean':>9s} {'cos min':>8s} "
        f"{'nn-R@10':>8s} {'GFLOP/s':>8s} {'% peak':>7s}"
    )
    print()
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['variant']:32s} {row['items_per_s']:8.1f} {row['x_baseline']:6.2f}x "
            f"{row['cosine_mean']:9.5f} {row['cosine_min']:8.5f} {row['nn_recall_at_10']:8.3f} "
            f"{row['achieved_gflop_s']:8.1f} {row['share_of_peak']:6.1%} ({row['peak_used']})"
        )
    print()
    print(FLOP_FORMULA)
    print("  " + ", ".join(f"{k}={v:,}" for k, v in flop_terms.items()))
    print(
        "Peak = best measured 2048x2048 matmul on the same threads "
        "(torch.matmul fp32/bf16, torch._int_mm int8): "
        + ", ".join(f"{k} {v:,.0f}" for k, v in peaks.items())
        + " GFLOP/s"
    )
    print(
        f"Load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
        f"(on {os.cpu_count()} CPUs; other load slows every variant alike, see --repeat)"
    )
    for note in (v for k, v in notes.items() if k not in variants):
        print(f"Note: {note}")

    result = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "items": len(texts),
        "repeat": args.repeat,
        "chunk": args.chunk,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "model_path": path,
        "tokens_mean": float(token_counts.mean()),
        "flops_total": flops,
        "flop_formula": FLOP_FORMULA,
        "flop_terms": flop_terms,
        "peak_gflop_s": peaks,
        "load_average_before_after": [load_before[0], load_after[0]],
        "notes": notes,
        "variants": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"Saved {shown}")


if __name__ == "__main__":
    main()
