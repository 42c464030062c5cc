"""Who may send what: a message's sender checked against the broker-authenticated user.

The broker refuses a publish whose AMQP ``user-id`` is not the connection's own user,
so ``user-id`` names the publisher for certain. A consumer refuses (dead-letters) a
message whose envelope sender that user does not serve, and any hub-only message
(registry, undeliverable notes) that does not come from the hub. Handlers then check
the body's parties against the envelope sender.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from protocol import topology
from protocol.v1 import AnyMessage

HUB_ONLY = frozenset({"registry.published", "request.undeliverable"})
"""Message types only the hub sends."""


def sender_refusal(user_id: str | None, message: AnyMessage) -> str | None:
    """Why ``message`` published by ``user_id`` must be refused; None if it may pass."""
    if not user_id:
        return "no user-id: the publisher is not known"
    if not topology.serves(user_id, message.sender):
        return f"user {user_id} does not serve sender {message.sender}"
    if message.type in HUB_ONLY and message.sender != "hub":
        return f"only the hub sends {message.type}"
    return None


def user_of(amqp_url: str) -> str:
    """The user name in an AMQP URL (guest when there is none, as the client assumes)."""
    return unquote(urlsplit(amqp_url).username or "guest")
