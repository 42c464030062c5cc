"""``python -m tests.chaos`` (``make chaos``): the long chaos run; exit code 1 unless every
accepted request was delivered and answered exactly once and nothing is left over."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Annotated

import typer

from services.common.logs import configure_logging
from tests.chaos.harness import run
from tests.chaos.injector import Scale


def main(
    requests: Annotated[int, typer.Option(help="Requests to create (each answered).")] = 10_000,
    desk_kills: Annotated[int, typer.Option(help="SIGKILLs of a random desk.")] = 6,
    hub_kills: Annotated[int, typer.Option(help="SIGKILLs of the hub.")] = 3,
    relay_kills: Annotated[int, typer.Option(help="SIGKILLs of a desk mid-flush.")] = 3,
    pause: Annotated[float, typer.Option(help="Seconds one desk's database is paused.")] = 120,
    spread: Annotated[float, typer.Option(help="Seconds the creates are spread over.")] = 420,
    seed: Annotated[int, typer.Option(help="0: a fresh one (printed).")] = 0,
) -> None:
    seed = seed or int(os.environ.get("XIECHA_CHAOS_SEED", "0")) or random.randrange(1, 10**6)
    configure_logging("chaos", "WARNING")  # set-up's progress lines would drown the figures
    scale = Scale(requests, desk_kills, hub_kills, relay_kills, pause, spread)
    result = asyncio.run(run(scale, seed, drain_within=1800))
    print("\n".join(["", "chaos result:", *result.lines()]), flush=True)
    raise typer.Exit(0 if result.ok else 1)


if __name__ == "__main__":
    typer.run(main)
