"""Joint-case messages: round trip, JSON Schema, routing, and what the models refuse."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import jsonschema
import pytest
from pydantic import ValidationError

from protocol import routing, schemas
from protocol.v1 import joint as j
from protocol.v1 import parse_message
from protocol.v1.messages import JointEvent

LEAD, GD = "330110", "440106"


def event() -> JointEvent:
    case = j.CaseSnapshot(
        header=j.CaseHeader(title="案", subjects=(j.CaseSubject(platform="某平台"),),
                            legal_basis="法", aim="查", lead=LEAD, coordinator="组长"),
        state=j.CaseState.OPEN, members=(j.Member(bureau=GD, status=j.MemberStatus.INVITED),))
    return JointEvent(correlation_id="c", sender=LEAD, recipient=GD, body={
        "case_id": uuid.uuid4(), "event_id": uuid.uuid4(), "seq": 2,
        "occurred_at": dt.datetime(2026, 11, 2, tzinfo=dt.UTC), "bureau": LEAD,
        "actor": "组长", "change": {"event": "invited", "bureaus": [GD]}, "case": case})


def test_a_joint_event_round_trips_and_fits_its_schema() -> None:
    msg = event()
    raw = msg.model_dump_json()
    assert parse_message(raw) == msg
    schema = json.loads((schemas.SCHEMA_DIR / "joint.event.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(raw), schema)


def test_joint_messages_route_like_requests_by_bureau() -> None:
    for message_type in routing.JOINT_DESK_TYPES:
        exchange, key = routing.route(LEAD, GD, message_type)
        assert (exchange, key) == (routing.DESK_EXCHANGE, f"v1.desk.44.{GD}.{message_type}")
    assert routing.route(LEAD, "hub", "joint.recorded") == (
        routing.HUB_EXCHANGE, f"v1.hub.33.{LEAD}.joint.recorded")


def test_a_subject_must_say_who_or_what_it_is() -> None:
    with pytest.raises(ValidationError):
        j.CaseSubject()


def test_a_participant_cannot_ask_for_a_leads_change() -> None:
    with pytest.raises(ValidationError):
        j.JointCommandBody.model_validate({
            "case_id": uuid.uuid4(), "command_id": uuid.uuid4(),
            "issued_at": "2026-11-02T10:00:00+08:00", "actor": "x",
            "change": {"event": "invited", "bureaus": [GD]}})


def test_fines_are_not_negative() -> None:
    with pytest.raises(ValidationError):
        j.Outcome(kind=j.OutcomeKind.FINE, bureau=GD, amount_yuan=-1)
