"""The query string of the request lists, validated into search filters."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from protocol.errors import ErrorCode
from protocol.v1.content import RequestKind
from protocol.v1.types import BureauCode, CreditCode, ProvinceCode, SaneDate, no_nul
from services.common.http import ApiError, validation_details
from services.desk.domain.lifecycle import State
from services.desk.requests import views
from services.desk.requests.search import Filters

SearchText = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(no_nul)]


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    box: Literal["inbox", "outbox"] = "inbox"
    state: State | None = None
    kind: RequestKind | None = None
    counterpart: BureauCode | None = None
    counterpart_province: ProvinceCode | None = None
    credit_code: CreditCode | None = None
    merchant: SearchText | None = None
    created_from: SaneDate | None = Field(None, alias="from")
    created_to: SaneDate | None = Field(None, alias="to")
    overdue: bool = False
    group: uuid.UUID | None = None
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = None

    @model_validator(mode="after")
    def _range(self) -> ListQuery:
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise ValueError("from must not be after to")
        return self


def parse(params: dict[str, str], bureau: str, today: dt.date) -> tuple[Filters, ListQuery]:
    """Filters for ``bureau``'s box from the query string, or a 400 bad_query."""
    try:
        q = ListQuery.model_validate(params)
    except ValidationError as exc:
        raise ApiError(400, ErrorCode.BAD_QUERY, "the query string is not valid",
                       validation_details(exc)) from None
    filters = Filters(
        box=q.box, bureau=bureau, state=q.state, kind=q.kind, counterpart=q.counterpart,
        counterpart_province=q.counterpart_province, credit_code=q.credit_code,
        merchant=q.merchant, created_from=q.created_from, created_to=q.created_to,
        overdue_on=today if q.overdue else None, group_id=q.group,
    )
    return filters, q


def after_of(q: ListQuery) -> tuple[dt.datetime, uuid.UUID] | None:
    return views.decode_cursor(q.cursor) if q.cursor else None
