"""Checking a request's history: ``python -m services.desk verify REQUEST_ID``.

Here: the timeline's hash chain (``domain.chain``) and every entry's SM2 signature, by
the public key of the desk that signed it, over a statement that says what the entry
says (``domain.seal``). Against the other party's desk: this desk sends
``chain.requested`` through its outbox, the other desk answers ``chain.answered`` with
its own chain (each entry's digest) and its own verdict, and the two are compared
entry by entry; the first that differs is named.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence

import asyncpg

from protocol.errors import ErrorCode
from protocol.v1.chain import ChainEntry
from protocol.v1.messages import ChainAnswered, ChainRequested
from services.common import outbox, sm2
from services.common.handling import Dispatcher
from services.desk.domain import chain, seal
from services.desk.domain.errors import Refused
from services.desk.store import chain as chain_store
from services.desk.store import requests


async def verify_request(conn: asyncpg.Connection, request_id: uuid.UUID) -> tuple[bool, str]:
    """(intact, verdict); the verdict names the first entry that does not chain or whose
    signature does not hold."""
    rows = await chain_store.sealed(conn, request_id)  # one read: entries and their seals
    if not rows:
        return False, f"request {request_id}: no chained timeline on this desk"
    entries = [entry for entry, _ in rows]
    broken = chain.verify(entries) or unsealed(rows, await chain_store.public_keys(conn))
    if broken is None:
        algorithms = ", ".join(sorted({e.algorithm for e in entries}))
        return True, (f"request {request_id}: {len(entries)} entries, chain intact"
                      f" ({algorithms}), signatures valid")
    return False, (f"request {request_id}: entry {broken.position} ({broken.type},"
                   f" event {broken.event_id}) fails: {broken.why}")


def unsealed(rows: Sequence[tuple[chain.Stored, chain_store.StoredSeal]],
             keys: dict[str, bytes]) -> chain.Broken | None:
    """The first entry whose seal does not vouch for it. Entries chained before signatures
    existed may be unsigned; once one is signed, every later one must be."""
    signed_before = False
    for e, s in rows:
        why = None
        if s.signature is None or s.statement is None or s.by is None:
            why = "it is not signed, though an entry before it is" if signed_before else None
        elif (key := keys.get(s.by)) is None:
            why = f"no public key of desk {s.by}, which signed it"
        elif not sm2.verify(key, s.statement, s.signature):
            why = f"its signature does not verify with desk {s.by}'s key"
        else:
            why = seal.disagreement(e.entry, s.statement)
            signed_before = True
        if why:
            return chain.Broken(e.position, str(e.entry.get("event_id")),
                                str(e.entry.get("type")), why)
    return None


async def ask(conn: asyncpg.Connection, request_id: uuid.UUID, hosts: Callable[[str], bool],
              now: dt.datetime) -> uuid.UUID | str:
    """Ask the other party's desk for its chain (sent by the running desk's relay); the
    check's id, or why there is nobody to ask."""
    req = await requests.get(conn, request_id)
    if req is None:
        return f"request {request_id}: not on this desk"
    if hosts(req.requester) == hosts(req.recipient):
        return f"request {request_id}: both parties are on this desk, nothing to compare"
    ours, theirs = ((req.requester, req.recipient) if hosts(req.requester)
                    else (req.recipient, req.requester))
    check_id = uuid.uuid4()
    await conn.execute("INSERT INTO chain_check (check_id, request_id, asked_of, asked_at)"
                       " VALUES ($1, $2, $3, $4)", check_id, request_id, theirs, now)
    await outbox.enqueue(conn, ChainRequested(
        correlation_id=req.correlation_id, sender=ours, recipient=theirs,
        body={"check_id": check_id, "request_id": request_id}))
    return check_id


async def compared(conn: asyncpg.Connection, check_id: uuid.UUID) -> tuple[bool, str] | None:
    """(same, verdict) once the other desk has answered check ``check_id``, else None."""
    row = await conn.fetchrow("SELECT request_id, answer FROM chain_check WHERE check_id = $1"
                              " AND answered_at IS NOT NULL", check_id)
    if row is None:
        return None
    answer = ChainAnswered.model_validate(row["answer"]).body
    ours = chain.summary(await chain_store.stored(conn, row["request_id"]))
    if not answer.intact:
        return False, f"the other desk's own check fails: {answer.verdict}"
    if why := chain.first_difference(ours, answer.entries):
        return False, f"the chains differ: {why}"
    return True, f"the other desk holds the same {len(answer.entries)}-entry history"


def register(bus: Dispatcher, clock: Callable[[], dt.datetime]) -> None:
    """Answer the other party's desk with this desk's chain; keep the answers it sends."""

    async def on_requested(conn: asyncpg.Connection, msg: ChainRequested) -> None:
        req = await requests.get(conn, msg.body.request_id)
        parties = (req.requester, req.recipient, *req.transferred_from) if req else ()
        if req is not None and (msg.sender not in parties or msg.recipient not in parties):
            raise Refused(ErrorCode.FORBIDDEN, "only a party's desk asks for its chain")
        entries: list[ChainEntry] = []
        intact, verdict = False, f"request {msg.body.request_id}: not on this desk"
        if req is not None:
            intact, verdict = await verify_request(conn, req.id)
            entries = chain.summary(await chain_store.stored(conn, req.id))
        await outbox.enqueue(conn, ChainAnswered(
            correlation_id=msg.correlation_id, sender=msg.recipient, recipient=msg.sender,
            body={"check_id": msg.body.check_id, "request_id": msg.body.request_id,
                  "entries": entries, "intact": intact, "verdict": verdict[:500]}))

    async def on_answered(conn: asyncpg.Connection, msg: ChainAnswered) -> None:
        kept = await conn.fetchval(
            "UPDATE chain_check SET answer = $4, answered_at = $5 WHERE check_id = $1"
            " AND request_id = $2 AND asked_of = $3 AND answered_at IS NULL RETURNING true",
            msg.body.check_id, msg.body.request_id, msg.sender, msg.model_dump(mode="json"),
            clock())
        if not kept:
            raise Refused(ErrorCode.FORBIDDEN, "no such question was asked of this bureau")

    bus.register(ChainRequested, on_requested)
    bus.register(ChainAnswered, on_answered)
