"""The compose deployment's test needs a Docker engine and minutes: it runs in
`make test-docker` (and so in `make test` where an engine can be started), which sets
XIECHA_DOCKER_TEST=1; a plain `pytest` leaves it out."""

from __future__ import annotations

import os

collect_ignore = [] if os.environ.get("XIECHA_DOCKER_TEST") == "1" else ["test_docker.py"]
