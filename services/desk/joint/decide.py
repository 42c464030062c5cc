"""Where a change of a joint case is made: at the lead's desk, numbered, and sent on.

``originate`` runs in the caller's transaction at the desk hosting the lead bureau: it
decides the change with the pure rules, gives it the next ``seq``, stores the case and
the timeline entry, and queues in the same transaction (outbox) the ``joint.event`` for
every other participant's desk, the hub's counts, and what a change brings with it
(the earlier timeline and evidence for a member that just accepted, the file for the
others when evidence is shared). ``ask`` is the participant's side: decided at once if
this desk hosts the lead too, else checked against the local copy and sent as a
``joint.command``.
"""

from __future__ import annotations

from dataclasses import replace

import asyncpg

from protocol.v1 import joint as j
from services.common import outbox
from services.desk.context import Desk
from services.desk.domain import joint
from services.desk.domain.joint import Case, Step
from services.desk.joint import outgoing, store


async def originate(conn: asyncpg.Connection, desk: Desk, before: Case | None, step: Step,
                    cid: str, opened: Case | None = None) -> Case:
    """Decide, number, record and send one change (``before`` is None when opening)."""
    if before is None:
        assert opened is not None
        after = opened
    else:
        after = joint.decide(before, step.bureau, step.change)
    step = replace(step, seq=(before.seq if before else 0) + 1)
    after = replace(after, seq=step.seq)
    await store.save(conn, after, cid, step.at)
    await store.add_entry(conn, after.id, step.body(after.id))
    reached = (before.reached() if before else set()) | after.reached()
    for bureau in sorted(reached):
        if not desk.hosts(bureau) and after.shows(bureau, step.change.event):
            await outbox.enqueue(conn, outgoing.event(after, step, bureau, cid))
    counts = joint.counts(before, after, step.bureau, step.change)
    for message in outgoing.recorded(after, step, counts, cid):
        await outbox.enqueue(conn, message)
    await _follow(conn, desk, after, step, cid)
    return after


async def _follow(conn: asyncpg.Connection, desk: Desk, case: Case, step: Step,
                  cid: str) -> None:
    match step.change:
        case j.Accepted() if not desk.hosts(step.bureau):
            await _catch_up(conn, case, step, cid)
        case j.EvidenceShared(file=meta):
            data = b"".join(await store.chunks_of(conn, meta.file_id))
            for bureau in sorted(case.readers() - {meta.shared_by}):
                if not desk.hosts(bureau):
                    for message in outgoing.file_chunks(case.id, meta, data, case.lead,
                                                        bureau, cid):
                        await outbox.enqueue(conn, message)


async def _catch_up(conn: asyncpg.Connection, case: Case, step: Step, cid: str) -> None:
    """A member that accepted gets what was shared before: the timeline and the files."""
    for row in await store.timeline(conn, case.id, below=step.seq):
        entry = {"event_id": row["event_id"], "seq": row["seq"], "bureau": row["bureau"],
                 "occurred_at": row["occurred_at"], "actor": row["actor"],
                 "change": row["change"]}
        await outbox.enqueue(conn, outgoing.replayed(case, entry, step.bureau, cid))
    for row in await store.files(conn, case.id):
        meta = j.SharedFile.model_validate(row["meta"])
        if row["status"] == "complete" and meta.shared_by != step.bureau:
            data = b"".join(await store.chunks_of(conn, meta.file_id))
            for message in outgoing.file_chunks(case.id, meta, data, case.lead,
                                                step.bureau, cid):
                await outbox.enqueue(conn, message)


async def ask(conn: asyncpg.Connection, desk: Desk, case: Case, step: Step,
              cid: str) -> tuple[Case, bool]:
    """A participant's change: (case, pending) where pending means sent to the lead."""
    if desk.hosts(case.lead):
        return await originate(conn, desk, case, step, cid), False
    joint.decide(case, step.bureau, step.change)  # refuse at once what the lead would
    await outbox.enqueue(conn, outgoing.command(case, step, cid))
    return case, True
