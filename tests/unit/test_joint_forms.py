"""Joint-case forms read into changes: what the page posts, and what pydantic refuses."""

from __future__ import annotations

import pytest
from multidict import MultiDict
from pydantic import ValidationError

from protocol.v1 import joint as j
from services.desk.pages.joint_forms import MAX_ROWS, change_of, rows_asked


def test_each_offered_form_makes_its_change() -> None:
    assert change_of("accept", MultiDict()) == j.Accepted()
    assert change_of("confirm", MultiDict()) == j.ClosingConfirmed()
    assert change_of("decline", MultiDict(reason=" 不在辖区 ")) == j.Declined(reason="不在辖区")
    invited = change_of("invite", MultiDict(bureaus="510107，440106 330102"))
    assert invited == j.Invited(bureaus=("510107", "440106", "330102"))
    closing = change_of("close", MultiDict(findings="已查清"))
    assert isinstance(closing, j.ClosingProposed) and closing.summary.findings == "已查清"


@pytest.mark.parametrize(("action", "form"), [
    ("decline", {}), ("decline", {"reason": "   "}), ("invite", {"bureaus": ""}),
    ("invite", {"bureaus": "not-a-code"}), ("close", {"findings": ""}),
])
def test_a_form_missing_what_the_step_needs_is_invalid(action: str, form: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        change_of(action, MultiDict(form))


def test_leave_notes_comments_and_the_lead_s_answer_to_a_leave() -> None:
    assert change_of("leave", MultiDict(reason="人手不足")) == j.LeaveRequested(reason="人手不足")
    assert change_of("agree-leave", MultiDict(bureau="510107")) == j.LeaveAgreed(bureau="510107")
    refused = change_of("refuse-leave", MultiDict(bureau="510107", note=""))
    assert refused == j.LeaveRefused(bureau="510107", note=None)
    # a note carries the restrictions ticked on the form (a repeated field)
    form = MultiDict([("text", "已调取直播回放"), ("handling", "personal_data"),
                      ("handling", "case_only")])
    assert change_of("note", form) == j.Noted(text="已调取直播回放",
                                              handling=("personal_data", "case_only"))
    comment = change_of("comment", MultiDict(text="请于月底前完成"))
    assert comment == j.Commented(text="请于月底前完成")


def test_closing_reads_the_outcome_rows_that_name_a_kind() -> None:
    form = MultiDict({
        "findings": "查明销售假冒保健食品 1200 件",
        "outcome_kind_0": "fine", "outcome_bureau_0": "330110", "outcome_amount_0": "200,000",
        "outcome_merchant_0": "杭州某某生物科技有限公司", "outcome_credit_0": "",
        "outcome_kind_1": "referral_police", "outcome_bureau_1": "510107",
        "outcome_kind_2": "", "outcome_bureau_2": "440106"})  # no kind: not an outcome
    closing = change_of("close", form)
    assert isinstance(closing, j.ClosingProposed)
    fine, referral = closing.summary.outcomes
    assert (fine.kind, fine.bureau, fine.amount_yuan) == ("fine", "330110", 200_000)
    assert fine.merchant_name == "杭州某某生物科技有限公司" and fine.credit_code is None
    assert (referral.kind, referral.bureau, referral.amount_yuan) == (
        "referral_police", "510107", None)


@pytest.mark.parametrize("form", [
    {"findings": "x", "outcome_kind_0": "fine"},  # no bureau
    {"findings": "x", "outcome_kind_0": "bribe", "outcome_bureau_0": "330110"},
    {"findings": "x", "outcome_kind_0": "fine", "outcome_bureau_0": "330110",
     "outcome_amount_0": "-5"},
    {"findings": "x", "outcome_kind_0": "fine", "outcome_bureau_0": "330110",
     "outcome_amount_0": "二十万"},
])
def test_a_bad_outcome_row_is_invalid(form: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        change_of("close", MultiDict(form))


@pytest.mark.parametrize(("action", "form"), [
    ("leave", {}), ("agree-leave", {}), ("note", {"text": " "}),
    ("note", {"text": "x", "handling": "secret"}), ("comment", {}),
])
def test_new_forms_missing_what_they_need_are_invalid(action: str, form: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        change_of(action, MultiDict(form))


def test_the_closing_form_reads_as_many_rows_as_it_offered() -> None:
    form = MultiDict({"findings": "x"} | {
        k: v for i in range(7) for k, v in ((f"outcome_kind_{i}", "warning"),
                                             (f"outcome_bureau_{i}", "330110"))})
    closing = change_of("close", form)
    assert isinstance(closing, j.ClosingProposed) and len(closing.summary.outcomes) == 7
    assert [rows_asked(q) for q in (None, "", "9", "2", "x", "1000", "٣")] == [
        3, 3, 9, 3, 3, MAX_ROWS, 3]
