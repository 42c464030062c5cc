"""Demo traffic: investigators of eight bureaus in four regions ask and answer each other."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import aiohttp
from stdnum.cn import uscc

DEMO_BUREAUS: dict[str, list[tuple[str, str]]] = {
    "zj": [("330110", "余杭 陈敏"), ("330106", "西湖 王磊")],
    "gd": [("440106", "天河 李娜"), ("440305", "南山 黄伟")],
    "sc": [("510104", "锦江 刘洋"), ("510107", "武侯 张静")],
    "rest": [("110105", "朝阳 赵刚"), ("310115", "浦东 周琳")],
}
DEMO_COORDINATORS: dict[str, tuple[str, str]] = {
    "zj": ("330100", "杭州 协调员"),
    "gd": ("440100", "广州 协调员"),
    "sc": ("510100", "成都 协调员"),
    "rest": ("110000", "北京 协调员"),
}
"""One coordinator per region, who sees escalations of its province."""
KINDS = ["merchant_registration", "complainant_identity", "document_service",
         "evidence_collection", "case_lead_transfer"]
MERCHANTS = ["某某电子商务有限公司", "某某网络科技有限公司", "某某食品商行", "某某服饰旗舰店"]


REPLY = {"findings": "经核查，该主体已在我局登记，状态正常。",
         "answers": [{"question_id": "q1", "answer": "已登记", "confirmed": True}]}


def demo_token(bureau: str) -> str:
    """Fixed, public demo tokens (demo only: real tokens come from add-investigator)."""
    return f"demo-{bureau}"


def credit_code(division: str, rng: random.Random) -> str:
    body = f"91{division}MA{rng.randrange(16**7):07X}"[:17]
    return body + uscc.calc_check_digit(body)


class Traffic:
    def __init__(self, session: aiohttp.ClientSession, desk_urls: dict[str, str],
                 seed: int = 17) -> None:
        self.session, self.urls, self.rng = session, desk_urls, random.Random(seed)

    async def _call(self, method: str, url: str, bureau: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {demo_token(bureau)}"}
        async with self.session.request(method, url, json=body, headers=headers) as resp:
            data = await resp.json()
            if resp.status >= 300:
                raise RuntimeError(f"{method} {url}: {resp.status} {data}")
            return data

    async def _until(self, region: str, bureau: str, rid: str, state: str) -> None:
        url = f"{self.urls[region]}/v1/requests/{rid}"
        headers = {"Authorization": f"Bearer {demo_token(bureau)}"}
        for _ in range(300):
            async with self.session.get(url, headers=headers) as resp:
                # 404 until the request reaches the recipient's desk
                if resp.status == 200 and (await resp.json())["state"] == state:
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"request {rid} never reached {state}")

    async def round_trip(self) -> str:
        """One request from a random bureau to one in another region, answered."""
        src, dst = self.rng.sample(sorted(DEMO_BUREAUS), 2)
        a, a_name = self.rng.choice(DEMO_BUREAUS[src])
        b, b_name = self.rng.choice(DEMO_BUREAUS[dst])
        kind = self.rng.choice(KINDS)
        subject = {"merchant_name": f"{b_name[:2]}{self.rng.choice(MERCHANTS)}",
                   "credit_code": credit_code(b, self.rng), "platform": "某电商平台"}
        body = {"kind": kind, "subject": subject,
                "questions": [{"id": "q1", "text": "请核实该主体的登记情况。"}]}
        if self.rng.random() < 0.5:
            body["recipient"] = b  # otherwise resolved from the credit code
        started = time.monotonic()
        created = await self._call("POST", f"{self.urls[src]}/v1/requests", a, body)
        rid = created["id"]
        await self._until(dst, b, rid, "delivered")
        outcome = await self._answer((src, a), (dst, b), rid)
        took = time.monotonic() - started
        return (f"{a_name} -> {b_name}  {kind:<22} {created['recipient']['name']} {outcome}"
                f" ({took:.2f}s)")

    async def _answer(self, home: tuple[str, str], away: tuple[str, str], rid: str) -> str:
        """The recipient's side: mostly a plain answer, sometimes the longer ways."""
        (src, a), (dst, b) = home, away
        here, there = f"{self.urls[src]}/v1/requests/{rid}", f"{self.urls[dst]}/v1/requests/{rid}"
        luck = self.rng.random()
        if luck < 0.1:
            await self._call("POST", f"{there}/reject", b,
                             {"reason": "subject_not_found", "note": "查无此主体"})
            await self._until(src, a, rid, "rejected")
            return "rejected (subject not found)"
        await self._call("POST", f"{there}/accept", b)
        steps = []
        if luck < 0.3:  # more information first; the clock stops meanwhile
            await self._call("POST", f"{there}/request-info", b,
                             {"questions": "请提供网店后台截图。"})
            await self._until(src, a, rid, "info_requested")
            await self._call("POST", f"{here}/provide-info", a, {"info": "截图见附件说明。"})
            await self._until(dst, b, rid, "accepted")
            steps.append("info requested and given")
        await self._call("POST", f"{there}/reply", b, REPLY)
        await self._until(src, a, rid, "replied")
        if luck > 0.8:
            await self._call("POST", f"{here}/close", a, {"rating": 5})
            steps.append("closed, rated 5")
        return "replied" + (f" ({', '.join(steps)})" if steps else "")

    async def run(self, interval: float, say: Any) -> None:
        while True:
            try:
                say(await self.round_trip())
            except (RuntimeError, aiohttp.ClientError) as exc:
                say(f"demo round trip failed: {exc}")
            await asyncio.sleep(interval)
