"""The end-to-end load: requesters creating, simulated recipients answering.

Requesters create requests through the desks' HTTP API with at most ``window``
creates in flight. Each recipient bureau runs a simulated investigator that lists
its inbox (state=delivered), then accepts and replies to each item through the API.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
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

    def line(self, n: int) -> str:
        return f"created {self.created}/{n}, answered {sum(self.answered.values())}/{n}"


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
            url = f"{urls[region_of(requester)]}/v1/requests"
            await api.call("POST", url, requester, request_body(recipient, i))
            progress.created += 1

    async with asyncio.TaskGroup() as tg:
        for i, (requester, recipient) in enumerate(pairs):
            tg.create_task(one(i, requester, recipient))


async def answer_all(api: Api, desk_url: str, bureau: str, expected: int, concurrency: int,
                     progress: Progress) -> None:
    """Be ``bureau``'s investigator: accept and reply to ``expected`` delivered requests."""
    seen: set[str] = set()
    slots = asyncio.Semaphore(concurrency)
    listing = f"{desk_url}/v1/requests?box=inbox&state=delivered&limit=200"

    async def answer(item: dict[str, Any]) -> None:
        async with slots:
            base = f"{desk_url}/v1/requests/{item['id']}"
            await api.call("POST", f"{base}/accept", bureau)
            await api.call("POST", f"{base}/reply", bureau, reply_body(item))
            progress.answered[bureau] += 1

    pending: set[asyncio.Task[None]] = set()
    async with asyncio.TaskGroup() as tg:
        while len(seen) < expected:
            page = await api.call("GET", listing, bureau)
            fresh = [item for item in page["items"] if item["id"] not in seen]
            for item in fresh:
                seen.add(item["id"])
                task = tg.create_task(answer(item))
                pending.add(task)
                task.add_done_callback(pending.discard)
            # list again once the answers in hand are nearly done, or after a short pause
            while len(pending) > concurrency:
                await asyncio.wait(set(pending), return_when=asyncio.FIRST_COMPLETED)
            if not fresh:
                await asyncio.sleep(0.05)
