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
