"""SQL of joint cases: the case copy, its timeline, its tasks and its evidence files."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import asyncpg

from protocol.v1 import joint as j
from services.desk.domain.joint import Case
from services.desk.store.investigators import Investigator


def _row_case(row: asyncpg.Record) -> Case:
    return Case.of(row["id"], row["seq"], j.CaseSnapshot.model_validate(row["snapshot"]))


async def get(conn: asyncpg.Connection, case_id: uuid.UUID, lock: bool = False) -> Case | None:
    sql = "SELECT id, seq, snapshot FROM joint_case WHERE id = $1"
    row = await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), case_id)
    return _row_case(row) if row else None


async def correlation(conn: asyncpg.Connection, case_id: uuid.UUID) -> str:
    return str(await conn.fetchval("SELECT correlation_id FROM joint_case WHERE id = $1",
                                   case_id))


async def save(conn: asyncpg.Connection, case: Case, cid: str, at: dt.datetime) -> bool:
    """Keep ``case`` unless a newer copy (higher seq) is here; True if it was kept.

    A desk hosting two bureaus of a case gets one copy of each event per bureau, with
    the closing summary left out for a bureau that does not work the case: of copies
    with the same seq, the one with the summary stays."""
    snap = case.snapshot().model_dump(mode="json")
    members = [m.bureau for m in case.members]
    kept = await conn.fetchval(
        "INSERT INTO joint_case (id, lead, supervisor, state, seq, snapshot, members,"
        " correlation_id, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9)"
        " ON CONFLICT (id) DO UPDATE SET state = $4, seq = $5, snapshot = $6,"
        " members = $7, updated_at = $9 WHERE joint_case.seq < $5 OR (joint_case.seq = $5"
        " AND joint_case.snapshot -> 'summary' = 'null'::jsonb) RETURNING true",
        case.id, case.lead, case.header.supervisor, case.state, case.seq, snap, members,
        cid, at,
    )
    return bool(kept)


async def add_entry(conn: asyncpg.Connection, case_id: uuid.UUID, body: dict[str, Any]) -> bool:
    """A timeline entry, once per seq; False if it was already there."""
    return bool(await conn.fetchval(
        "INSERT INTO joint_entry (case_id, seq, event_id, type, bureau, actor, occurred_at,"
        " change) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING RETURNING true",
        case_id, body["seq"], body["event_id"], body["change"]["event"], body["bureau"],
        body["actor"], body["occurred_at"], body["change"],
    ))


async def has_event(conn: asyncpg.Connection, event_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM joint_entry WHERE event_id = $1",
                                    event_id))


async def timeline(conn: asyncpg.Connection, case_id: uuid.UUID,
                   below: int | None = None) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT seq, event_id, type, bureau, actor, occurred_at, change FROM joint_entry"
        " WHERE case_id = $1 AND ($2::int IS NULL OR seq < $2) ORDER BY seq",
        case_id, below,
    ))


async def of_bureau(conn: asyncpg.Connection, bureau: str, limit: int) -> list[Case]:
    rows = await conn.fetch(
        "SELECT id, seq, snapshot FROM joint_case WHERE lead = $1 OR supervisor = $1"
        " OR members @> ARRAY[$1::text] ORDER BY updated_at DESC, id LIMIT $2",
        bureau, limit,
    )
    return [_row_case(r) for r in rows]


async def add_refusal(conn: asyncpg.Connection, bureau: str,
                      body: j.JointCommandRefusedBody) -> None:
    await conn.execute(
        "INSERT INTO joint_refusal (command_id, case_id, bureau, event, code, reason,"
        " refused_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        body.command_id, body.case_id, bureau, body.event, body.code, body.reason,
        body.refused_at,
    )


async def refusals(conn: asyncpg.Connection, case_id: uuid.UUID,
                   bureau: str) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        "SELECT command_id, event, code, reason, refused_at FROM joint_refusal"
        " WHERE case_id = $1 AND bureau = $2 ORDER BY refused_at", case_id, bureau))


# --- tasks ------------------------------------------------------------------------


async def add_task(conn: asyncpg.Connection, case_id: uuid.UUID, request_id: uuid.UUID,
                   assignee: str) -> None:
    await conn.execute("INSERT INTO joint_task (request_id, case_id, assignee)"
                       " VALUES ($1, $2, $3)", request_id, case_id, assignee)


async def task_states(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[asyncpg.Record]:
    """Each task of the case with the state and due date of its request."""
    return list(await conn.fetch(
        "SELECT t.request_id, t.assignee, r.state, r.due_date, r.kind FROM joint_task t"
        " JOIN request r ON r.id = t.request_id WHERE t.case_id = $1 ORDER BY r.created_at",
        case_id,
    ))


# --- evidence files ---------------------------------------------------------------


async def add_file(conn: asyncpg.Connection, case_id: uuid.UUID, meta: j.SharedFile,
                   chunks: int, at: dt.datetime) -> bool:
    """The file's row, once; False if it was already known."""
    return bool(await conn.fetchval(
        "INSERT INTO joint_file (id, case_id, meta, chunks, status, created_at)"
        " VALUES ($1, $2, $3, $4, 'receiving', $5) ON CONFLICT DO NOTHING RETURNING true",
        meta.file_id, case_id, meta.model_dump(mode="json"), chunks, at,
    ))


async def add_chunk(conn: asyncpg.Connection, file_id: uuid.UUID, idx: int, data: bytes) -> None:
    await conn.execute("INSERT INTO joint_file_chunk (file_id, idx, data) VALUES ($1, $2, $3)"
                       " ON CONFLICT DO NOTHING", file_id, idx, data)


async def lock_file(conn: asyncpg.Connection, file_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT id, case_id, meta, chunks, status, shared FROM joint_file"
                               " WHERE id = $1 FOR UPDATE", file_id)


async def chunks_of(conn: asyncpg.Connection, file_id: uuid.UUID) -> list[bytes]:
    rows = await conn.fetch("SELECT data FROM joint_file_chunk WHERE file_id = $1"
                            " ORDER BY idx", file_id)
    return [bytes(r["data"]) for r in rows]


async def settle_file(conn: asyncpg.Connection, file_id: uuid.UUID, status: str) -> None:
    await conn.execute("UPDATE joint_file SET status = $2 WHERE id = $1", file_id, status)


async def mark_shared(conn: asyncpg.Connection, file_id: uuid.UUID) -> bool:
    """Claim the file's timeline entry; False if it has one already."""
    return bool(await conn.fetchval(
        "UPDATE joint_file SET shared = true WHERE id = $1 AND NOT shared RETURNING true",
        file_id))


async def file(conn: asyncpg.Connection, case_id: uuid.UUID,
               file_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT meta, chunks, status FROM joint_file"
                               " WHERE id = $1 AND case_id = $2", file_id, case_id)


async def files(conn: asyncpg.Connection, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT id, meta, chunks, status FROM joint_file"
                                 " WHERE case_id = $1 ORDER BY created_at, id", case_id))


def intact(parts: list[bytes], meta: j.SharedFile, chunks: int) -> bool:
    """All chunks in, and the whole matches its size and SHA-256."""
    if len(parts) != chunks:
        return False
    data = b"".join(parts)
    return len(data) == meta.size and hashlib.sha256(data).hexdigest() == meta.sha256


async def audit(conn: asyncpg.Connection, who: Investigator, action: str,
                case_id: uuid.UUID, cid: str) -> None:
    """One ``audit_log`` row for a joint case, in the caller's transaction."""
    await conn.execute(
        "INSERT INTO audit_log (investigator_id, bureau, action, joint_case_id,"
        " correlation_id) VALUES ($1, $2, $3, $4, $5)",
        who.id, who.bureau, action, case_id, cid,
    )


async def version(conn: asyncpg.Connection, case_id: uuid.UUID, bureau: str) -> str:
    """Changes whenever what ``bureau`` sees of the case does: a new entry (seq), a file
    settled, a refusal, a task's request moving (at the lead's desk). Indexed reads only."""
    row = await conn.fetchrow(
        "SELECT c.seq, c.updated_at,"
        " (SELECT count(*) FROM joint_file f WHERE f.case_id = c.id"
        "  AND f.status <> 'receiving') AS files,"
        " (SELECT count(*) FROM joint_refusal r WHERE r.case_id = c.id"
        "  AND r.bureau = $2) AS refused,"
        " (SELECT max(q.updated_at) FROM joint_task t JOIN request q ON q.id = t.request_id"
        "  WHERE t.case_id = c.id) AS tasks"
        " FROM joint_case c WHERE c.id = $1", case_id, bureau)
    if row is None:
        return ""
    tasks = row["tasks"].timestamp() if row["tasks"] else 0
    return (f"{row['seq']}-{row['updated_at'].timestamp()}-{row['files']}-{row['refused']}"
            f"-{tasks}")
