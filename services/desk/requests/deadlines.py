"""The deadline watch: automatic reminders and escalation, each rule once per request.

The requester's desk chases its own outgoing requests. A rule fires at most once
per request, however many desk processes watch and however often they restart:
the firing is claimed by inserting (request, rule) into ``deadline_rule_fired`` in
the same transaction that records the reminder or sends it to the deciding desk.
Time comes from the injected clock, so tests move the clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Sequence

import asyncpg
import structlog

from protocol import workdays
from protocol.v1 import events
from services.common import outbox
from services.desk.domain.errors import Refused
from services.desk.domain.lifecycle import RUNNING, Transition
from services.desk.domain.request import Step
from services.desk.domain.workflow import china_date
from services.desk.requests import apply, outgoing
from services.desk.signing import Signer
from services.desk.store import requests

log = structlog.get_logger()
ACTOR = "xiecha deadline watch"


def rules_due(due: dt.date, today: dt.date, before_days: int, escalate_days: int) -> list[str]:
    """Which rules apply to a running request due on ``due``, as of ``today``."""
    rules = []
    if today <= due and workdays.working_days_between(today, due) <= before_days:
        rules.append("before_due")
    if today > due:
        rules.append("overdue")
    if today > workdays.add_working_days(due, escalate_days):
        rules.append("escalate")
    return rules


class DeadlineWatch:
    def __init__(
        self, pool: asyncpg.Pool, clock: Callable[[], dt.datetime], provinces: Sequence[str],
        hosts: Callable[[str], bool], before_days: int, escalate_days: int, signer: Signer,
    ) -> None:
        self.pool, self.clock, self.provinces, self.hosts = pool, clock, list(provinces), hosts
        self.signer = signer
        self.before_days, self.escalate_days = before_days, escalate_days
        self.attempts = 0
        """Transactions opened to fire a rule (a rule already fired costs none)."""

    async def tick(self) -> int:
        """Fire every rule that is due and not yet fired; returns how many fired."""
        today = china_date(self.clock())
        horizon = workdays.add_working_days(today, self.before_days)
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT r.id, r.due_date, coalesce(array_agg(f.rule) FILTER"
                " (WHERE f.rule IS NOT NULL), '{}') AS fired FROM request r"
                " LEFT JOIN deadline_rule_fired f ON f.request_id = r.id"
                " WHERE r.state = ANY($1) AND left(r.requester, 2) = ANY($2) AND r.due_date <= $3"
                " GROUP BY r.id, r.due_date",
                list(RUNNING), self.provinces, horizon,
            )
        fired = 0
        for row in rows:
            due = rules_due(row["due_date"], today, self.before_days, self.escalate_days)
            for rule in (r for r in due if r not in row["fired"]):  # fired ones: untouched
                self.attempts += 1
                fired += await self._fire(row["id"], rule)
        return fired

    async def _fire(self, request_id: uuid.UUID, rule: str) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            claimed = await conn.fetchval(
                "INSERT INTO deadline_rule_fired (request_id, rule, fired_at) VALUES ($1,$2,$3)"
                " ON CONFLICT DO NOTHING RETURNING true", request_id, rule, self.clock(),
            )
            req = await requests.get(conn, request_id, lock=True) if claimed else None
            if req is None:
                return 0
            change: events.Change = (
                events.Escalated(province=req.recipient[:2]) if rule == "escalate"
                else events.Reminded(rule=events.ReminderRule(rule))
            )
            transition = Transition.ESCALATE if rule == "escalate" else Transition.REMIND
            step = Step(transition, req.requester, ACTOR, self.clock(), change=change)
            try:
                if self.hosts(req.recipient):
                    await apply.originate(conn, self.signer, req, step)
                else:
                    await outbox.enqueue(conn, outgoing.command(req, step))
            except Refused as exc:  # the request moved on meanwhile; the claim stays
                log.info("deadline rule not applicable", rule=rule, reason=exc.message)
                return 0
            log.info("deadline rule fired", rule=rule, request_id=str(request_id))
            return 1

    async def run(self, every: float, alive: Callable[[], None] = lambda: None) -> None:
        """Tick every ``every`` seconds; a failure ends the run (its supervisor restarts it)."""
        while True:
            await self.tick()
            alive()
            await asyncio.sleep(every)
