"""The service's master key, from which every institution's signing secret is derived
(:func:`yibao.api.signing.credential_secret`): ``$YIBAO_MASTER_KEY`` (64 hex digits), else the key file
(``$YIBAO_KEY_FILE``, default ``yibao.key`` beside the SQLite database or in the working folder),
created with owner-only permissions the first time. Keep it out of the database: whoever holds it
can sign as any institution."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from yibao.errors import ValidationError

KEY_BYTES = 32


def key_path(db_url: str | None = None) -> Path:
    if os.environ.get("YIBAO_KEY_FILE"):
        return Path(os.environ["YIBAO_KEY_FILE"])
    if db_url and db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        return Path(db_url.removeprefix("sqlite:///")).with_suffix(".key")
    return Path("yibao.key")


def master_key(db_url: str | None = None, create: bool = True) -> bytes:
    env = os.environ.get("YIBAO_MASTER_KEY")
    if env:
        try:
            key = bytes.fromhex(env)
        except ValueError:
            raise ValidationError("YIBAO_MASTER_KEY", "is not hex digits") from None
        if len(key) < KEY_BYTES:
            raise ValidationError("YIBAO_MASTER_KEY", f"needs at least {KEY_BYTES * 2} hex digits")
        return key
    path = key_path(db_url)
    if path.exists():
        return _read(path)
    if not create:
        raise ValidationError("key file", "does not exist; set YIBAO_MASTER_KEY or YIBAO_KEY_FILE", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(KEY_BYTES) + "\n")
    return _read(path)


def _read(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        raise ValidationError("key file", "does not hold hex digits", str(path)) from None
    if len(key) < KEY_BYTES:
        raise ValidationError("key file", f"holds fewer than {KEY_BYTES} bytes", str(path))
    return key


__all__ = ["KEY_BYTES", "key_path", "master_key"]
