"""Masking of personal data in log text and fields."""

from __future__ import annotations

from services.common.masking import MASK, mask_text, mask_value


def test_numbers_by_shape_and_names_by_key() -> None:
    text = ("Key (id_number)=(11010519491231002X) exists; call 13912345678 or 0571-88886666;"
            " {'name': '张三', 'kind': 'complainant'} 姓名：李四 credit 91510107MA6CJ4KX0W")
    out = mask_text(text)
    for secret in ("11010519491231002X", "13912345678", "0571-88886666", "张三", "李四"):
        assert secret not in out
    assert "91510107MA6CJ4KX0W" in out and "complainant" in out  # not personal


def test_fields_are_masked_recursively() -> None:
    event = {"msg": "stored", "items": [{"name": "王五", "id_number": "330106198506121237"}],
             "count": 2}
    assert mask_value(event) == {"msg": "stored", "items": [{"name": MASK, "id_number": MASK}],
                                 "count": 2}
