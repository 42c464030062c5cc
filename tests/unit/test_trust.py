"""Who may send as whom on the bus, and which registry versions a desk takes (pure)."""

from __future__ import annotations

import re

from protocol import topology
from protocol.v1 import RegistryPublished, RequestUndeliverable
from services.common.trust import sender_refusal
from services.desk.registry import version_refusal

SOUTH = topology.user_name("desk", "south", ["44", "45"], "xt_1")


def test_a_desk_user_serves_its_provinces_bureaus_and_its_desk_address() -> None:
    assert SOUTH == "xiecha-desk-south-44.45@xt_1"
    assert topology.serves(SOUTH, "440106") and topology.serves(SOUTH, "450100")
    assert topology.serves(SOUTH, "desk.south")
    for other in ("510107", "hub", "desk.zj", "desk.all"):
        assert not topology.serves(SOUTH, other), other


def test_only_the_hub_user_serves_the_hub_and_unknown_users_serve_nothing() -> None:
    assert topology.serves("xiecha-hub", "hub") and topology.serves("xiecha-hub@v", "hub")
    assert not topology.serves("xiecha-hub", "440106")
    for user in (None, "", "guest", "xiecha-desk-", "mallory"):
        assert not topology.serves(user, "440106"), user


def test_hub_only_messages_need_the_hub_and_a_user_id() -> None:
    note = RequestUndeliverable(correlation_id="c", sender="440106", recipient="440106", body={
        "request_id": None, "original_message_id": "00000000-0000-0000-0000-000000000001",
        "original_type": "request.command", "reason": "x"})
    assert sender_refusal(SOUTH, note) == "only the hub sends request.undeliverable"
    registry = RegistryPublished(correlation_id="c", sender="hub", recipient="desk.all",
                                 body={"version": 1, "bureaus": []})
    assert sender_refusal("xiecha-hub", registry) is None
    assert "does not serve" in str(sender_refusal(SOUTH, registry))
    assert "no user-id" in str(sender_refusal(None, registry))


def test_desk_permissions_let_it_publish_to_the_hub_only_as_its_own_bureaus() -> None:
    user = topology.user_for("desk", "south", ["44", "45"])
    [to_hub] = [t for t in user.topics if t.exchange == "xiecha.v1.hub"]
    assert re.match(to_hub.write, "v1.hub.44.440106.event.recorded")
    assert re.match(to_hub.write, "v1.hub.desk.south.registry.requested")
    assert not re.match(to_hub.write, "v1.hub.51.510107.event.recorded")
    assert not re.match(to_hub.write, "v1.hub.desk.zj.registry.requested")
    assert not re.match(user.write, "xiecha.v1.registry") and user.configure == "^$"
    assert re.match(user.read, "xiecha.v1.desk.south.inbox")
    assert not re.match(user.read, "xiecha.v1.desk.zj.inbox")


def test_registry_versions_stale_or_inflated_are_refused() -> None:
    assert version_refusal(0, 1) is None and version_refusal(7, 7) is None
    assert version_refusal(7, 8) is None
    assert "stale" in str(version_refusal(7, 6))
    assert "inflated" in str(version_refusal(7, 7 + 1001))
