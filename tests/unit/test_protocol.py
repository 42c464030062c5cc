"""The wire contract: schemas in the repo match the models, and messages round-trip."""

from __future__ import annotations

import json
import uuid
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError
from stdnum.cn import uscc

from protocol import routing, schemas, topology
from protocol.v1 import MESSAGE_TYPES, RequestSubmitted, parse_message
from protocol.v1.files import encode_chunk
from services.common.topology import queues_for
from services.hub.registry_source import build_registry


def submitted(**over: object) -> RequestSubmitted:
    body = {
        "request_id": uuid.uuid4(), "event_id": uuid.uuid4(), "requester": "330110",
        "recipient": "510107", "created_at": "2026-11-27T08:00:00+08:00", "created_by": "张三",
        "content": {"kind": "merchant_registration",
                    "subject": {"merchant_name": "某店", "credit_code": valid_credit_code()},
                    "questions": [{"id": "q1", "text": "是否登记？"}]},
        "due_date": "2026-12-04",
    }
    return RequestSubmitted(correlation_id="c-1", sender="330110", recipient="510107",
                            body=body | over)


def valid_credit_code(division: str = "510107") -> str:
    first = f"91{division}MA6CXXXX"[:17].ljust(17, "0")
    return first + uscc.calc_check_digit(first)


def test_committed_schemas_match_the_models() -> None:
    assert schemas.drift() == [], "run `make schemas` and commit protocol/schemas"


def examples() -> dict[str, dict[str, Any]]:
    """One valid body of every message type."""
    rid, now = str(uuid.uuid4()), "2026-11-27T08:00:00+08:00"
    bureau = build_registry()[0].model_dump(mode="json")
    return {
        "request.submitted": submitted().model_dump(mode="json")["body"],
        "request.event": {"request_id": rid, "event_id": str(uuid.uuid4()), "seq": 2,
                          "occurred_at": now, "actor": "武侯 王五", "bureau": "510107",
                          "state": "accepted", "due_date": "2026-12-04",
                          "change": {"event": "accepted"}},
        "request.command": {"request_id": rid, "command_id": str(uuid.uuid4()),
                            "issued_at": now, "actor": "余杭 陈敏",
                            "change": {"event": "reminded", "rule": "manual"}},
        "request.command_refused": {"request_id": rid, "command_id": str(uuid.uuid4()),
                                    "event": "withdrawn", "reason": "已答复"},
        "request.undeliverable": {"request_id": rid, "original_message_id": str(uuid.uuid4()),
                                  "original_type": "request.submitted", "reason": "无人接收"},
        "attachment.offered": {"request_id": rid, "attachment_id": str(uuid.uuid4()),
                               "name": "补充材料.pdf", "media_type": "application/pdf",
                               "size": 10, "sha256": "0" * 64, "chunks": 1,
                               "purpose": "request", "uploaded_by": "余杭 陈敏",
                               "uploaded_at": now},
        "attachment.chunk": {"request_id": rid, "attachment_id": str(uuid.uuid4()), "idx": 0,
                             "data": encode_chunk(b"%PDF-1.7")},
        "event.recorded": {"event_id": str(uuid.uuid4()), "request_id": rid,
                           "event_type": "replied", "requester": "330106",
                           "recipient": "440106", "occurred_at": now},
        "registry.requested": {"have_version": 0},
        "registry.published": {"version": 1, "bureaus": [bureau]},
        "bulk.items": {"request_id": rid, "batch_id": str(uuid.uuid4()), "first_idx": 1,
                       "items": [{"kind": "merchant", "credit_code": valid_credit_code()}]},
        "bulk.answers": {"request_id": rid, "batch_id": str(uuid.uuid4()), "answered_at": now,
                         "answered_by": "武侯 王五",
                         "answers": [{"idx": 1, "result": "confirmed"}]},
        **joint_examples(rid, now),
    }


def joint_examples(cid: str, now: str) -> dict[str, object]:
    """Bodies of the joint-case messages (``protocol/v1/joint.py``)."""
    case = {"header": {"title": "联合行动", "subjects": [{"merchant_name": "某公司"}],
                       "legal_basis": "法", "aim": "查", "lead": "330110",
                       "coordinator": "余杭 陈敏"},
            "state": "open", "members": [{"bureau": "510107", "status": "invited"}]}
    shared = {"file_id": str(uuid.uuid4()), "name": "笔录.pdf",
              "media_type": "application/pdf", "size": 8, "sha256": "0" * 64,
              "shared_by": "330110", "uploaded_by": "余杭 陈敏"}
    return {
        "joint.event": {"case_id": cid, "event_id": str(uuid.uuid4()), "seq": 2,
                        "occurred_at": now, "bureau": "330110", "actor": "余杭 陈敏",
                        "change": {"event": "invited", "bureaus": ["510107"]}, "case": case},
        "joint.command": {"case_id": cid, "command_id": str(uuid.uuid4()), "issued_at": now,
                          "actor": "武侯 王五", "change": {"event": "accepted"}},
        "joint.command_refused": {"case_id": cid, "command_id": str(uuid.uuid4()),
                                  "event": "accepted", "code": "illegal_transition",
                                  "reason": "已结案", "refused_at": now},
        "joint.file_chunk": {"case_id": cid, "file": shared, "idx": 0,
                             "data": encode_chunk(b"%PDF-1.7")},
        "joint.recorded": {"event_id": str(uuid.uuid4()), "case_id": cid,
                           "metric": "joint_opened", "bureau": "330110", "occurred_at": now},
        "chain.requested": {"check_id": str(uuid.uuid4()), "request_id": str(uuid.uuid4())},
        "chain.answered": {"check_id": str(uuid.uuid4()), "request_id": str(uuid.uuid4()),
                           "intact": True,
                           "verdict": "4 entries, chain intact (sm3), signatures valid",
                           "entries": [{"event_id": str(uuid.uuid4()), "seq": 1,
                                        "type": "delivered", "digest": "ab" * 32}]},
    }


@pytest.mark.parametrize("kind", sorted(MESSAGE_TYPES))
def test_every_message_type_has_a_schema_that_accepts_its_instances(kind: str) -> None:
    model = MESSAGE_TYPES[kind]
    msg = model.model_validate({"correlation_id": "c-1", "sender": "330110",
                                "recipient": "510107", "body": examples()[kind]})
    wire = json.loads(msg.model_dump_json())
    schema = json.loads((schemas.SCHEMA_DIR / f"{kind}.json").read_text())
    jsonschema.validate(wire, schema)
    assert parse_message(msg.model_dump_json()) == msg
    # and the schema is no formality: it refuses what the model refuses
    for broken in ({**wire, "body": {}}, {**wire, "surprise": 1}, {**wire, "type": "x.y"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def test_every_message_type_has_a_schema() -> None:
    assert set(MESSAGE_TYPES) == {p.stem for p in schemas.SCHEMA_DIR.glob("*.json")}
    assert set(MESSAGE_TYPES) == set(examples())


def test_message_round_trips_through_json() -> None:
    msg = submitted()
    assert parse_message(msg.model_dump_json()) == msg


@pytest.mark.parametrize("raw", [
    b"not json", b"{}", b'{"type": "request.nonsense"}',
    json.dumps({"type": "request.submitted", "schema_version": 2}).encode(),
])
def test_bad_messages_are_refused(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        parse_message(raw)


def test_unknown_fields_are_refused() -> None:
    data = json.loads(submitted().model_dump_json())
    data["body"]["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        parse_message(json.dumps(data))


def test_credit_code_check_character_is_verified() -> None:
    good = valid_credit_code()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError, match="credit code"):
        submitted(content={"kind": "merchant_registration",
                           "subject": {"merchant_name": "x", "credit_code": bad},
                           "questions": [{"id": "q1", "text": "?"}]})


def test_duplicate_question_ids_are_refused() -> None:
    with pytest.raises(ValidationError, match="unique"):
        submitted(content={"kind": "document_service", "subject": {"merchant_name": "x"},
                           "questions": [{"id": "q", "text": "a"}, {"id": "q", "text": "b"}]})


def test_routing_keys_carry_version_province_and_bureau() -> None:
    assert routing.route("330110", "510107", "request.submitted") == (
        routing.DESK_EXCHANGE, "v1.desk.51.510107.request.submitted")
    assert routing.route("330110", "hub", "event.recorded") == (
        routing.HUB_EXCHANGE, "v1.hub.33.330110.event.recorded")
    assert routing.route("desk.zj", "hub", "registry.requested")[1] == (
        "v1.hub.desk.zj.registry.requested")
    with pytest.raises(ValueError):
        routing.route("hub", "nobody", "x")


def test_topology_is_rendered_for_operators_as_it_is() -> None:
    assert topology.main([]) == 0, "run `make schemas`"


def test_desk_and_hub_queues_are_filled_per_region_and_province() -> None:
    desk = {q.name: q for q in queues_for("desk", "zj", ["33", "34"])}
    assert set(desk) == {routing.desk_inbox_queue("zj"), routing.desk_registry_queue("zj")}
    inbox = desk[routing.desk_inbox_queue("zj")]
    assert (routing.DESK_EXCHANGE, routing.desk_binding("34")) in inbox.bindings
    hub = {q.name for q in queues_for("hub")}
    assert hub == {routing.HUB_EVENTS_QUEUE, routing.HUB_UNROUTABLE_QUEUE}
    assert topology.QUEUE_ARGUMENTS["x-queue-type"] == "quorum"
