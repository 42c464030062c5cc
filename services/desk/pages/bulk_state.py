"""What the request page shows of bulk items: the counts, and which bulk forms to offer."""

from __future__ import annotations

from aiohttp import web

from services.common.http import correlation_id
from services.desk.bulk import usecases
from services.desk.bulk.usecases import ANSWERABLE, CLOSED_TO_ITEMS
from services.desk.domain.lifecycle import Party
from services.desk.domain.request import Request
from services.desk.sessions.store import Session
from services.desk.web import DESK


def offers(req: Request, party: Party | None) -> dict[str, bool]:
    """Which bulk forms the caller's side gets now."""
    return {"add": party is Party.REQUESTER and req.state not in CLOSED_TO_ITEMS,
            "answer": party is Party.RECIPIENT and req.state in ANSWERABLE}


async def counts(request: web.Request, session: Session, req: Request) -> dict[str, int]:
    _, by_status = await usecases.items(request.app[DESK], session.who, req.id, status=None,
                                        limit=1, cid=correlation_id(request))
    return by_status
