"""Where the deploy/ definitions (migrations, RabbitMQ topology) live."""

from __future__ import annotations

import os
from pathlib import Path


def deploy_dir() -> Path:
    """The repository's deploy/ folder, or XIECHA_DEPLOY_DIR for installed copies."""
    override = os.environ.get("XIECHA_DEPLOY_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "deploy"


def keys_dir() -> Path:
    """Where set-up keeps the desks' SM2 key files (XIECHA_KEYS_DIR, else .run/keys)."""
    override = os.environ.get("XIECHA_KEYS_DIR")
    return Path(override) if override else deploy_dir().parent / ".run" / "keys"


def desk_key_file(region: str, directory: Path | None = None) -> Path:
    """A desk's private key file (its public key is the ``.pub`` beside it)."""
    return (directory or keys_dir()) / f"desk-{region}.key"
