"""A realistic multi-year history of requests, as the events the desks would have sent.

Pure and seeded: the same arguments give the same history. Every kind; most requests
answered (some late), some rejected, transferred, withdrawn or still open; a share of
merchant and complainant checks are bulk requests whose answered items each count as a
completed check, as they do live. It stops when exactly ``checks`` checks are completed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from protocol.v1.content import RequestKind
from protocol.v1.registry import BureauRecord

KINDS = tuple(RequestKind)
KIND_CUM = (45, 70, 82, 92, 100)
BULK_KINDS = {RequestKind.MERCHANT_REGISTRATION, RequestKind.COMPLAINANT_IDENTITY}
DUE_DAYS = 14
"""Calendar days to the default due date (10 working days, roughly)."""
LEVEL_WEIGHT = {1: 2.0, 2: 3.0, 3: 1.0}
MERCHANT_PROVINCES = {"33": 8.0, "44": 7.0, "32": 3.0, "31": 3.0, "35": 2.5, "11": 2.0,
                      "37": 2.0, "51": 1.5}
NOON = dt.time(4, 0, tzinfo=dt.UTC)  # 12:00 in China: an event's China day is its date
RATING_CUM = (2, 5, 15, 40, 100)
"""Ratings 1..5 on closing: most answers rated 5 or 4."""
AGREED_DAYS = 7
"""An agreed due date gives this many calendar days more."""


@dataclass(slots=True)
class SimEvent:
    """A simulated ``event.recorded`` body: the fields counting reads and the ids the
    hub records (``counted_event``), derived from the seeded generator."""

    event_type: str
    requester: str
    recipient: str
    occurred_at: dt.datetime
    kind: str | None
    event_id: str
    """A uuid as 32 hex digits (cheaper to make than ``uuid.UUID``; PostgreSQL reads both)."""
    request_id: str
    count: int = 1
    on_time: bool | None = None
    turnaround_days: int | None = None
    due_date_agreed: bool | None = None
    rating: int | None = None
    overdue: bool | None = None


@dataclass(frozen=True)
class Plan:
    checks: int
    start: dt.date
    end: dt.date
    seed: int = 2026


def history(
    plan: Plan, partners: Sequence[BureauRecord]
) -> Iterator[tuple[list[SimEvent], int]]:
    """One request after another (its events, checks it completed) until ``plan.checks``."""
    rng = random.Random(plan.seed)
    codes = [b.code for b in partners]
    cum = list(itertools.accumulate(LEVEL_WEIGHT[b.level] for b in partners))
    # merchants are checked where they are registered: e-commerce provinces receive more
    cum_to = list(itertools.accumulate(
        LEVEL_WEIGHT[b.level] * MERCHANT_PROVINCES.get(b.province, 1.0) for b in partners))
    span = (plan.end - plan.start).days - 40  # room for the last answers
    done = 0
    while done < plan.checks:
        requester = rng.choices(codes, cum_weights=cum)[0]
        recipient = rng.choices(codes, cum_weights=cum_to)[0]
        if requester == recipient:
            continue
        # traffic grows over the years: later days are likelier
        day = plan.start + dt.timedelta(days=int(span * rng.random() ** 0.7))
        events, completed = _request(rng, requester, recipient, day, plan.checks - done,
                                     plan.end)
        done += completed
        yield events, completed


def _request(rng: random.Random, requester: str, recipient: str, day: dt.date,
             room: int, end: dt.date) -> tuple[list[SimEvent], int]:
    kind = rng.choices(KINDS, cum_weights=KIND_CUM)[0]
    request_id = rng.getrandbits(128)
    rid = f"{request_id:032x}"
    out: list[SimEvent] = []

    def ev(event_type: str, after: int, count: int = 1, on_time: bool | None = None,
           turnaround_days: int | None = None, due_date_agreed: bool | None = None,
           rating: int | None = None, overdue: bool | None = None) -> None:
        at = dt.datetime.combine(day + dt.timedelta(days=after), NOON)
        event_id = f"{(request_id + len(out) + 1) % (1 << 128):032x}"
        out.append(SimEvent(event_type, requester, recipient, at, kind, event_id, rid, count,
                            on_time, turnaround_days, due_date_agreed, rating, overdue))

    for first in ("created", "sent", "delivered"):
        ev(first, 0)
    fate = rng.random()
    if fate < 0.04:
        ev("rejected", rng.randint(0, 3))
        return out, 0
    if fate < 0.07:
        ev("withdrawn", rng.randint(0, 5))
        return out, 0
    if fate < 0.10 and room > 1:  # still open; past its due date, the watch marked it
        ev("accepted", accepted := rng.randint(0, 2), turnaround_days=accepted)
        if day + dt.timedelta(days=DUE_DAYS + 1) <= end:
            ev("reminded", DUE_DAYS + 1, overdue=True)
        return out, 0
    # most are taken on within days, a few only after a week or more
    accepted = rng.randint(0, 3) if rng.random() < 0.95 else rng.randint(8, 12)
    ev("accepted", accepted, turnaround_days=accepted)
    if rng.random() < 0.04:
        ev("transferred", accepted + 1)
    completed = 0
    if kind in BULK_KINDS and rng.random() < 0.3:
        items = min(rng.randint(5, 60), room - 1) if room > 1 else 0
        if items:
            ev("item_answered", accepted + 2, count=items)
            completed += items
    tat = min(35, max(1, accepted + int(rng.expovariate(1 / 6))))
    agreed = rng.random() < 0.06
    due = DUE_DAYS + (AGREED_DAYS if agreed else 0)
    if tat > due:
        ev("reminded", due + 1, overdue=True)
    ev("replied", tat, on_time=tat <= due, turnaround_days=tat, due_date_agreed=agreed,
       overdue=tat > due or None)
    if completed:  # its items are its checks, its reply is none (as the live hub counts)
        ev("bulk_replied", tat)
    ev("closed", tat + rng.randint(1, 5), rating=rng.choices(RATINGS, cum_weights=RATING_CUM)[0])
    return out, completed or 1


RATINGS = (1, 2, 3, 4, 5)
