"""The routing-key scheme: the only place that spells exchange names and keys.

Keys carry the protocol version, the destination's province and bureau, and the
message type, e.g. ``v1.desk.51.510104.request.submitted``. A desk binds the
provinces it hosts (``v1.desk.51.#``), so a region can later move to a broker of
its own by federating exactly those keys.
"""

from __future__ import annotations

from typing import Final

VERSION: Final = "v1"

DESK_EXCHANGE: Final = "xiecha.v1.desk"
"""Topic exchange for messages addressed to a bureau (its desk takes them)."""
HUB_EXCHANGE: Final = "xiecha.v1.hub"
"""Topic exchange for messages addressed to the hub (events, registry requests)."""
REGISTRY_EXCHANGE: Final = "xiecha.v1.registry"
"""Fanout exchange: the hub's registry broadcasts, one copy per desk."""
UNROUTABLE_EXCHANGE: Final = "xiecha.v1.unroutable"
"""Alternate exchange of DESK_EXCHANGE: what no desk binds lands here."""
DEAD_LETTER_EXCHANGE: Final = "xiecha.v1.dlx"
"""Direct exchange; a queue's dead letters are routed by the queue's own name."""

HUB_EVENTS_QUEUE: Final = "xiecha.v1.hub.events"
HUB_UNROUTABLE_QUEUE: Final = "xiecha.v1.hub.unroutable"


def desk_key(bureau: str, message_type: str) -> str:
    """Routing key of a message for ``bureau``: ``v1.desk.<province>.<bureau>.<type>``."""
    return f"{VERSION}.desk.{bureau[:2]}.{bureau}.{message_type}"


def hub_key(source: str, message_type: str) -> str:
    """Routing key of a message for the hub from bureau or desk ``source``."""
    scope = f"{source[:2]}.{source}" if source.isdigit() else f"desk.{source.removeprefix('desk.')}"
    return f"{VERSION}.hub.{scope}.{message_type}"


def hub_binding() -> str:
    """Binding pattern by which the hub takes every message addressed to it."""
    return f"{VERSION}.hub.#"


def registry_key() -> str:
    return f"{VERSION}.registry.published"


def desk_binding(province: str) -> str:
    """Binding pattern by which a desk takes every message for a province it hosts."""
    return f"{VERSION}.desk.{province}.#"


def desk_inbox_queue(region: str) -> str:
    return f"xiecha.v1.desk.{region}.inbox"


def desk_registry_queue(region: str) -> str:
    return f"xiecha.v1.desk.{region}.registry"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


JOINT_DESK_TYPES: Final = ("joint.event", "joint.command", "joint.command_refused",
                           "joint.file_chunk")
"""Joint-case messages between desks. Like requests they are addressed to a bureau, so
``desk_key`` routes them (``v1.desk.51.510107.joint.event`` reaches Sichuan's desk);
``joint.recorded`` goes to the hub (``hub_key``)."""

ALL_DESKS: Final = "desk.all"
"""Recipient address of broadcasts to every desk."""


def route(sender: str, recipient: str, message_type: str) -> tuple[str, str]:
    """(exchange, routing key) of a message, decided by its recipient address alone."""
    if recipient.isdigit():
        return DESK_EXCHANGE, desk_key(recipient, message_type)
    if recipient == "hub":
        return HUB_EXCHANGE, hub_key(sender, message_type)
    if recipient == ALL_DESKS:
        return REGISTRY_EXCHANGE, registry_key()
    raise ValueError(f"no route to recipient {recipient!r}")
