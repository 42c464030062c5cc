"""Where the deploy/ definitions (migrations, RabbitMQ topology) live."""

from __future__ import annotations

import os
from pathlib import Path


def deploy_dir() -> Path:
    """The repository's deploy/ folder, or XIECHA_DEPLOY_DIR for installed copies."""
    override = os.environ.get("XIECHA_DEPLOY_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "deploy"
