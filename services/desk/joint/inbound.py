"""What a desk does with joint-case messages (in the consumer's transaction, once per id).

``joint.command`` (at the lead's desk): the change is decided like one made here, under
the command's id, so a command that comes twice is made once; one the case no longer
allows is refused: ``joint.command_refused`` goes back to the asking bureau's desk,
which keeps the reason for its view (a command no participant could send, from a bureau
outside the case, is dead-lettered instead). ``joint.event`` (at a participant's
desk): the timeline entry is stored once per seq, and the case copy is replaced only
by a newer one, so events that overtake each other or come twice converge on the
lead's copy. ``joint.file_chunk``: see ``files.on_chunk``.
"""

from __future__ import annotations

import asyncpg
import structlog

from protocol.errors import ErrorCode
from protocol.v1.messages import JointCommand, JointCommandRefused, JointEvent, JointFileChunk
from services.common import outbox
from services.common.handling import Dispatcher, MessageEarly
from services.desk.context import Desk
from services.desk.domain.errors import Refused
from services.desk.domain.joint import Case, Step
from services.desk.joint import decide, files, outgoing, store

log = structlog.get_logger()


def register(bus: Dispatcher, desk: Desk) -> None:
    async def on_command(conn: asyncpg.Connection, msg: JointCommand) -> None:
        await command(conn, desk, msg)

    async def on_chunk(conn: asyncpg.Connection, msg: JointFileChunk) -> None:
        await files.on_chunk(conn, desk, msg)

    bus.register(JointCommand, on_command)
    bus.register(JointEvent, event)
    bus.register(JointCommandRefused, refused)
    bus.register(JointFileChunk, on_chunk)


async def command(conn: asyncpg.Connection, desk: Desk, msg: JointCommand) -> None:
    b = msg.body
    case = await store.get(conn, b.case_id, lock=True)
    if case is None:
        raise MessageEarly(f"command for joint case {b.case_id} that is not here (yet)")
    if case.lead != msg.recipient or not desk.hosts(case.lead):
        raise Refused(ErrorCode.HANDLER_REFUSED, f"{msg.recipient} does not lead this case")
    if await store.has_event(conn, b.command_id):
        log.info("joint command already made", command_id=str(b.command_id))
        return
    step = Step(msg.sender, b.actor, b.issued_at, b.change, event_id=b.command_id)
    try:
        async with conn.transaction():  # savepoint: a refusal leaves nothing half-done
            await decide.originate(conn, desk, case, step, msg.correlation_id)
    except Refused as exc:
        if exc.code is ErrorCode.FORBIDDEN:  # no participant asks this: dead-letter it
            raise
        refusal = outgoing.command_refused(case, msg, exc.code, exc.message, desk.clock())
        await outbox.enqueue(conn, refusal)
        log.info("joint command refused", command_id=str(b.command_id), code=exc.code)


async def refused(conn: asyncpg.Connection, msg: JointCommandRefused) -> None:
    """The lead's desk did not make a change this desk asked for: keep why, once."""
    case = await store.get(conn, msg.body.case_id)
    if case is None or msg.sender != case.lead:
        raise Refused(ErrorCode.FORBIDDEN, "only the case's lead refuses its commands")
    await store.add_refusal(conn, msg.recipient, msg.body)


async def event(conn: asyncpg.Connection, msg: JointEvent) -> None:
    b = msg.body
    if msg.sender != b.case.header.lead:
        raise Refused(ErrorCode.FORBIDDEN, "only the lead's desk decides a joint case")
    old = await store.get(conn, b.case_id)
    if old is not None and old.lead != msg.sender:
        raise Refused(ErrorCode.FORBIDDEN, "the case has another lead here")
    case = Case.of(b.case_id, b.seq, b.case)
    if old is None:  # the timeline's rows need the case's
        await store.save(conn, case, msg.correlation_id, b.occurred_at)
    entry = b.model_dump(mode="json", exclude={"case", "case_id"})
    new = await store.add_entry(conn, b.case_id, entry | {"event_id": b.event_id,
                                                          "occurred_at": b.occurred_at})
    kept = await store.save(conn, case, msg.correlation_id, b.occurred_at)
    log.info("joint event applied", seq=b.seq, new=new, newest=kept)
