"""Joint-case forms read into changes: what the page posts, and what pydantic refuses."""

from __future__ import annotations

import pytest
from multidict import MultiDict
from pydantic import ValidationError

from protocol.v1 import joint as j
from services.desk.pages.joint_forms import change_of


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
