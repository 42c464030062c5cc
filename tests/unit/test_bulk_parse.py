"""Bulk uploads: CSV (BOM, GB18030), XLSX and JSON into items and answers, bad rows reported
by the row number the user sees (header = row 1), good rows kept."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import openpyxl
import pytest
from stdnum.cn import ric, uscc

from protocol.v1.bulk import BATCH_SIZE, MAX_ITEMS, ComplainantItem, MerchantItem, ShopItem
from protocol.v1.messages import BulkItems
from services.desk.bulk import parse, sheets, views
from services.desk.bulk.sheets import CSV, JSON, XLSX, SheetError
from tests import evidence


def credit_code(n: int, division: str = "510107") -> str:
    first = f"91{division}MA{n:07d}"[:17]
    return first + uscc.calc_check_digit(first)


def id_number(n: int, born: str = "19900307") -> str:
    first = f"110101{born}{n % 1000:03d}"
    return first + ric.calc_check_digit(first + "0")


def xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def reasons(parsed: parse.Parsed[Any]) -> dict[int, str]:
    return {r.row: r.reason for r in parsed.rejected}


def test_csv_with_bom_and_chinese_headers() -> None:
    text = f"\ufeff统一社会信用代码,名称\n{credit_code(1).lower()},甲公司\n{credit_code(2)},\n"
    parsed = parse.parse_items(text.encode(), CSV)
    assert parsed.rejected == []
    assert [row for row, _ in parsed.good] == [2, 3]
    first, second = (item for _, item in parsed.good)
    assert first == MerchantItem(credit_code=credit_code(1), name="甲公司")  # upper-cased
    assert second.name is None


def test_gb18030_csv_from_excel_is_read() -> None:
    text = f"姓名,身份证号\n张三,{id_number(1)}\n"
    [(row, item)] = parse.parse_items(text.encode("gb18030"), CSV).good
    assert (row, item) == (2, ComplainantItem(name="张三", id_number=id_number(1)))


def test_bad_credit_code_and_bad_id_number_are_reported_good_rows_kept() -> None:
    bad_check = credit_code(3)[:-1] + ("0" if credit_code(3)[-1] != "0" else "1")
    text = (f"credit_code,name\n{credit_code(1)},a\n{bad_check},b\nXYZ,c\n{credit_code(2)},d\n")
    parsed = parse.parse_items(text.encode(), CSV)
    assert [row for row, _ in parsed.good] == [2, 5]
    assert set(reasons(parsed)) == {3, 4}
    assert "credit_code" in reasons(parsed)[3] and "credit code" in reasons(parsed)[3]

    wrong_digit = id_number(2)[:-1] + ("1" if id_number(2)[-1] != "1" else "2")
    bad_date = "110101" + "19901332" + "123" + "0"
    text = (f"name,id_number\n李四,{id_number(1)}\n王五,{wrong_digit}\n赵六,{bad_date}\n"
            f",{id_number(3)}\n")
    parsed = parse.parse_items(text.encode(), CSV)
    assert [row for row, _ in parsed.good] == [2]
    assert set(reasons(parsed)) == {3, 4, 5}
    assert "resident ID number" in reasons(parsed)[3]
    assert reasons(parsed)[5].startswith("name")


def test_xlsx_made_with_openpyxl_with_an_empty_row() -> None:
    data = xlsx([["姓名", "身份证号", "备注"], ["张三", id_number(1), None], [None, None, None],
                 ["李四", id_number(2), "x"], [], []])
    parsed = parse.parse_items(data, XLSX)
    assert [row for row, _ in parsed.good] == [2, 4]
    assert reasons(parsed) == {3: "empty row"}  # trailing blank rows are no rows


def test_json_list_of_mixed_kinds() -> None:
    body = [{"credit_code": credit_code(1)}, {"shop_url": "https://shop.example.com/9",
                                              "platform": "淘宝"},
            {"name": "张三", "id_number": id_number(1)}, "not an object",
            {"kind": "shop", "shop_url": "ftp://nope"}, {"kind": "robot", "credit_code": "x"}]
    parsed = parse.parse_items(json.dumps(body).encode(), JSON)
    kinds = [type(item) for _, item in parsed.good]
    assert kinds == [MerchantItem, ShopItem, ComplainantItem]
    assert set(reasons(parsed)) == {4, 5, 6}  # position in the list, from 1
    assert "kind must be one of" in reasons(parsed)[6]


@pytest.mark.parametrize(("text", "column"), [
    ("名称,备注\n甲,乙\n", "credit_code, shop_url or id_number"),
    (f"id_number\n{id_number(1)}\n", "name"),
])
def test_missing_column_is_reported_on_the_header_row(text: str, column: str) -> None:
    with pytest.raises(SheetError) as caught:
        parse.parse_items(text.encode(), CSV)
    assert caught.value.row == 1 and "missing column" in caught.value.reason
    assert column in caught.value.reason


def test_unreadable_bodies_are_whole_file_errors() -> None:
    with pytest.raises(SheetError):
        parse.parse_items(b"PK\x03\x04 not really a zip", XLSX)
    with pytest.raises(SheetError) as caught:
        parse.parse_items(b"[{", JSON)
    assert caught.value.malformed


def test_duplicates_within_the_upload_and_against_stored_items() -> None:
    text = f"credit_code\n{credit_code(1)}\n{credit_code(2)}\n{credit_code(1)}\n{credit_code(3)}\n"
    parsed = parse.parse_items(text.encode(), CSV)
    known = {f"merchant:{credit_code(3)}": 7}
    admitted = parse.admit(parsed, known, capacity=100)
    assert [row for row, _ in admitted.good] == [2, 3]
    assert reasons(admitted) == {4: "duplicate of row 2", 5: "duplicate of item 7 of this request"}


def test_more_than_10000_rows_keeps_the_first_10000_good_ones() -> None:
    lines = [credit_code(n) for n in range(1, MAX_ITEMS + 6)]
    lines.insert(99, "not-a-code")  # row 101
    text = "credit_code\n" + "\n".join(lines) + "\n"
    admitted = parse.admit(parse.parse_items(text.encode(), CSV), {}, capacity=MAX_ITEMS)
    assert len(admitted.good) == MAX_ITEMS
    assert admitted.good[-1][0] == MAX_ITEMS + 2  # header and the bad row before it
    bad = reasons(admitted)
    assert "credit_code" in bad[101]
    over = [row for row, reason in bad.items() if "over the limit" in reason]
    assert over == list(range(MAX_ITEMS + 3, MAX_ITEMS + 8))


def test_capacity_counts_what_the_request_already_has() -> None:
    text = "credit_code\n" + "\n".join(credit_code(n) for n in range(1, 6)) + "\n"
    admitted = parse.admit(parse.parse_items(text.encode(), CSV), {}, capacity=3)
    assert [row for row, _ in admitted.good] == [2, 3, 4]
    assert set(reasons(admitted)) == {5, 6}


def test_answers_from_a_filled_in_sheet() -> None:
    rows = [{"idx": n, "kind": "merchant", "data": {"credit_code": credit_code(n)},
             "status": "pending", "answer": None} for n in range(1, 7)]
    book = openpyxl.load_workbook(io.BytesIO(views.render(rows, "xlsx")))
    sheet = book.active
    assert [c.value for c in sheet[1]] == list(views.SHEET_COLUMNS)
    fill = {2: "confirmed", 3: "NOT_FOUND", 4: "maybe", 5: "mismatch", 6: "confirmed"}
    for row, result in fill.items():
        sheet.cell(row=row, column=9, value=result)
    sheet.cell(row=5, column=10, value="名称不符")
    sheet.cell(row=6, column=1, value=99)
    out = io.BytesIO()
    book.save(out)
    parsed = parse.parse_answers(out.getvalue(), XLSX)
    assert [(row, a.idx, a.result.value) for row, a in parsed.good] == [
        (2, 1, "confirmed"), (3, 2, "not_found"), (5, 4, "mismatch"), (6, 99, "confirmed")]
    assert set(reasons(parsed)) == {4}  # row 7 (item 6) left blank: not answered yet
    current = {1: None, 2: {"result": "confirmed"}, 3: None, 4: None, 5: None, 6: None}
    outcome = parse.sort_answers(parsed, current)
    assert [a.idx for a in outcome.new] == [1, 4]
    assert outcome.unchanged == 0
    assert {r.row: r.reason for r in outcome.rejected} == {
        3: "item 2 was already answered (confirmed)", 4: reasons(parsed)[4],
        6: "this request has no item 99"}


def test_answers_as_json_repeat_and_duplicate() -> None:
    body = [{"idx": 1, "result": "confirmed", "note": "ok"}, {"idx": 1, "result": "other"},
            {"idx": 2, "result": "confirmed"}, {"result": "confirmed"}]
    parsed = parse.parse_answers(json.dumps(body).encode(), JSON)
    outcome = parse.sort_answers(parsed, {1: {"result": "confirmed", "note": "ok"}, 2: None})
    assert outcome.unchanged == 1 and [a.idx for a in outcome.new] == [2]
    assert [r.row for r in outcome.rejected] == [2, 4]


def test_sheets_defuse_formulas() -> None:
    rows = [{"idx": 1, "kind": "shop", "data": {"shop_url": "https://x.example/",
                                                 "name": "=HYPERLINK(\"http://evil\")"},
             "status": "pending", "answer": None}]
    assert b"'=HYPERLINK" in views.render(rows, "csv")
    table = sheets.read_table(views.render(rows, "xlsx"), XLSX)
    assert table.rows[0].cells["name"] == "=HYPERLINK(\"http://evil\")"  # text, not a formula


def test_a_full_batch_of_the_largest_items_stays_well_under_1_mb() -> None:
    item = MerchantItem(credit_code=credit_code(1), name="商" * 100, platform="台" * 50,
                        shop_url="https://shop.example.com/" + "p" * 470)
    message = BulkItems(correlation_id="c", sender="330110", recipient="510107",
                        body={"request_id": uuid.uuid4(), "batch_id": uuid.uuid4(),
                              "first_idx": 1, "items": [item] * BATCH_SIZE})
    assert len(message.model_dump_json().encode()) < 600_000


# Hard caps: a few kilobytes never cost minutes of CPU or gigabytes of memory.

def test_an_xlsx_declaring_a1_xfd1048576_is_refused_before_reading() -> None:
    bomb = evidence.declaring(xlsx([["credit_code"], [credit_code(1)]]), "A1:XFD1048576")
    with pytest.raises(SheetError) as refused:
        parse.parse_items(bomb, XLSX)
    assert "declares 1048576 rows and 16384 columns" in refused.value.reason


def test_a_csv_of_blank_lines_stops_at_the_row_cap() -> None:
    blank = b"credit_code\n" + b"\n" * (8 * 1024 * 1024 - 12)
    with pytest.raises(SheetError) as refused:
        parse.parse_items(blank, CSV)
    assert refused.value.row == sheets.MAX_ROWS + 1


def test_an_xlsx_row_far_away_stops_at_the_row_cap_without_padding() -> None:
    book = openpyxl.Workbook()
    book.active.append(["credit_code"])
    book.active.cell(row=1_000_000, column=1, value=credit_code(2))
    out = io.BytesIO()
    book.save(out)
    lying = evidence.declaring(out.getvalue(), "A1")  # the dimension hides how far it goes
    with pytest.raises(SheetError) as refused:
        parse.parse_items(lying, XLSX)
    assert refused.value.row == sheets.MAX_ROWS + 1


@pytest.mark.parametrize(("body", "reason"), [
    (b",".join([b"credit_code"] + [b"c%d" % i for i in range(40)]) + b"\n", "columns"),
    (b"credit_code,name\n" + credit_code(3).encode() + b"," + b"x" * 3000 + b"\n", "characters"),
])
def test_columns_and_cells_are_capped(body: bytes, reason: str) -> None:
    with pytest.raises(SheetError) as refused:
        parse.parse_items(body, CSV)
    assert reason in refused.value.reason
