"""Files follow a transferred request: the former recipient's desk sends them on.

Called in the transaction that records the transfer, so the hand-over and its files
leave together. The new recipient's desk verifies each file as any other; a file it
already has (the new recipient sits on the requester's desk) changes nothing there.
"""

from __future__ import annotations

import asyncpg

from services.common import outbox
from services.desk.attachments import outgoing, store
from services.desk.domain.request import Request


async def forward_files(conn: asyncpg.Connection, req: Request, to: str) -> int:
    """Queue every complete file of ``req`` for bureau ``to``; returns how many."""
    sender = req.recipient  # the bureau handing the request on
    files = [f for f in await store.of_request(conn, req.id) if f["complete"]]
    for f in files:
        a = store.NewAttachment(**{k: f[k] for k in store.NewAttachment.__dataclass_fields__})
        parts = await store.read_chunks(conn, f["id"], f["chunks"])
        cid = req.correlation_id
        await outbox.enqueue(conn, outgoing.offered(a, cid, to, sender=sender))
        for message in outgoing.chunks(a, parts, cid, to, sender=sender):
            await outbox.enqueue(conn, message)
    return len(files)
