"""What every use case of the desk works with: its database, clock, registry and rules.

Built once by the app factory; the features take it instead of reaching for globals.
Hooks let one feature take part in another's transaction without either importing the
other: the evidence files follow a transfer, bulk items forbid one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from protocol.v1.content import RequestContent
from protocol.v1.registry import BureauRecord
from services.desk.domain import privacy
from services.desk.domain.request import Request
from services.desk.domain.workflow import china_date
from services.desk.registry import RegistryCache
from services.desk.signing import Signer
from services.desk.store.investigators import Investigator

Clock = Callable[[], dt.datetime]
TransferHook = Callable[[asyncpg.Connection, Request, str], Awaitable[object]]
"""Called in the transaction of a transfer, with the request as it was and the new
recipient; ``before_transfer`` hooks may refuse it, ``after_transfer`` hooks follow it."""
RequestSubmit = Callable[
    ["Desk", asyncpg.Connection, Investigator, str, RequestContent, str], Awaitable[Request]]
"""Sends a new request from ``who`` to a bureau in the caller's transaction (a joint
case's task is one): desk, connection, who, recipient, content, correlation id."""
EvidenceCheck = Callable[[str | None, bytes], tuple[str, str]]
"""An uploaded file's name header and bytes -> (file name, media type), or ``Refused``."""


@dataclass
class Desk:
    pool: asyncpg.Pool
    clock: Clock
    registry: RegistryCache
    limits: dict[str, int]
    hosts: Callable[[str], bool]
    """Whether a bureau's requests are kept by this desk (it hosts the bureau's province)."""
    signer: Signer
    """This desk's SM2 key: every timeline entry it decides is signed with it."""
    before_transfer: list[TransferHook] = field(default_factory=list)
    after_transfer: list[TransferHook] = field(default_factory=list)
    submit_request: RequestSubmit | None = None
    evidence_check: EvidenceCheck | None = None
    hide_after: dt.timedelta = privacy.HIDE_AFTER
    """Personal data of a request ended this long ago is hidden from investigators."""

    def hidden(self, req: Request) -> bool:
        """Whether ``req``'s personal data is hidden from investigators by now."""
        return privacy.is_hidden(req, self.clock(), self.hide_after)

    def today(self) -> dt.date:
        """Today in China, where deadlines are counted."""
        return china_date(self.clock())

    async def names(self) -> dict[str, BureauRecord]:
        async with self.pool.acquire() as conn:
            return await self.registry.current(conn)
