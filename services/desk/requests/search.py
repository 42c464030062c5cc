"""Searching a bureau's inbox or outbox: filters compiled to one parameterised query.

Newest first with a stable keyset cursor on (created_at, id), or (for the pages) by
due date, soonest first, with a cursor on (due_date, id). The filters map onto
the indexes of deploy/migrations/desk/005_search.sql; tests/integration/test_search.py
checks the plans.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.desk.domain.lifecycle import RUNNING
from services.desk.domain.request import Request
from services.desk.domain.workflow import CHINA
from services.desk.store.requests import FIELDS, from_row


@dataclass(frozen=True)
class Filters:
    box: str  # 'inbox' or 'outbox'
    bureau: str
    state: str | None = None
    kind: str | None = None
    counterpart: str | None = None
    """The other party's bureau code."""
    counterpart_province: str | None = None
    credit_code: str | None = None
    merchant: str | None = None
    """A part of the merchant's name."""
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    overdue_on: dt.date | None = None
    """Only requests running past their due date as of this (China) day."""
    group_id: uuid.UUID | None = None


def compile_query(
    f: Filters, limit: int, after: tuple[dt.date, uuid.UUID] | None, by_due: bool = False
) -> tuple[str, list[Any]]:
    """SQL and arguments for one page of the box ``f`` describes."""
    me, other = ("recipient", "requester") if f.box == "inbox" else ("requester", "recipient")
    args: list[Any] = [f.bureau]
    where = [f"{me} = $1"]

    def add(clause: str, value: Any) -> None:
        args.append(value)
        where.append(clause.replace("?", f"${len(args)}"))

    optional = [
        ("state = ?", f.state), ("kind = ?", f.kind), (f"{other} = ?", f.counterpart),
        (f"left({other}, 2) = ?", f.counterpart_province), ("credit_code = ?", f.credit_code),
        ("merchant_name ILIKE ?", _contains(f.merchant)), ("group_id = ?", f.group_id),
        ("created_at >= ?", _start_of(f.created_from)),
        ("created_at < ?", _start_of(f.created_to + dt.timedelta(days=1))
         if f.created_to else None),
    ]
    for clause, value in optional:
        if value is not None:
            add(clause, value)
    if f.overdue_on is not None:
        add("state = ANY(?)", list(RUNNING))
        add("due_date < ?", f.overdue_on)
    key, before, order = (("due_date, id", ">", "due_date, id") if by_due
                          else ("created_at, id", "<", "created_at DESC, id DESC"))
    if after is not None:
        add(f"({key}) {before} (?", after[0])
        add("?)", after[1])
        where[-2:] = [f"{where[-2]}, {where[-1]}"]
    args.append(limit)
    sql = (f"SELECT {FIELDS} FROM request WHERE {' AND '.join(where)}"
           f" ORDER BY {order} LIMIT ${len(args)}")
    return sql, args


def _contains(text: str | None) -> str | None:
    if text is None:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _start_of(day: dt.date | None) -> dt.datetime | None:
    """Midnight in China at the start of ``day``."""
    return None if day is None else dt.datetime.combine(day, dt.time(), CHINA)


async def search(
    conn: asyncpg.Connection, f: Filters, limit: int,
    after: tuple[dt.date, uuid.UUID] | None, by_due: bool = False,
) -> list[Request]:
    sql, args = compile_query(f, limit, after, by_due)
    return [from_row(r) for r in await conn.fetch(sql, *args)]
