"""This desk's SM2 signatures of what it decides, and the check of what other desks sent.

A change another desk decided (``request.event``, ``request.submitted``) is applied only
if its body carries a valid signature of the desk serving its sender, by the public key
the hub's registry lists for that desk; otherwise it is refused (dead-lettered
``signature_invalid``). The seal is then kept with the timeline entry, so the history
proves later who decided what (``verify``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import asyncpg
from pydantic import BaseModel

from protocol.errors import ErrorCode
from protocol.v1 import RequestEvent, RequestSubmitted
from protocol.v1.chain import signed_body
from services.common import sm2
from services.desk.domain.errors import Refused
from services.desk.domain.seal import Seal
from services.desk.store import desk_keys

M = TypeVar("M", RequestEvent, RequestSubmitted)


@dataclass(frozen=True)
class Signer:
    """This desk's key: signs its own entries and the bodies of the changes it sends."""

    region: str
    key: sm2.KeyPair

    def __call__(self, entry: bytes) -> Seal:
        """The seal of an entry that never leaves this desk: its own fields, signed."""
        return Seal(self.region, entry, self.key.sign(entry))

    def message(self, message: M) -> tuple[M, Seal]:
        """``message`` with its body signed, and the seal for the entry it carries."""
        statement = signed_body(message.body)
        signature = self.key.sign(statement)
        body = message.body.model_copy(update={"signature": signature.hex()})
        return message.model_copy(update={"body": body}), Seal(self.region, statement, signature)


async def check(conn: asyncpg.Connection, sender: str, body: BaseModel) -> Seal:
    """The seal of ``body`` sent by ``sender``'s desk, or ``Refused`` if it is not valid."""
    serving = await desk_keys.serving(conn, sender)
    if serving is None:
        raise Refused(ErrorCode.SIGNATURE_INVALID,
                      f"no public key of a desk serving {sender} in the registry")
    region, public_key = serving
    signature = getattr(body, "signature", None)
    if not signature:
        raise Refused(ErrorCode.SIGNATURE_INVALID, f"unsigned change from {sender}")
    statement = signed_body(body)
    if not sm2.verify(public_key, statement, bytes.fromhex(signature)):
        raise Refused(ErrorCode.SIGNATURE_INVALID,
                      f"the signature does not verify with desk {region}'s key")
    return Seal(region, statement, bytes.fromhex(signature))
