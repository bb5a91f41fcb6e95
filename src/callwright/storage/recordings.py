"""Call recordings on local disk, served through signed URLs that expire."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

URL_LIFETIME_S = 24 * 3600  # Ringg: recording URLs are valid for 24 h


class RecordingStore:
    def __init__(self, *, root: Path, secret: bytes) -> None:
        self._root = root
        self._secret = secret

    def path_for(self, call_id: str) -> Path:
        # Sharded by id: a million recordings in one directory is slow to list and back up.
        return self._root / call_id[:2] / f"{call_id}.wav"

    def find(self, call_id: str) -> Path | None:
        if not call_id.replace("-", "").isalnum():
            return None
        path = self.path_for(call_id)
        return path if path.is_file() else None

    def save(self, call_id: str, wav: bytes) -> Path:
        """Write atomically: a crash never leaves half a file under the final name."""
        path = self.path_for(call_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(wav)
        os.replace(tmp, path)
        return path

    def signature(self, call_id: str, expires: int) -> str:
        message = f"{call_id}.{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def signed_query(self, call_id: str, *, now_s: float | None = None) -> dict[str, str]:
        expires = int((time.time() if now_s is None else now_s) + URL_LIFETIME_S)
        return {"expires": str(expires), "signature": self.signature(call_id, expires)}

    def verify(
        self, call_id: str, expires: int, signature: str, *, now_s: float | None = None
    ) -> bool:
        if expires < (time.time() if now_s is None else now_s) or not signature.isascii():
            return False
        return hmac.compare_digest(self.signature(call_id, expires), signature)


def load_or_create_secret(path: Path) -> bytes:
    """The signing key: kept in the data directory so URLs survive restarts. Multi-node
    deployments set CALLWRIGHT_SECRET_KEY instead, the same on every node."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key
