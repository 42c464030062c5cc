"""Sampling profiles of the services during a load, with py-spy (a dev tool from PyPI).

``py-spy record --format raw`` writes one line per distinct stack, "frame;frame;... count",
innermost frame last. ``summary`` turns such a file into the top frames by own samples
(where the CPU is spent) and by inclusive samples (what it is spent for).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections import Counter
from pathlib import Path

from services.demo.processes import Service


async def record(services: list[Service], seconds: float, folder: Path,
                 delay: float = 0.0) -> list[Path]:
    """After ``delay``, sample each service ``seconds`` at 100 Hz (non-blocking: the
    services keep running); the files written."""
    await asyncio.sleep(delay)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    procs, outs = [], []
    for service in services:
        assert service.process is not None
        out = folder / f"{service.name}.txt"
        procs.append(await asyncio.create_subprocess_exec(
            spy, "record", "--nonblocking", "--format", "raw", "-r", "100",
            "-d", str(int(seconds)), "-p", str(service.process.pid), "-o", str(out),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL))
        outs.append(out)
    for proc in procs:
        await proc.wait()
    return outs


def summary(path: Path, top: int = 15) -> str:
    """Top frames by own and by inclusive share of the samples in ``path``."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    def rows(counter: Counter[str]) -> list[str]:
        return [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in counter.most_common(top)]
    return "\n".join([f"{path.stem}: {total} samples", " own:", *rows(own),
                      " inclusive:", *rows(inclusive)])
