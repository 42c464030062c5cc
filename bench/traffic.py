"""The end-to-end load: requesters creating, simulated recipients answering.

Requesters create requests through the desks' HTTP API with at most ``window``
creates in flight. Each recipient bureau runs a simulated investigator that lists
its inbox (state=delivered), then accepts and replies to each item through the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.environment import BUREAUS, region_of, token

Pair = tuple[str, str]


def cross_region_pairs() -> list[Pair]:
    """Every (requester, recipient) pair of bureaus in different regions, in a fixed order."""
    codes = [c for region in BUREAUS.values() for c in region]
    return [(a, b) for a, b in itertools.product(codes, codes) if region_of(a) != region_of(b)]


def plan(n: int) -> list[Pair]:
    """``n`` requests cycling deterministically over the cross-region pairs."""
    pairs = cross_region_pairs()
    return [pairs[i % len(pairs)] for i in range(n)]


def request_body(recipient: str, i: int) -> dict[str, Any]:
    return {
        "kind": "merchant_registration",
        "recipient": recipient,
        "subject": {"merchant_name": f"压测商户{i:06d}有限公司", "platform": "淘宝",
                    "shop_url": f"https://shop.example.com/{i}"},
        "questions": [{"id": "q1", "text": "该商户是否在贵局登记注册？"},
                      {"id": "q2", "text": "登记的经营地址是否与网店公示一致？"}],
    }


def reply_body(item: dict[str, Any]) -> dict[str, Any]:
    return {"findings": "经核查，该主体已在我局登记，状态正常。",
            "answers": [{"question_id": q["id"], "answer": "是"} for q in item["questions"]]}


@dataclass
class Progress:
    created: int = 0
    answered: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        return f"created {self.created}, answered {sum(self.answered.values())}"


class Api:
    """Calls a desk's HTTP API as an investigator; any non-2xx answer is an error."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def call(self, method: str, url: str, bureau: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token(bureau)}"}
        async with self.session.request(method, url, json=body, headers=headers) as resp:
            data = await resp.json(content_type=None)
            if resp.status >= 300:
                raise RuntimeError(f"{method} {url} as {bureau}: {resp.status} {data}")
            return data


async def create_all(api: Api, urls: dict[str, str], pairs: list[Pair], window: int,
                     progress: Progress) -> None:
    """Create every planned request, at most ``window`` at a time."""
    slots = asyncio.Semaphore(window)

    async def one(i: int, requester: str, recipient: str) -> None:
        async with slots:
            await create(api, urls, i, requester, recipient)
            progress.created += 1

    async with asyncio.TaskGroup() as tg:
        for i, (requester, recipient) in enumerate(pairs):
            tg.create_task(one(i, requester, recipient))


async def create(api: Api, urls: dict[str, str], i: int, requester: str, recipient: str) -> str:
    """Create request ``i``; its id."""
    url = f"{urls[region_of(requester)]}/v1/requests"
    body = await api.call("POST", url, requester, request_body(recipient, i))
    return str(body["id"])


async def offer(api: Api, urls: dict[str, str], pairs: list[Pair], rate: float,
                progress: Progress, first: int = 0) -> list[str]:
    """Open loop: start create ``i`` at ``i / rate`` seconds, whatever the answers before it
    do (a slow system does not slow the offered load); the ids created."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    ids: list[str] = []

    async def one(i: int, requester: str, recipient: str) -> None:
        ids.append(await create(api, urls, first + i, requester, recipient))
        progress.created += 1

    async with asyncio.TaskGroup() as tg:
        for i, (requester, recipient) in enumerate(pairs):
            await asyncio.sleep(max(0.0, started + i / rate - loop.time()))
            tg.create_task(one(i, requester, recipient))
    return ids


Waiting = Callable[[], Awaitable[set[str]]]
"""The ids of the requests delivered to a bureau and not yet accepted, from its desk."""


async def answer_all(api: Api, desk_url: str, bureau: str, expected: int | None,
                     concurrency: int, progress: Progress, bell: asyncio.Event,
                     waiting: Waiting) -> None:
    """Be ``bureau``'s investigator: accept and reply to ``expected`` delivered requests
    (None: until cancelled), looking at the inbox whenever ``bell`` rings (its desk wrote
    to its outbox, as it does when a request is delivered) and ``waiting`` shows one it
    has not seen, and at least every second."""
    seen: set[str] = set()
    slots = asyncio.Semaphore(concurrency)
    listing = f"{desk_url}/v1/requests?box=inbox&state=delivered&limit=200"

    async def answer(item: dict[str, Any]) -> None:
        async with slots:
            base = f"{desk_url}/v1/requests/{item['id']}"
            await api.call("POST", f"{base}/accept", bureau)
            await api.call("POST", f"{base}/reply", bureau, reply_body(item))
            progress.answered[bureau] += 1

    async with asyncio.TaskGroup() as tg:
        while expected is None or len(seen) < expected:
            bell.clear()
            if await waiting() - seen:
                page = await api.call("GET", listing, bureau)
                for item in page["items"]:
                    if item["id"] not in seen:
                        seen.add(item["id"])
                        tg.create_task(answer(item))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bell.wait(), 1.0)
            await asyncio.sleep(0.01)  # a burst of writes rings once: one listing, not many
