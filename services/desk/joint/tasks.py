"""Tasks of a joint case: assistance requests of today's kinds from the lead to members.

A task is an ordinary request (own deadline, workflow, reminders and escalation), sent
in the same transaction as the case's ``task_assigned`` entry and linked to the case at
the lead's desk, where ``progress`` sums them up per member.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

import asyncpg

from protocol.errors import ErrorCode
from protocol.v1 import joint as j
from protocol.v1.content import RequestContent
from protocol.v1.types import BureauCode
from services.desk.context import Desk
from services.desk.domain.errors import Refused
from services.desk.domain.joint import Case, Step
from services.desk.domain.lifecycle import ANSWERED, ENDED
from services.desk.joint import decide, store
from services.desk.joint.usecases import visible
from services.desk.store.investigators import Investigator


class AssignTask(RequestContent):
    """The request the task is, and the member it goes to."""

    assignee: BureauCode


async def assign(desk: Desk, who: Investigator, case_id: uuid.UUID, cmd: AssignTask,
                 cid: str) -> tuple[Case, uuid.UUID]:
    """Send the task's request and put it on the timeline; (case, request id)."""
    if desk.submit_request is None:
        raise Refused(ErrorCode.HANDLER_REFUSED, "this desk cannot send requests")
    async with desk.pool.acquire() as conn, conn.transaction():
        case = await visible(conn, who, case_id, lock=True)
        if not desk.hosts(case.lead) or who.bureau != case.lead:
            raise Refused(ErrorCode.FORBIDDEN, "only the lead assigns tasks")
        handling = tuple(dict.fromkeys((*case.header.handling, *cmd.handling)))
        content = RequestContent.model_validate(
            cmd.model_dump(mode="json", exclude={"assignee"}) | {"handling": handling})
        req = await desk.submit_request(desk, conn, who, cmd.assignee, content, cid)
        task = j.Task(request_id=req.id, assignee=cmd.assignee, kind=content.kind,
                      due_date=req.due_date.isoformat())
        case = await decide.originate(conn, desk, case, Step(
            who.bureau, who.name, desk.clock(), j.TaskAssigned(task=task)), cid)
        await store.add_task(conn, case_id, req.id, cmd.assignee)
        return case, req.id


def progress(rows: list[asyncpg.Record], today: dt.date) -> dict[str, dict[str, Any]]:
    """Per member: tasks done (answered), pending, of them overdue, and ended otherwise."""
    out: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"done": 0, "pending": 0, "overdue": 0, "ended": 0, "tasks": []})
    for r in rows:
        mine = out[r["assignee"]]
        if r["state"] in ANSWERED:
            mine["done"] += 1
        elif r["state"] in ENDED:
            mine["ended"] += 1
        else:
            mine["pending"] += 1
            mine["overdue"] += r["due_date"] < today
        mine["tasks"].append({"request_id": str(r["request_id"]), "kind": r["kind"],
                              "state": r["state"], "due_date": r["due_date"].isoformat()})
    return dict(out)
