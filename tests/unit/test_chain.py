"""The timeline's hash chain (pure): SM3 by default, SHA-256 by setting, breaks named."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid

from services.desk.domain import chain

AT = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)


def entries(algorithm: str, n: int = 3) -> list[chain.Stored]:
    out, previous = [], None
    rid = uuid.uuid4()
    for i in range(1, n + 1):
        fields = chain.fields(event_id=uuid.uuid4(), request_id=rid, seq=i, type=f"step{i}",
                              bureau="330110", actor="余杭 陈敏", at=AT, data={"n": i})
        digest = chain.entry_hash(algorithm, previous, fields)
        out.append(chain.Stored(i, fields, previous, digest, algorithm))
        previous = digest
    return out


def test_sm3_is_the_default_and_known_to_hashlib() -> None:
    assert chain.ALGORITHMS[0] == "sm3"
    assert hashlib.new("sm3", b"abc").hexdigest().startswith("66c7f0f4")  # GB/T 32905 A.1


def test_intact_chains_verify_in_both_algorithms() -> None:
    assert chain.verify(entries("sm3")) is None
    assert chain.verify(entries("sha256")) is None


def test_an_altered_entry_is_named() -> None:
    chained = entries("sm3")
    chained[1] = dataclasses.replace(chained[1], entry=dict(chained[1].entry) | {"actor": "x"})
    broken = chain.verify(chained)
    assert broken is not None and broken.position == 2 and "altered" in broken.why


def test_a_removed_or_reordered_entry_is_named() -> None:
    chained = entries("sm3")
    broken = chain.verify([chained[0], chained[2]])
    assert broken is not None and broken.position == 3
    broken = chain.verify([chained[1], chained[0], chained[2]])
    assert broken is not None and broken.position == 2


def test_time_zones_do_not_change_the_hash() -> None:
    china = dt.timezone(dt.timedelta(hours=8))
    rid, eid = uuid.uuid4(), uuid.uuid4()
    one = chain.fields(event_id=eid, request_id=rid, seq=None, type="t", bureau="330110",
                       actor="a", at=AT, data=None)
    other = chain.fields(event_id=eid, request_id=rid, seq=None, type="t", bureau="330110",
                         actor="a", at=AT.astimezone(china), data=None)
    assert chain.entry_hash("sm3", None, one) == chain.entry_hash("sm3", None, other)
