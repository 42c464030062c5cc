"""Simulated investigators under chaos: requesters create, recipients accept and reply.

A call that meets a dead desk (connection refused or reset, a timeout) or a 503 is tried
again after a short back-off, a create always with the SAME Idempotency-Key, so a retry
after a lost answer returns the request already made (200, ``Idempotent-Replayed``)
instead of a second one. Every request the API accepted is recorded. Any other 5xx is
counted as an anomaly (a defect: the desk must answer 503 while it cannot work).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.traffic import reply_body, request_body
from tests.chaos.installation import BUREAUS, region_of, token

RETRY_STATUSES = frozenset({429, 502, 503, 504})
CALL_TIMEOUT = aiohttp.ClientTimeout(total=20)
"""A call to a desk whose database is paused hangs; give up and try again."""


@dataclass(frozen=True)
class Planned:
    i: int
    requester: str
    recipient: str


@dataclass
class Ledger:
    """What the clients saw: accepted requests, retries, anomalies."""

    accepted: dict[str, Planned] = field(default_factory=dict)
    replayed: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    anomalies: Counter[str] = field(default_factory=Counter)
    answered: set[str] = field(default_factory=set)
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever a request is accepted."""


class Client:
    def __init__(self, session: aiohttp.ClientSession, urls: dict[str, str],
                 ledger: Ledger) -> None:
        self.session, self.urls, self.ledger = session, urls, ledger

    async def call(self, method: str, region: str, path: str, bureau: str,
                   body: Any = None, key: str | None = None) -> tuple[int, Any]:
        """The first answer that is neither a retryable status nor a broken connection."""
        headers = {"Authorization": f"Bearer {token(bureau)}"}
        if key:
            headers["Idempotency-Key"] = key
        delay = 0.1
        while True:
            try:
                async with self.session.request(
                        method, f"{self.urls[region]}{path}", json=body, headers=headers,
                        timeout=CALL_TIMEOUT) as resp:
                    data = await resp.json(content_type=None)
                    if resp.status not in RETRY_STATUSES and resp.status < 500:
                        return resp.status, data
                    if resp.status >= 500 and resp.status not in RETRY_STATUSES:
                        self.ledger.anomalies[f"{method} {path.split('/')[2]} {resp.status}"] += 1
                    self.ledger.retries[str(resp.status)] += 1
            except (aiohttp.ClientError, TimeoutError, ValueError):
                self.ledger.retries["connection"] += 1
            await asyncio.sleep(delay)  # back-off before the retry, not a wait for an event
            delay = min(delay * 2, 2.0)


def plan(n: int) -> list[Planned]:
    """``n`` requests cycling over every pair of bureaus on different desks."""
    codes = [c for region in BUREAUS.values() for c in region]
    pairs = [(a, b) for a, b in itertools.product(codes, codes) if region_of(a) != region_of(b)]
    return [Planned(i, *pairs[i % len(pairs)]) for i in range(n)]


async def create_all(client: Client, planned: list[Planned], seed: int, window: int,
                     spread: float) -> None:
    """Create every planned request, the i-th not before ``i / len * spread`` seconds, at
    most ``window`` at a time per requesting desk (a desk whose database is paused holds
    up only its own requesters)."""
    slots = {region: asyncio.Semaphore(window) for region in BUREAUS}
    loop = asyncio.get_running_loop()
    start, gap = loop.time(), spread / max(len(planned), 1)

    async def one(p: Planned) -> None:
        region = region_of(p.requester)
        await asyncio.sleep(max(0.0, start + p.i * gap - loop.time()))  # the pace
        async with slots[region]:
            status, body = await client.call("POST", region, "/v1/requests", p.requester,
                                             request_body(p.recipient, p.i),
                                             key=f"chaos-{seed}-{p.i}")
        if status not in (200, 201):
            client.ledger.anomalies[f"create {status} {body}"[:120]] += 1
            return
        client.ledger.replayed += status == 200
        client.ledger.accepted[str(body["id"])] = p
        client.ledger.progress.set()

    async with asyncio.TaskGroup() as tg:
        for p in planned:
            tg.create_task(one(p))


async def answer_until(client: Client, bureau: str, stop: asyncio.Event,
                       concurrency: int = 8) -> None:
    """Be ``bureau``'s investigator until ``stop``: accept what was delivered, reply to
    what was accepted. Listing by state makes every step safe to repeat after a crash."""
    region = region_of(bureau)
    slots = asyncio.Semaphore(concurrency)

    async def step(item: dict[str, Any], action: str) -> None:
        async with slots:
            path = f"/v1/requests/{item['id']}/{action}"
            body = reply_body(item) if action == "reply" else None
            status, _ = await client.call("POST", region, path, bureau, body)
            if status == 200 and action == "reply":
                client.ledger.answered.add(item["id"])
            elif status not in (200, 409):  # 409: done already, its answer was lost
                client.ledger.anomalies[f"{action} {status}"] += 1

    while not stop.is_set():
        work = []
        for state, action in (("accepted", "reply"), ("delivered", "accept")):
            _, page = await client.call(
                "GET", region, f"/v1/requests?box=inbox&state={state}&limit=200", bureau)
            work += [step(item, action) for item in (page or {}).get("items", [])]
        if work:
            await asyncio.gather(*work)
        else:
            await asyncio.sleep(0.2)  # the inbox poll interval
