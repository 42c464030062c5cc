"""SM2 signatures and what they cover, without servers: the key files, GmSSL's agreement
with our hash Z, a signed statement against the entry beside it, comparing two chains."""

from __future__ import annotations

import datetime as dt
import stat
import uuid
from pathlib import Path

import gmssl_pyx
import pytest

from protocol.v1 import RequestEvent, parse_message
from protocol.v1.chain import ChainEntry, canonical, signed_body
from services.common import sm2
from services.desk.domain import chain, seal
from services.desk.signing import Signer

AT = dt.datetime(2026, 11, 29, 10, 30, 15, 123456, tzinfo=dt.UTC)


def event(**change: object) -> RequestEvent:
    return RequestEvent(correlation_id="c", sender="510107", recipient="330110", body={
        "request_id": uuid.uuid4(), "event_id": uuid.uuid4(), "seq": 2, "occurred_at": AT,
        "bureau": "510107", "actor": "武侯 王五", "state": "replied",
        "due_date": dt.date(2026, 12, 7),
        "change": change or {"event": "replied", "reply": {"findings": "已登记"}}})


def test_a_signature_verifies_only_for_its_message_and_key() -> None:
    pair, other = sm2.KeyPair.generate(), sm2.KeyPair.generate()
    signature = pair.sign(b"statement")
    assert sm2.verify(pair.public, b"statement", signature)
    assert not sm2.verify(pair.public, b"statemenT", signature)
    assert not sm2.verify(other.public, b"statement", signature)
    assert not sm2.verify(pair.public, b"statement", b"not a signature")
    assert not sm2.verify(b"short", b"statement", signature)


def test_gmssl_whole_message_verification_accepts_our_signatures() -> None:
    """GmSSL derives Z from the default identity itself: it agrees with ours."""
    pair = sm2.KeyPair.generate()
    message = "协查 statement".encode()
    assert gmssl_pyx.sm2_verify(pair.public, message, pair.sign(message))
    theirs = gmssl_pyx.sm2_sign(pair.private, pair.public, message)
    assert sm2.verify(pair.public, message, theirs)


def test_key_files_are_made_once_private_and_checked(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "desk-zj.key"
    made = sm2.ensure_key(key_file)
    assert sm2.ensure_key(key_file) == made  # not made again
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sm2.read_public(sm2.public_path(key_file)) == made.public
    sm2.public_path(key_file).write_text(sm2.KeyPair.generate().public.hex())
    with pytest.raises(ValueError, match="does not match"):
        sm2.read_key(key_file)


def test_a_signed_body_reads_back_to_the_same_bytes() -> None:
    signed, _ = Signer("sc", sm2.KeyPair.generate()).message(event())
    again = parse_message(signed.model_dump_json())
    assert isinstance(again, RequestEvent)
    assert signed_body(again.body) == signed_body(signed.body)
    assert b"signature" not in signed_body(signed.body)


def entry_of(msg: RequestEvent, data: object) -> dict[str, object]:
    b = msg.body
    return chain.fields(event_id=b.event_id, request_id=b.request_id, seq=b.seq,
                        type=b.change.event, bureau=b.bureau, actor=b.actor,
                        at=b.occurred_at, data=data)


def test_a_statement_vouches_only_for_the_entry_it_says() -> None:
    msg = event()
    statement = signed_body(msg.body)
    data = {"reply": msg.body.change.model_dump(mode="json")["reply"]}
    assert seal.disagreement(entry_of(msg, data), statement) is None
    moved = data | {"due_date": {"from": "2026-12-01", "to": "2026-12-07"}}
    assert seal.disagreement(entry_of(msg, moved), statement) is None  # the outcome's part
    other = {"reply": {**data["reply"], "findings": "未登记"}}
    assert "data differs" in str(seal.disagreement(entry_of(msg, other), statement))
    entry = entry_of(msg, data) | {"actor": "别人"}
    assert "actor" in str(seal.disagreement(entry, statement))
    own = entry_of(msg, data)
    assert seal.disagreement(own, canonical(own)) is None  # a step signed as itself
    assert "another entry" in str(seal.disagreement(own | {"event_id": "x"}, statement))


def test_two_chains_differ_at_the_first_entry_that_does_not_match() -> None:
    def entry(kind: str, seq: int | None, digest: str = "0") -> ChainEntry:
        return ChainEntry(event_id=uuid.uuid5(uuid.NAMESPACE_DNS, kind), seq=seq, type=kind,
                          digest=digest * 64)

    requester = [entry("created", None), entry("sent", None), entry("delivered", 1),
                 entry("accepted", 2)]
    recipient = [entry("created", None), entry("delivered", 1), entry("accepted", 2)]
    assert chain.first_difference(requester, recipient) is None  # 'sent' is the requester's
    changed = [*recipient[:2], entry("accepted", 2, "1")]
    assert "entry 4 (accepted" in str(chain.first_difference(requester, changed))
    assert "delivered #1" in str(chain.first_difference(requester, [recipient[0]]))
    more = [*recipient, entry("replied", 3)]
    assert "replied #3" in str(chain.first_difference(requester, more))
