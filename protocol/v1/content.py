"""What an assistance request says: its kind, subject, questions and reply."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from protocol.v1.types import CreditCode, LongText, SaneDate, ShortText


class Frozen(BaseModel):
    """Base of every wire model: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RequestKind(StrEnum):
    MERCHANT_REGISTRATION = "merchant_registration"
    """Verify that a merchant is registered where it claims to be."""
    COMPLAINANT_IDENTITY = "complainant_identity"
    """Verify that a complainant exists and is who they say."""
    DOCUMENT_SERVICE = "document_service"
    """Serve a document on a party located in the recipient's area."""
    EVIDENCE_COLLECTION = "evidence_collection"
    """Collect evidence held in the recipient's area."""
    CASE_LEAD_TRANSFER = "case_lead_transfer"
    """Hand over a case lead to the competent bureau."""


class Subject(Frozen):
    """The merchant (or shop) the request is about."""

    merchant_name: ShortText
    credit_code: CreditCode | None = None
    platform: ShortText | None = None
    shop_url: HttpUrl | None = None


class Question(Frozen):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    text: LongText


class Answer(Frozen):
    question_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    answer: LongText
    confirmed: bool | None = None
    """For yes/no questions: the fact asked about was confirmed (True) or refuted."""


class Handling(StrEnum):
    """Handling restrictions a requester puts on the information it will receive."""

    CASE_ONLY = "case_only"
    """Use only for the case this request belongs to."""
    NO_COURT_USE_WITHOUT_PERMISSION = "no_court_use_without_permission"
    """Not to be produced in court without the recipient's permission."""
    NO_ONWARD_SHARING = "no_onward_sharing"
    """Not to be passed on to any other authority."""
    PERSONAL_DATA = "personal_data"
    """Contains personal data: minimum access, no copies."""


class RequestContent(Frozen):
    """Everything a requester says when asking for assistance."""

    kind: RequestKind
    subject: Subject
    questions: Annotated[tuple[Question, ...], Field(min_length=1, max_length=50)]
    due_date: SaneDate | None = None
    """A later due date than the kind's default limit; None for the default."""
    handling: Annotated[tuple[Handling, ...], Field(max_length=len(Handling))] = ()
    """Restrictions that travel with every copy of the request and its answers."""

    @model_validator(mode="after")
    def _unique_question_ids(self) -> RequestContent:
        ids = [q.id for q in self.questions]
        if len(ids) != len(set(ids)):
            raise ValueError("question ids must be unique")
        return self


class ReplyContent(Frozen):
    """The recipient's findings and its answers to the questions."""

    findings: LongText
    answers: Annotated[tuple[Answer, ...], Field(max_length=50)] = ()
