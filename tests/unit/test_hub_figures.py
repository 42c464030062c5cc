"""The hub's pure statistics code: increments, percentiles, periods, defused exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

from openpyxl import load_workbook

from protocol.v1.messages import EventRecordedBody
from services.hub import counters, exports
from services.hub.counting import increments, percentile
from services.hub.figures import figures

AT = dt.datetime(2026, 3, 31, 17, 0, tzinfo=dt.UTC)  # 1 April in China


def body(**over: object) -> EventRecordedBody:
    fields: dict[str, object] = {
        "event_id": uuid.uuid4(), "request_id": uuid.uuid4(), "event_type": "replied",
        "requester": "330110", "recipient": "510107", "occurred_at": AT,
        "on_time": True, "turnaround_days": 75, "kind": "merchant_registration"}
    return EventRecordedBody.model_validate(fields | over)


def test_a_reply_counts_in_every_scope_with_its_histogram_bucket() -> None:
    incs = increments(body())
    scopes = {s for s, _, _ in incs}
    assert scopes == {"all", "req:330110", "rcp:510107", "reqp:33", "rcpp:51", "flow:33>51",
                      "kind:merchant_registration"}
    assert ("all", "tat:60", 1) in incs  # capped bucket
    assert ("all", "turnaround_days", 75) in incs


def test_a_bulk_event_counts_its_items_and_an_untold_kind_has_no_kind_scope() -> None:
    incs = increments(body(event_type="item_answered", count=40, kind=None,
                           on_time=None, turnaround_days=None))
    assert ("all", "item_answered", 40) in incs
    assert not any(s.startswith("kind:") for s, _, _ in incs)


def test_percentiles_are_exact_on_the_histogram() -> None:
    hist = {1: 5, 2: 3, 3: 1, 10: 1}
    assert percentile(hist, 0.5) == 1
    assert percentile(hist, 0.8) == 2
    assert percentile(hist, 0.9) == 3
    assert percentile({}, 0.5) is None
    f = figures({"replied": 2, "replied_on_time": 1, "turnaround_days": 7, "tat:3": 1,
                 "tat:4": 1, "item_answered": 5})
    assert (f["completed_checks"], f["on_time_rate"], f["median_turnaround_days"]) == (7, 0.5, 3)


def test_a_period_is_whole_months_plus_the_days_at_its_edges() -> None:
    d = dt.date
    assert counters._edges(d(2026, 1, 15), d(2026, 4, 10)) == (
        d(2026, 2, 1), d(2026, 4, 1), d(2026, 1, 15), d(2026, 4, 10))
    assert counters._edges(d(2026, 1, 1), d(2026, 3, 31))[:2] == (d(2026, 1, 1), d(2026, 4, 1))
    lo, hi, *_ = counters._edges(d(2026, 1, 5), d(2026, 1, 20))  # inside a month: days only
    assert lo == hi


def test_csv_has_a_bom_and_defused_formula_cells() -> None:
    data = exports.to_csv(["key", "n"], [["=1+1", 3], ["浙江", None], ["@x", -2]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["key", "n"], ["'=1+1", "3"], ["浙江", ""], ["'@x", "-2"]]


def test_xlsx_keeps_numbers_and_defuses_text() -> None:
    data = exports.to_xlsx("t", ["key", "n"], [["+cmd", 3], ["四川", 0.5]])
    ws = load_workbook(io.BytesIO(data)).active
    assert [[c.value for c in r] for r in ws.iter_rows()] == [
        ["key", "n"], ["'+cmd", 3], ["四川", 0.5]]
