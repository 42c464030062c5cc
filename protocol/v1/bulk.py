"""Bulk checks: many items (merchants, shops, complainants) attached to one request.

A bulk request is an ordinary request with numbered items. The requester's desk
sends the items in ``bulk.items`` batches, the deciding desk sends answers back in
``bulk.answers`` batches. Both are idempotent: an item is stored once per number,
an answer is applied only to an item still pending. The message classes are in
``protocol.v1.messages``; their bodies and the item models are here.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    HttpUrl,
    UrlConstraints,
    model_validator,
)
from stdnum.cn import ric

from protocol.v1.content import Frozen
from protocol.v1.types import (
    EIGHTEEN_CHARACTERS,
    CreditCode,
    ShortText,
    no_nul,
    official_number,
    text,
)

MAX_ITEMS: Final = 10_000
"""Items one request may carry."""
BATCH_SIZE: Final = 500
"""Items (or answers) per message; with the field limits below a batch stays < 600 kB."""


ItemName = Annotated[str, text(100), AfterValidator(no_nul)]
Platform = Annotated[str, text(50), AfterValidator(no_nul)]
Note = Annotated[str, text(200), AfterValidator(no_nul)]
ShopUrl = Annotated[HttpUrl, UrlConstraints(max_length=500)]


IdNumber = Annotated[
    str, EIGHTEEN_CHARACTERS, AfterValidator(official_number(ric, "resident ID number")),
]
"""A resident identity card number: length, birth date, place and check digit."""


class MerchantItem(Frozen):
    """A merchant, by its unified social credit code."""

    kind: Literal["merchant"] = "merchant"
    credit_code: CreditCode
    name: ItemName | None = None
    shop_url: ShopUrl | None = None
    platform: Platform | None = None


class ShopItem(Frozen):
    """An online shop, by its URL (the merchant behind it is to be found)."""

    kind: Literal["shop"] = "shop"
    shop_url: ShopUrl
    platform: Platform | None = None
    name: ItemName | None = None


class ComplainantItem(Frozen):
    """A complainant, by name and resident ID number."""

    kind: Literal["complainant"] = "complainant"
    name: ItemName
    id_number: IdNumber


AnyItem = MerchantItem | ShopItem | ComplainantItem
Item = Annotated[AnyItem, Field(discriminator="kind")]


def item_key(item: AnyItem) -> str:
    """What makes two items the same check within one request."""
    match item:
        case MerchantItem():
            return f"merchant:{item.credit_code}"
        case ShopItem():
            return f"shop:{item.shop_url}"
        case ComplainantItem():
            return f"complainant:{item.id_number}"


class ItemResult(StrEnum):
    CONFIRMED = "confirmed"
    """Checked and as stated."""
    NOT_FOUND = "not_found"
    MISMATCH = "mismatch"
    """Found, but the facts differ from what the requester stated."""
    DEREGISTERED = "deregistered"
    OTHER = "other"


class ItemAnswer(Frozen):
    idx: int = Field(ge=1, le=MAX_ITEMS)
    result: ItemResult
    note: Note | None = None


class BulkItemsBody(Frozen):
    request_id: uuid.UUID
    batch_id: uuid.UUID
    first_idx: int = Field(ge=1, le=MAX_ITEMS)
    """Number of the first item; the others follow without gaps."""
    items: Annotated[tuple[Item, ...], Field(min_length=1, max_length=BATCH_SIZE)]

    @model_validator(mode="after")
    def _within_limit(self) -> BulkItemsBody:
        if self.first_idx + len(self.items) - 1 > MAX_ITEMS:
            raise ValueError(f"a request carries at most {MAX_ITEMS} items")
        return self


class BulkAnswersBody(Frozen):
    request_id: uuid.UUID
    batch_id: uuid.UUID
    answered_at: AwareDatetime
    answered_by: ShortText
    answers: Annotated[tuple[ItemAnswer, ...], Field(min_length=1, max_length=BATCH_SIZE)]
