"""The benchmark's own arithmetic: CPU counters, per-check figures, profile summaries."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from bench import cpu, profile
from bench.harness import per_check
from bench.openloop import latencies


def test_a_process_reads_its_own_cpu_and_memory() -> None:
    # Given this process, which has run Python for a while
    used, rss = cpu.cpu_seconds(os.getpid()), cpu.rss_mib(os.getpid())
    # Then the kernel's counters are read, and a process that is gone reads as None
    assert used is not None and used > 0
    assert rss is not None and rss > 1
    assert cpu.cpu_seconds(2**22 + 1) is None


def test_cpu_between_readings_counts_new_processes_from_zero() -> None:
    before = {"desks": {1: 2.0, 2: 1.0}, "transactions": {0: 100.0}}
    after = {"desks": {1: 3.5, 2: 1.0, 3: 0.25}, "transactions": {0: 130.0}}
    used = cpu.used_between(before, after)
    assert used == {"desks": 1.75, "transactions": 30.0}
    # per check: CPU in milliseconds, transactions as a count
    assert per_check(used, 10) == {"desks": 175.0, "transactions": 3.0}


def test_latency_percentiles_are_nearest_rank() -> None:
    t0 = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    stamps = [(t0, t0 + dt.timedelta(milliseconds=ms)) for ms in range(1, 101)]
    assert latencies(stamps) == (50.0, 90.0, 99.0)


def test_a_profile_summary_ranks_own_and_inclusive_frames(tmp_path: Path) -> None:
    raw = tmp_path / "desk-zj.txt"
    raw.write_text("main;handle;write 6\nmain;handle;execute 3\nmain;idle 1\n")
    text = profile.summary(raw, top=2)
    assert text.splitlines()[0] == "desk-zj: 10 samples"
    assert "   60.0 %  write" in text
    assert "  100.0 %  main" in text
