"""The session's tiny BERT (tests/conftest.py), loaded through `from_pretrained`, as a copy."""

from typing import Any

import pytest


@pytest.fixture(scope="session")
def _tiny_bert(tiny_model_dir: str) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir), AutoModel.from_pretrained(
        tiny_model_dir
    ).eval()


@pytest.fixture
def tiny_bert(_tiny_bert: tuple[Any, Any]) -> tuple[Any, Any]:
    import copy

    tokenizer, model = _tiny_bert
    return tokenizer, copy.deepcopy(model)
