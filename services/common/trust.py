"""Who may send what: a message's sender checked against the broker-authenticated user.

The broker refuses a publish whose AMQP ``user-id`` is not the connection's own user,
so ``user-id`` names the publisher for certain. A consumer refuses (dead-letters) a
message whose envelope sender that user does not serve, and any hub-only message
(registry, undeliverable notes) that does not come from the hub. Handlers then check
the body's parties against the envelope sender.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit, urlunsplit

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


def vhost_of(amqp_url: str) -> str:
    return unquote(urlsplit(amqp_url).path.lstrip("/")) or "/"


def service_url(amqp_url: str, user: str, password: str) -> str:
    """``amqp_url`` (host, port, vhost) with ``user`` and ``password`` instead."""
    parts = urlsplit(amqp_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def own_url(amqp_url: str, password: str, owner: str, region: str = "",
            provinces: Iterable[str] = ()) -> str:
    """``amqp_url`` as the service's own broker user when ``password`` is set (the name
    follows from the service, see ``protocol.topology.user_name``), else unchanged."""
    if not password:
        return amqp_url
    user = topology.user_name(owner, region, provinces, vhost_of(amqp_url))
    return service_url(amqp_url, user, password)
