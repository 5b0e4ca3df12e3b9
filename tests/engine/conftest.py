"""A tiny BERT built from a config (no download), made once per session and handed out as a copy."""

import copy
from pathlib import Path
from typing import Any

import pytest
import torch

WORDS = [
    "smart",
    "watch",
    "heart",
    "rate",
    "gps",
    "running",
    "shoe",
    "trail",
    "kettle",
    "skillet",
    "cast",
    "iron",
    "pan",
    "coffee",
    "tea",
    "book",
    "novel",
    "yoga",
    "mat",
    "tent",
    "camping",
    "bike",
    "helmet",
    "cream",
    "serum",
    "toy",
    "puzzle",
    "garden",
    "seed",
]


@pytest.fixture(scope="session")
def _tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    from transformers import BertConfig, BertModel, BertTokenizerFast  # type: ignore[attr-defined]

    folder: Path = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    return tokenizer, BertModel(config).eval()


@pytest.fixture
def tiny_bert(_tiny_bert: tuple[Any, Any]) -> tuple[Any, Any]:
    tokenizer, model = _tiny_bert
    return tokenizer, copy.deepcopy(model)
