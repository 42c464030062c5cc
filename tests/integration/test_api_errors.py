"""Every refusal of the desk API: exact status and code, a JSON error body, never a 5xx,
and nothing stored; plus routing a new request by the merchant's credit code."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import asyncpg
import pytest
from stdnum.cn import uscc

from tests.support import DeskHandle, System, any_uuid, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, NANSHAN, WUHOU = "330110", "440305", "510107"
LIWAN = "440103"  # listed, agreement pending; its prefecture 440100 广州 is signed
HUAZHOU = "440982"  # listed, agreement suspended
CHENGGUAN = "540102"  # Lhasa: Tibet is not covered, nobody up the chain is signed
LONGHUA = "440309"  # not in the registry (no coordinates); its prefecture 440300 深圳 is
JSON = {"Content-Type": "application/json"}
VF = "validation_failed"


def credit_code(division: str, serial: str = "MA2H3K4L5") -> str:
    first17 = f"91{division}{serial}"
    return first17 + uscc.calc_check_digit(first17)


def bad_check(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


def body(**over: Any) -> dict[str, Any]:
    return new_request(WUHOU, **over)


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in body().items() if k != key}


def merchant(recipient: str | None = WUHOU, **subject: Any) -> dict[str, Any]:
    return new_request(recipient, subject={"merchant_name": "某某网店", **subject})


async def send(system: System, method: str, url: str, token: str | None = None,
               **kw: Any) -> tuple[int, Any]:
    """Like ``system.call`` but survives a non-JSON (e.g. 500 text) body."""
    headers = dict(kw.pop("headers", {}))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with system.http.request(method, url, headers=headers, **kw) as resp:
        text = await resp.text()
    try:
        return resp.status, json.loads(text) if text else None
    except ValueError:
        return resp.status, text


def refused(status: int, body: Any, want: int, code: str, field: str | None = None) -> None:
    assert status < 500, f"server error {status}: {body!r}"
    assert status == want, body
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"], err
    assert set(err) <= {"code", "message", "details"}, err
    if field is not None:  # named in the details, or at least in the message
        fields = [d["field"] for d in err.get("details", [])]
        assert any(f.startswith(field) for f in fields) or field in err["message"], err


async def stored(
    system: System, desk: DeskHandle, bureau: str, token: str
) -> tuple[list[str], int, int]:
    """The requester's outbox ids, and its request and 'create' audit rows in the desk DB."""
    status, page = await send(system, "GET", desk.url("/v1/requests?box=outbox&limit=200"), token)
    assert status == 200, page
    conn = await asyncpg.connect(desk.settings.dsn)
    try:
        rows = await conn.fetchval("SELECT count(*) FROM request WHERE requester = $1", bureau)
        audits = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE bureau = $1 AND action = 'create'", bureau)
    finally:
        await conn.close()
    return [i["id"] for i in page["items"]], rows, audits


PAST = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)).isoformat()
BIG = [{"id": f"q{i}", "text": "x" * 15_000} for i in range(20)]  # > 256 KiB, else valid
MJ, NCB, NAP = "malformed_json", "no_competent_bureau", "not_a_partner"
CREATE_REFUSALS: dict[str, tuple[dict[str, Any], int, str, str | None]] = {
    "malformed_json": ({"data": b'{"kind": ', "headers": JSON}, 400, MJ, None),
    "not_utf8": ({"data": b"\xff\xfe{}", "headers": JSON}, 400, MJ, None),
    "unclosed_nesting": ({"data": b"[" * 100_000, "headers": JSON}, 400, MJ, None),
    # valid JSON syntax, but beyond what a parser must accept (RFC 8259 section 9)
    "deep_nesting": ({"data": b"[" * 50_000 + b"]" * 50_000, "headers": JSON}, 400, MJ, None),
    "huge_number": ({"data": b"9" * 5000, "headers": JSON}, 400, MJ, None),
    "json_list": ({"json": [body()]}, 422, VF, None),
    "json_string": ({"json": "请协查"}, 422, VF, None),
    "empty_object": ({"json": {}}, 422, VF, "kind"),
    "missing_questions": ({"json": without("questions")}, 422, VF, "questions"),
    "missing_kind": ({"json": without("kind")}, 422, VF, "kind"),
    "missing_merchant_name": ({"json": body(subject={"platform": "淘宝"})}, 422, VF,
                              "subject.merchant_name"),
    "questions_as_string": ({"json": body(questions="该商户是否登记？")}, 422, VF, "questions"),
    "no_questions": ({"json": body(questions=[])}, 422, VF, "questions"),
    "unknown_kind": ({"json": body(kind="tax_audit")}, 422, VF, "kind"),
    "unknown_field": ({"json": body(priority="high")}, 422, VF, "priority"),
    "recipient_5_digits": ({"json": new_request("33011")}, 422, VF, "recipient"),
    "recipient_number": ({"json": {**body(), "recipient": 510107}}, 422, VF, "recipient"),
    "credit_code_check_char": ({"json": merchant(credit_code=bad_check(credit_code(NANSHAN)))},
                               422, VF, "subject.credit_code"),
    "credit_code_short": ({"json": merchant(credit_code=credit_code(NANSHAN)[:17])}, 422, VF,
                          "subject.credit_code"),
    "nul_in_merchant_name": ({"json": merchant(merchant_name="某某\x00网店")}, 422, VF,
                             "subject.merchant_name"),
    "nul_in_question": ({"json": body(questions=[{"id": "q1", "text": "是否\x00登记"}])}, 422, VF,
                        "questions"),
    "due_date_past": ({"json": body(due_date=PAST)}, 422, VF, "due_date"),
    "due_date_no_date": ({"json": body(due_date="2026-13-01")}, 422, VF, "due_date"),
    # was accepted; a later provide-info overflowed (500) and a transfer blocked the loop
    "due_date_9999": ({"json": body(due_date="9999-12-31")}, 422, VF, "due_date"),
    "oversized": ({"json": body(questions=BIG)}, 413, "body_too_large", None),
    "text_plain": ({"data": json.dumps(body()).encode(), "headers": {"Content-Type": "text/plain"}},
                   415, "unsupported_media_type", None),
    "form": ({"data": {"kind": "merchant_registration"}}, 415, "unsupported_media_type", None),
    "idempotency_key_129": ({"json": body(), "headers": {"Idempotency-Key": "k" * 129}}, 400,
                            "bad_query", None),
    "unknown_bureau": ({"json": new_request("339999")}, 422, "unknown_bureau", None),
    "pending_bureau": ({"json": new_request(LIWAN)}, 422, NAP, None),
    "suspended_bureau": ({"json": new_request(HUAZHOU)}, 422, NAP, None),
    "uncovered_bureau": ({"json": new_request(CHENGGUAN)}, 422, NAP, None),
    "same_bureau": ({"json": new_request(YUHANG)}, 422, "same_bureau", None),
    "own_credit_code": ({"json": merchant(None, credit_code=credit_code(YUHANG))}, 422,
                        "same_bureau", None),
    "no_recipient_no_credit_code": ({"json": new_request()}, 422, NCB, None),
    "nobody_competent": ({"json": merchant(None, credit_code=credit_code(CHENGGUAN))}, 422, NCB,
                         None),
}


@pytest.mark.parametrize("case", CREATE_REFUSALS, ids=list(CREATE_REFUSALS))
async def test_refused_create_stores_nothing(system: System, case: str) -> None:
    kw, want, code, field = CREATE_REFUSALS[case]
    zj = system.desks["zj"]
    alice = await zj.investigator(YUHANG)
    # Given what Yuhang has stored so far
    before = await stored(system, zj, YUHANG, alice)
    # When it sends a create the desk must refuse
    status, err = await send(system, "POST", zj.url("/v1/requests"), alice, **kw)
    # Then it is refused with the exact status and code, and nothing was stored
    refused(status, err, want, code, field)
    assert await stored(system, zj, YUHANG, alice) == before


@pytest.mark.parametrize("auth", [None, "Bearer not-a-token", "Basic YWxpY2U6cHc=", "Bearer ",
                                  "not-a-token"])
async def test_unauthenticated_create(system: System, auth: str | None) -> None:
    zj = system.desks["zj"]
    alice = await zj.investigator(YUHANG)
    before = await stored(system, zj, YUHANG, alice)
    headers = {"Authorization": auth} if auth is not None else {}
    status, err = await send(system, "POST", zj.url("/v1/requests"), json=body(), headers=headers)
    refused(status, err, 401, "unauthenticated")
    assert await stored(system, zj, YUHANG, alice) == before


async def test_unpartnered_requester_is_refused(system: System) -> None:
    gd = system.desks["gd"]
    liwan = await gd.investigator(LIWAN)  # a pending bureau's investigator cannot ask
    before = await stored(system, gd, LIWAN, liwan)
    status, err = await send(system, "POST", gd.url("/v1/requests"), liwan, json=body())
    refused(status, err, 422, "not_a_partner")
    assert await stored(system, gd, LIWAN, liwan) == before


ROUTE_REFUSALS = [
    ("GET", "/v1/nope", False, 404, "not_found"),
    ("GET", "/v1/requests/not-a-uuid", True, 404, "not_found"),
    ("GET", f"/v1/requests/{any_uuid()}", True, 404, "not_found"),
    ("POST", f"/v1/requests/{any_uuid()}/accept", True, 404, "not_found"),
    ("POST", "/v1/requests/not-a-uuid/accept", True, 404, "not_found"),
    ("DELETE", "/v1/requests", True, 405, "method_not_allowed"),
    ("PUT", f"/v1/requests/{any_uuid()}", True, 405, "method_not_allowed"),
    ("GET", f"/v1/requests/{any_uuid()}/accept", True, 405, "method_not_allowed"),
    ("GET", "/v1/requests", False, 401, "unauthenticated"),
    ("GET", "/v1/me", False, 401, "unauthenticated"),
    ("GET", "/v1/requests?box=foo", True, 400, "bad_query"),
    ("GET", "/v1/requests?limit=0", True, 400, "bad_query"),
    ("GET", "/v1/requests?limit=201", True, 400, "bad_query"),
    ("GET", "/v1/requests?limit=abc", True, 400, "bad_query"),
    ("GET", "/v1/requests?state=bogus", True, 400, "bad_query"),
    ("GET", "/v1/requests?cursor=garbage", True, 400, "bad_query"),
    # each of these three answered 500 before dates got a range and search text refused NUL
    ("GET", "/v1/requests?to=9999-12-31", True, 400, "bad_query"),
    ("GET", "/v1/requests?from=0001-01-01", True, 400, "bad_query"),
    ("GET", "/v1/requests?merchant=%00", True, 400, "bad_query"),
    ("GET", f"/v1/requests?cursor={cursor('a|b')}", True, 400, "bad_query"),
    # a forged cursor whose instant lies outside what PostgreSQL can store
    ("GET", f"/v1/requests?cursor={cursor(f'0001-01-01T00:00:00+14:00|{any_uuid()}')}", True,
     400, "bad_query"),
]


@pytest.mark.parametrize(("method", "path", "auth", "want", "code"), ROUTE_REFUSALS,
                         ids=[f"{r[0]} {r[1][:48]}" for r in ROUTE_REFUSALS])
async def test_route_and_query_refusals(system: System, method: str, path: str, auth: bool,
                                        want: int, code: str) -> None:
    zj = system.desks["zj"]
    token = await zj.investigator(YUHANG) if auth else None
    status, err = await send(system, method, zj.url(path), token)
    refused(status, err, want, code)


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "from=2026-02-30"])
async def test_hub_stats_date_refusals(system: System, query: str) -> None:
    status, err = await send(system, "GET", system.hub_url(f"/v1/stats?{query}"))
    refused(status, err, 400, "bad_query")


@pytest.mark.parametrize(("division", "expected"), [
    (NANSHAN, NANSHAN),  # the county bureau is signed
    (LIWAN, "440100"),  # the county bureau is pending: its prefecture is competent
    (LONGHUA, "440300"),  # the county is not registered at all: its prefecture
])
async def test_recipient_from_credit_code(system: System, division: str, expected: str) -> None:
    zj = system.desks["zj"]
    alice = await zj.investigator(YUHANG)
    # Given a merchant registered in ``division`` and no recipient
    # When Yuhang asks about it
    status, created = await send(system, "POST", zj.url("/v1/requests"), alice,
                                 json=merchant(None, credit_code=credit_code(division).lower()))
    # Then the competent signed bureau is the recipient
    assert status == 201, created
    assert created["recipient"]["code"] == expected
    assert created["subject"]["credit_code"] == credit_code(division)
    assert created["id"] in (await stored(system, zj, YUHANG, alice))[0]


async def test_life_cycle_refusals(system: System) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    alice, bob = await zj.investigator(YUHANG), await sc.investigator(WUHOU)
    # Given a request from Yuhang delivered to Wuhou
    status, created = await send(system, "POST", zj.url("/v1/requests"), alice, json=body())
    assert status == 201, created
    rid = created["id"]
    at_sc, at_zj = sc.url(f"/v1/requests/{rid}"), zj.url(f"/v1/requests/{rid}")

    async def state() -> str:
        status, r = await send(system, "GET", at_sc, bob)
        return r["state"] if status == 200 else ""

    async def delivered() -> bool:
        return await state() == "delivered"

    await eventually(delivered, what="delivery to Wuhou")
    answers = [{"question_id": "q1", "answer": "是"}, {"question_id": "q2", "answer": "是"}]
    good = {"findings": "已登记。", "answers": answers}

    # When the requester tries the recipient's steps, it is forbidden
    for step, data in (("accept", None), ("reply", good)):
        status, err = await send(system, "POST", f"{at_zj}/{step}", alice, json=data)
        refused(status, err, 403, "forbidden")
    # Replying before accepting is an illegal transition
    status, err = await send(system, "POST", f"{at_sc}/reply", bob, json=good)
    refused(status, err, 409, "illegal_transition")
    assert await state() == "delivered"
    # Accepting works once, then is illegal
    status, accepted = await send(system, "POST", f"{at_sc}/accept", bob)
    assert status == 200 and accepted["state"] == "accepted", accepted
    status, err = await send(system, "POST", f"{at_sc}/accept", bob)
    refused(status, err, 409, "illegal_transition")
    # Bad replies are refused and leave the request accepted
    bad_replies: list[tuple[dict[str, Any], int, str]] = [
        ({"json": {"findings": "x", "answers": [{"question_id": "q9", "answer": "?"}]}},
         422, "unknown_question"),
        ({"json": {"answers": answers}}, 422, "validation_failed"),
        ({"json": {"findings": "已\x00登记"}}, 422, "validation_failed"),
        ({"data": b"{", "headers": JSON}, 400, "malformed_json"),
        ({"data": b"findings", "headers": {"Content-Type": "text/plain"}}, 415,
         "unsupported_media_type"),
    ]
    problems = []  # collected, so that one bad answer does not hide the later steps
    for kw, want, code in bad_replies:
        status, err = await send(system, "POST", f"{at_sc}/reply", bob, **kw)
        try:
            refused(status, err, want, code)
        except AssertionError as exc:
            problems.append(f"reply {kw}: {exc}")
    assert await state() == "accepted"
    # A good reply goes through, and a second one is illegal
    status, replied = await send(system, "POST", f"{at_sc}/reply", bob, json=good)
    assert status == 200 and replied["state"] == "replied", replied
    status, err = await send(system, "POST", f"{at_sc}/reply", bob, json=good)
    refused(status, err, 409, "illegal_transition")
    assert not problems, problems
