"""JSON shapes of joint cases, and what the caller may do now."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from protocol.v1.joint import CaseState, MemberStatus, SharedFile
from protocol.v1.registry import BureauRecord
from services.desk.domain.joint import ACTIVE, Case, Role


def _bureau(code: str | None, names: dict[str, BureauRecord]) -> dict[str, Any] | None:
    if code is None:
        return None
    rec = names.get(code)
    return {"code": code, "name": rec.name if rec else None,
            "province": rec.province if rec else code[:2]}


def allowed(case: Case, bureau: str) -> list[str]:
    """The actions ``bureau`` may take on the case now (for pages and clients)."""
    role, status, state = case.role_of(bureau), case.status_of(bureau), case.state
    if state is CaseState.CLOSED:
        return ["comment"] if role is Role.SUPERVISOR else []
    if role is Role.SUPERVISOR:
        return ["comment"]
    if role is Role.LEAD:
        out = ["note", "share-evidence", "close"]
        if state is CaseState.OPEN:
            out += ["invite", "assign-task"]
        if any(m.status is MemberStatus.LEAVING for m in case.members):
            out += ["agree-leave", "refuse-leave"]
        return out
    if status is MemberStatus.INVITED:
        return ["accept", "decline"] if state is CaseState.OPEN else ["decline"]
    if status in ACTIVE:
        out = ["note", "share-evidence"]
        out += ["leave"] if status is MemberStatus.ACCEPTED else []
        if state is CaseState.CLOSING and bureau not in case.confirmed:
            out.append("confirm")
        return out
    return []


def _closing(case: Case, who: str) -> dict[str, Any]:
    """The closing summary, for those who work or supervise the case."""
    if not (case.summary and case.shows(who, "closing_proposed")):
        return {"summary": None, "confirmed": []}
    return {"summary": case.summary.model_dump(mode="json"), "confirmed": list(case.confirmed)}


def case_view(case: Case, who: str, names: dict[str, BureauRecord]) -> dict[str, Any]:
    h = case.header
    return {
        "id": str(case.id), "seq": case.seq, "state": case.state, "title": h.title,
        "subjects": [s.model_dump(mode="json", exclude_none=True) for s in h.subjects],
        "legal_basis": h.legal_basis, "aim": h.aim, "lead": _bureau(h.lead, names),
        "coordinator": h.coordinator, "supervisor": _bureau(h.supervisor, names),
        "handling": list(h.handling),
        "members": [{"bureau": _bureau(m.bureau, names), "status": m.status,
                     "reason": m.reason} for m in case.members],
        **_closing(case, who), "your_role": case.role_of(who),
        "actions": allowed(case, who),
    }


def timeline_view(rows: Sequence[asyncpg.Record]) -> list[dict[str, Any]]:
    return [{"seq": r["seq"], "event_id": str(r["event_id"]), "event": r["type"],
             "bureau": r["bureau"], "actor": r["actor"],
             "at": r["occurred_at"].isoformat(), "change": r["change"]} for r in rows]


def file_view(row: asyncpg.Record) -> dict[str, Any]:
    meta = SharedFile.model_validate(row["meta"])
    return meta.model_dump(mode="json") | {"status": row["status"]}


def refusals_view(rows: Sequence[asyncpg.Record]) -> list[dict[str, Any]]:
    return [{"command_id": str(r["command_id"]), "event": r["event"], "code": r["code"],
             "reason": r["reason"], "at": r["refused_at"].isoformat()} for r in rows]
