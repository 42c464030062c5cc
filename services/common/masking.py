"""Personal data out of log text: resident ID numbers, phone numbers and people's names.

Pure functions, used by ``logs`` on every event (message, fields, traceback text).
ID and phone numbers are found by their shape anywhere in a string; names cannot be,
so a value is masked when its key says it is personal (``name``, ``id_number``, ``姓名``,
... in a dict, or written ``name='张三'``/``"name": "张三"`` inside a text such as
an exception message or a repr). Masking errs towards too much: a log line loses a
number that only looked like an ID, never shows one that was.
"""

from __future__ import annotations

import re
from typing import Any

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
PHONE = re.compile(
    r"(?<![\d])(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)"  # mobile
    r"|(?<![\d])0\d{2,3}-\d{7,8}(?!\d)"  # landline with its area code
)
PERSONAL_KEYS = frozenset({
    "name", "id_number", "phone", "mobile", "telephone", "contact", "complainant",
    "complainant_name", "person", "person_name", "party_name", "legal_representative",
    "姓名", "身份证号", "身份证号码", "手机", "手机号", "电话", "联系电话", "投诉人", "举报人",
})
_KEY_WORDS = "|".join(sorted((re.escape(k) for k in PERSONAL_KEYS), key=len, reverse=True))
KEYED_VALUE = re.compile(
    rf"(?P<key>(?<![\w])(?:{_KEY_WORDS})['\"]?\s*[:=：]\s*)"
    r"(?P<quote>['\"]?)(?P<value>[^'\",;)}\]\s]+)"
)
MASK = "***"


def mask_text(text: str) -> str:
    """``text`` with ID numbers, phone numbers and keyed personal values replaced."""
    text = ID_NUMBER.sub(MASK, text)
    text = PHONE.sub(MASK, text)
    return KEYED_VALUE.sub(lambda m: f"{m['key']}{m['quote']}{MASK}", text)


def mask_value(value: Any, key: str = "") -> Any:
    """A copy of ``value`` (str, dict, list, tuple) with personal data masked, recursively."""
    if key.lower() in PERSONAL_KEYS and isinstance(value, str | int) and value != "":
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v, key) for v in value]
    return value
