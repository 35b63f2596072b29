"""How a commitment is judged (ledger.progress): every threshold and edge (issue #12)."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.progress import (
    Status,
    assess,
    due_by,
    elapsed_share,
    judge,
    range_target,
    whole_months,
    whole_weeks,
)

PERIOD = (date(2021, 9, 1), date(2022, 8, 31))  # Wednesday to Wednesday


def test_whole_iso_weeks_lie_wholly_inside_the_range():
    weeks = whole_weeks(*PERIOD)
    assert weeks[0] == date(2021, 9, 6)  # the first Monday after a Wednesday start
    assert weeks[-1] == date(2022, 8, 22)  # its Sunday, 28 Aug, is the last whole one
    assert len(weeks) == 51
    assert whole_weeks(date(2022, 1, 3), date(2022, 1, 9)) == [date(2022, 1, 3)]
    assert whole_weeks(date(2022, 1, 3), date(2022, 1, 8)) == []  # ends on a Saturday
    assert whole_weeks(date(2022, 1, 4), date(2022, 1, 16)) == [date(2022, 1, 10)]


def test_whole_months_lie_wholly_inside_the_range():
    assert len(whole_months(*PERIOD)) == 12  # September to August
    assert whole_months(date(2022, 1, 2), date(2022, 3, 31)) == [date(2022, 2, 1), date(2022, 3, 1)]
    assert whole_months(date(2022, 2, 1), date(2022, 2, 27)) == []
    assert whole_months(date(2024, 2, 1), date(2024, 2, 29)) == [date(2024, 2, 1)]  # leap


def test_targets_are_whole_numbers_of_whole_periods():
    assert range_target(2, "week", *PERIOD) == 102  # not 2 × 365/7 = 104.3
    assert range_target(1, "month", *PERIOD) == 12
    assert range_target(1, "period", *PERIOD) == 1
    quarter = (date(2022, 1, 1), date(2022, 3, 31))  # a Saturday to a Thursday
    assert range_target(5, "week", *quarter) == 5 * 12
    assert range_target(2, "month", *quarter) == 6


def test_what_is_due_counts_the_weeks_ended_by_the_end_of_the_day():
    sunday, monday = date(2021, 9, 12), date(2021, 9, 13)
    assert due_by(2, "week", *PERIOD, date(2021, 9, 11), None) == 0
    assert due_by(2, "week", *PERIOD, sunday, None) == 2  # at the end of its Sunday
    assert due_by(2, "week", *PERIOD, monday, None) == 2
    assert due_by(1, "month", *PERIOD, date(2021, 9, 30), None) == 1
    assert due_by(1, "month", *PERIOD, date(2021, 9, 29), None) == 0


def test_a_per_period_target_falls_due_after_its_day():
    due = date(2022, 5, 31)
    assert due_by(1, "period", *PERIOD, due, due) == 0
    assert due_by(1, "period", *PERIOD, date(2022, 6, 1), due) == 1
    assert due_by(1, "period", *PERIOD, date(2022, 8, 31), None) == 0  # due on its last day
    assert due_by(1, "period", *PERIOD, date(2022, 9, 1), None) == 1


@pytest.mark.parametrize(
    ("delivered", "target", "due", "ended", "status"),
    [
        (102, 102, 102, True, Status.met),  # exactly the target
        (103, 102, 50, False, Status.met),  # met early
        (100, 102, 102, True, Status.missed),  # 100 of 102 after the end is not "on track"
        (0, 1, 1, True, Status.missed),  # the event that never happened
        (0, 102, 0, False, Status.not_started),  # nothing due yet, nothing done
        (1, 102, 0, False, Status.on_track),  # started before anything was due
        (0, 102, 2, False, Status.behind),  # something is due and nothing is done
        (9, 102, 10, False, Status.on_track),  # 90 % of what is due
        (8.99, 102, 10, False, Status.behind),  # just under
        (0, 1, 1, False, Status.behind),  # a per-period target past its due day
        (0, 0, 0, True, Status.met),  # nothing was promised for the range
    ],
)
def test_every_status_threshold(delivered, target, due, ended, status):
    assert judge(delivered, target, due, ended=ended) is status


def test_once_the_range_has_ended_it_is_met_or_missed():
    for delivered in (0, 50, 101, 101.9):
        status = assess(delivered, 2, "week", *PERIOD, date(2022, 9, 15)).status
        assert status is Status.missed
    assert assess(102, 2, "week", *PERIOD, date(2022, 9, 15)).status is Status.met
    # The last day of the range is judged at its end: the range has ended.
    assert assess(0, 1, "period", *PERIOD, PERIOD[1]).status is Status.missed


def test_assess_gives_target_due_and_status_together():
    judged = assess(30, 2, "week", *PERIOD, date(2021, 12, 5))
    assert (judged.target, judged.due) == (102, 26)  # 13 whole weeks ended by 5 Dec
    assert judged.status is Status.on_track  # 30 ≥ 0.9 × 26


def test_elapsed_share_is_a_fraction_of_the_days():
    assert elapsed_share(*PERIOD, date(2021, 8, 1)) == 0.0
    assert elapsed_share(*PERIOD, date(2023, 1, 1)) == 1.0
    assert elapsed_share(date(2021, 9, 1), date(2021, 9, 28), date(2021, 9, 14)) == 0.5
