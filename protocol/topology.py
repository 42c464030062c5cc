"""xiecha's RabbitMQ topology as plain values, every name taken from ``routing``.

The one source of exchanges, queues, their arguments and policies. Services declare
it (``services/common/topology.py``); ``deploy/rabbitmq/topology.json`` is its
rendering for operators, written by ``python -m protocol.topology --write`` (``make
schemas``) and kept equal by a test. ``{region}`` and ``{province}`` in names and keys
are filled per desk. Importing this module does no I/O.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from protocol import routing

RENDERED: Final = Path(__file__).resolve().parents[1] / "deploy" / "rabbitmq" / "topology.json"


@dataclass(frozen=True)
class Exchange:
    name: str
    type: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Binding:
    exchange: str
    key: str


@dataclass(frozen=True)
class Queue:
    owner: str
    """Who consumes it: 'hub' or 'desk'."""
    name: str
    bindings: tuple[Binding, ...]


@dataclass(frozen=True)
class Policy:
    name: str
    pattern: str
    definition: dict[str, Any]
    priority: int = 1
    apply_to: str = "queues"


EXCHANGES: Final = (
    Exchange(routing.UNROUTABLE_EXCHANGE, "fanout"),
    Exchange(routing.DESK_EXCHANGE, "topic", {"alternate-exchange": routing.UNROUTABLE_EXCHANGE}),
    Exchange(routing.HUB_EXCHANGE, "topic", {"alternate-exchange": routing.UNROUTABLE_EXCHANGE}),
    Exchange(routing.REGISTRY_EXCHANGE, "fanout"),
    Exchange(routing.DEAD_LETTER_EXCHANGE, "direct"),
    *(Exchange(routing.retry_exchange(s), "fanout") for s in routing.RETRY_TIERS),
)

QUEUE_ARGUMENTS: Final[dict[str, Any]] = {
    "x-queue-type": "quorum",
    "x-dead-letter-exchange": routing.DEAD_LETTER_EXCHANGE,
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
    "x-delivery-limit": 20,
}
"""Every consumed queue: replicated, dead-lettering at least once, refusing when full."""
DEAD_LETTER_QUEUE_ARGUMENTS: Final[dict[str, Any]] = {"x-queue-type": "quorum"}


@dataclass(frozen=True)
class DelayQueue:
    """A retry tier: messages wait ``seconds``, then the broker dead-letters them through
    the default exchange under their own routing key, the name of the queue they came from."""

    name: str
    exchange: str
    seconds: int

    @property
    def arguments(self) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-message-ttl": self.seconds * 1000,
            "x-dead-letter-exchange": "",
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }


DELAY_QUEUES: Final = tuple(
    DelayQueue(routing.retry_queue(s), routing.retry_exchange(s), s) for s in routing.RETRY_TIERS
)

QUEUES: Final = (
    Queue("hub", routing.HUB_EVENTS_QUEUE,
          (Binding(routing.HUB_EXCHANGE, routing.hub_binding()),)),
    Queue("hub", routing.HUB_UNROUTABLE_QUEUE, (Binding(routing.UNROUTABLE_EXCHANGE, ""),)),
    Queue("desk", routing.desk_inbox_queue("{region}"),
          (Binding(routing.DESK_EXCHANGE, routing.desk_binding("{province}")),)),
    Queue("desk", routing.desk_registry_queue("{region}"),
          (Binding(routing.REGISTRY_EXCHANGE, ""),)),
)

@dataclass(frozen=True)
class TopicPermission:
    """Which routing keys a user may publish (``write``) and bind (``read``) on ``exchange``."""

    exchange: str
    write: str
    read: str


@dataclass(frozen=True)
class User:
    """A service's own RabbitMQ user: resource permissions (regular expressions over
    exchange and queue names) and topic permissions (over routing keys).

    ``{region}`` and ``{provinces}`` (an alternation such as ``33|44``) are filled per desk.
    Services configure nothing: ``services.setup`` declares the topology as the admin.
    """

    owner: str
    name: str
    configure: str
    write: str
    read: str
    topics: tuple[TopicPermission, ...]


_BUREAU_KEY = r"[0-9][0-9]\.[0-9]{6}\.[a-z_.]+$"
USERS: Final = (
    User("hub", "xiecha-hub", configure="^$",
         write=r"^xiecha\.v1\.(desk|registry|dlx|retry\.[0-9]+s)$",
         read=r"^xiecha\.v1\.hub\.(events|unroutable)$",
         topics=(TopicPermission(routing.DESK_EXCHANGE,
                                 r"^v1\.desk\.[0-9][0-9]\.[0-9]{6}\.request\.undeliverable$", "^$"),
                 TopicPermission(routing.HUB_EXCHANGE, "^$", "^$"))),
    User("desk", "xiecha-desk-{region}-{provinces}", configure="^$",
         write=r"^xiecha\.v1\.(desk|hub|dlx|retry\.[0-9]+s)$",
         read=r"^xiecha\.v1\.desk\.{region}\.(inbox|registry)$",
         topics=(TopicPermission(routing.DESK_EXCHANGE, r"^v1\.desk\." + _BUREAU_KEY,
                                 r"^v1\.desk\.({provinces})\.#$"),
                 TopicPermission(routing.HUB_EXCHANGE,
                                 r"^v1\.hub\.(({provinces})\.({provinces})[0-9]{4}|desk\.{region})"
                                 r"\.[a-z_.]+$", "^$"))),
)
"""Who may do what on the broker. A desk publishes to the hub only under its own
bureaus' or its own desk's routing keys, reads only its own queues, and never
publishes registry messages; the hub reads only its queues. Everyone may dead-letter and
put a message into a retry tier (from which the broker returns it to the queue named by its
routing key: any queue, but the consumer there checks the sender against the user-id as
for any other message)."""

HUB_USER: Final = "xiecha-hub"


def user_name(owner: str, region: str = "", provinces: Iterable[str] = (),
              vhost: str = "/") -> str:
    """The RabbitMQ user of the hub or of a desk; a desk's name says which provinces it
    serves (see ``serves``). Users are global on a broker, so one of another vhost than
    the default one is suffixed ``@<vhost>``."""
    base = HUB_USER if owner == "hub" else f"xiecha-desk-{region}-{'.'.join(provinces)}"
    return base if vhost == "/" else f"{base}@{vhost}"


def serves(user: str | None, sender: str) -> bool:
    """Whether the authenticated publishing ``user`` may send as ``sender`` (an address)."""
    base = (user or "").split("@", 1)[0]
    if base == HUB_USER:
        return sender == "hub"
    region, _, provinces = base.removeprefix("xiecha-desk-").rpartition("-")
    if not base.startswith("xiecha-desk-") or not region:
        return False
    if sender.isdigit():
        return sender[:2] in provinces.split(".")
    return sender == f"desk.{region}"


def user_for(owner: str, region: str = "", provinces: Iterable[str] = (),
             vhost: str = "/") -> User:
    """``owner``'s user with names and patterns filled for ``region`` and ``provinces``."""
    codes = tuple(provinces)
    template = next(u for u in USERS if u.owner == owner)

    def fill(pattern: str) -> str:
        return pattern.replace("{region}", region).replace("{provinces}", "|".join(codes))

    return User(owner, user_name(owner, region, codes, vhost), fill(template.configure),
                fill(template.write), fill(template.read),
                tuple(TopicPermission(t.exchange, fill(t.write), fill(t.read))
                      for t in template.topics))


POLICIES: Final = (
    Policy("xiecha-dead-letters", r"^xiecha\.v1\..*\.dlq$",
           {"max-length": 1_000_000, "overflow": "reject-publish"}),
)


def rendered() -> str:
    """The whole topology as the JSON ``deploy/rabbitmq/topology.json`` holds."""
    data = {
        "_doc": "Generated from protocol/topology.py by `make schemas`; do not edit.",
        "exchanges": [asdict(e) for e in EXCHANGES],
        "queue_arguments": QUEUE_ARGUMENTS,
        "dead_letter_queue_arguments": DEAD_LETTER_QUEUE_ARGUMENTS,
        "queues": [asdict(q) for q in QUEUES],
        "delay_queues": [asdict(d) | {"arguments": d.arguments} for d in DELAY_QUEUES],
        "policies": [asdict(p) for p in POLICIES],
        "users": [asdict(u) for u in USERS],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    if "--write" in argv:
        RENDERED.write_text(rendered(), encoding="utf-8")
        print(f"wrote {RENDERED}")
        return 0
    if not RENDERED.exists() or RENDERED.read_text(encoding="utf-8") != rendered():
        print(f"topology drift: {RENDERED} (run `make schemas`)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
