"""The hub's pure statistics code: increments, percentiles, periods, defused exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

from openpyxl import load_workbook

from protocol.v1.messages import EventRecordedBody
from services.hub import counters, exports
from services.hub.counting import (
    TAT_CAP,
    increments,
    overdue_change,
    overdue_delta,
    overdue_pair_done,
    percentile,
)
from services.hub.figures import figures

AT = dt.datetime(2026, 3, 31, 17, 0, tzinfo=dt.UTC)  # 1 April in China


def body(**over: object) -> EventRecordedBody:
    fields: dict[str, object] = {
        "event_id": uuid.uuid4(), "request_id": uuid.uuid4(), "event_type": "replied",
        "requester": "330110", "recipient": "510107", "occurred_at": AT,
        "on_time": True, "turnaround_days": 75, "kind": "merchant_registration"}
    return EventRecordedBody.model_validate(fields | over)


def test_a_reply_counts_in_every_scope_with_its_working_day_bucket() -> None:
    # created Monday 23 March 2026, answered Wednesday 1 April (China): 9 calendar days,
    # 7 working days (24-27 March, 30-31 March, 1 April; Qingming is 4-6 April)
    incs = increments(body(turnaround_days=9))
    scopes = {s for s, _, _ in incs}
    assert scopes == {"all", "req:330110", "rcp:510107", "reqp:33", "rcpp:51", "flow:33>51",
                      "kind:merchant_registration"}
    assert {(m, n) for s, m, n in incs if s == "all"} == {
        ("replied", 1), ("replied_on_time", 1), ("turnaround_days", 9), ("wd:7", 1)}
    # the Spring Festival: 13 February (Friday) to 25 February 2026 is 12 calendar days
    # but 3 working days (Saturday 14 February worked, 15-23 off, 24 and 25)
    feb = body(occurred_at=dt.datetime(2026, 2, 25, 4, tzinfo=dt.UTC), turnaround_days=12)
    assert ("all", "wd:3", 1) in increments(feb)
    assert ("all", f"wd:{TAT_CAP}", 1) in increments(body(turnaround_days=400))  # capped


def test_a_bulk_event_counts_its_items_and_an_untold_kind_has_no_kind_scope() -> None:
    incs = increments(body(event_type="item_answered", count=40, kind=None,
                           on_time=None, turnaround_days=None))
    assert ("all", "item_answered", 40) in incs
    assert not any(s.startswith("kind:") for s, _, _ in incs)


def test_acceptances_ratings_and_agreed_dates_add_their_counters() -> None:
    def adds(**over: object) -> set[tuple[str, int]]:
        return {(m, n) for s, m, n in increments(body(**over)) if s == "all"}

    quick = {"event_type": "accepted", "on_time": None}
    assert adds(**quick, turnaround_days=7) == {("accepted", 1)}
    assert adds(**quick, turnaround_days=8) == {("accepted", 1), ("accepted_after_7d", 1)}
    assert adds(**quick, turnaround_days=None) == {("accepted", 1), ("accepted_untimed", 1)}
    assert adds(event_type="closed", on_time=None, turnaround_days=None, rating=4) == {
        ("closed", 1), ("rating:4", 1)}
    assert {("replied_agreed", 1), ("replied_agreed_on_time", 0)} <= adds(
        turnaround_days=9, due_date_agreed=True, on_time=False)


def test_the_overdue_gauge_pairs_a_mark_with_its_end_in_either_order() -> None:
    mark = body(event_type="reminded", overdue=True, on_time=None, turnaround_days=None)
    assert overdue_change(mark) == "mark"
    assert overdue_change(body(overdue=True)) == "end"
    assert overdue_change(body(event_type="reminded", on_time=None)) is None  # a manual one
    assert overdue_change(body(event_type="closed", overdue=True)) is None
    # in order: +1 then -1, the row goes with the end
    assert (overdue_delta("mark", None), overdue_delta("end", True)) == (1, -1)
    assert overdue_pair_done("end", True) and not overdue_pair_done("mark", None)
    # the end first: nothing, and the mark that follows counts nothing either
    assert (overdue_delta("end", None), overdue_delta("mark", False)) == (0, 0)
    assert overdue_pair_done("mark", False)
    # a repeated mark of an open request counts once
    assert overdue_delta("mark", True) == 0 and not overdue_pair_done("mark", True)


def test_percentiles_are_exact_on_the_histogram() -> None:
    hist = {1: 5, 2: 3, 3: 1, 10: 1}
    assert percentile(hist, 0.5) == 1
    assert percentile(hist, 0.8) == 2
    assert percentile(hist, 0.9) == 3
    assert percentile({}, 0.5) is None
    f = figures({"replied": 2, "replied_on_time": 1, "turnaround_days": 7, "wd:3": 1,
                 "wd:4": 1, "item_answered": 5, "accepted": 4, "accepted_after_7d": 1,
                 "accepted_untimed": 2, "rating:5": 2, "rating:2": 1, "replied_agreed": 2,
                 "replied_agreed_on_time": 1, "overdue_now": 3})
    assert (f["completed_checks"], f["on_time_rate"], f["median_turnaround_working_days"],
            f["p90_turnaround_working_days"]) == (7, 0.5, 3, 4)
    assert f["accepted_within_7_days_rate"] == 0.5  # 1 of the 2 that told their days
    assert (f["ratings"], f["average_rating"], f["rating_counts"]["5"]) == (3, 4.0, 2)
    assert (f["agreed_date_rate"], f["overdue_now"]) == (0.5, 3)


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
