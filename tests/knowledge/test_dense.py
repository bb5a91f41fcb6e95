"""The numpy MiniLM embedder: the packaged model, pinned, and sensible vectors."""

from __future__ import annotations

import numpy as np
import pytest

from callwright.knowledge.dense import DIMENSIONS, MODEL_NAME, from_blob, load_embedder, to_blob
from callwright.providers.base import ProviderError

try:
    EMBEDDER = load_embedder()
except ProviderError as exc:  # the model package is optional: lexical-only without it
    pytest.skip(f"embedding model not installed: {exc}", allow_module_level=True)


def test_vectors_are_unit_length_and_batch_independent() -> None:
    texts = ["When are you open?", "a much longer sentence " * 20, "x"]
    together = EMBEDDER.embed(texts)
    assert together.shape == (3, DIMENSIONS) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    alone = np.stack([EMBEDDER.embed([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-4)  # padding never leaks into a vector
    assert EMBEDDER.embed([]).shape == (0, DIMENSIONS) and EMBEDDER.name == MODEL_NAME
    assert np.array_equal(from_blob(to_blob(together[0])), together[0])


def test_paraphrases_score_high_and_unrelated_text_low() -> None:
    q, answer = EMBEDDER.embed(
        [
            "Can I bring my dog into the shop?",
            "Only trained service animals are allowed inside our stores.",
        ]
    )
    assert float(q @ answer) > 0.3  # no shared content word, related meaning
    happy = EMBEDDER.embed(["That is a happy person", "That is a very happy person"])
    sunny = EMBEDDER.embed(["Today is a sunny day"])[0]
    assert float(happy[0] @ happy[1]) > 0.9
    assert float(happy[0] @ sunny) < 0.4
