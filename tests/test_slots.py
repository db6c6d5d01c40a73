"""The one slot grammar (the API's, the portal's and the staff pages' slots) and the one
"the slot has ended" rule."""
import datetime as dt
import doctest

import pytest

from cowin_kit.scheduling import slots
from cowin_kit.scheduling.slots import SlotError, SlotTimes


def test_doctests():
    assert doctest.testmod(slots).failed == 0


@pytest.mark.parametrize("text, times", [
    ("09:00-11:00", (dt.time(9), dt.time(11))),
    ("9:00 - 11:00", (dt.time(9), dt.time(11))),
    ("09.30–13.00", (dt.time(9, 30), dt.time(13))),
    ("09:00AM-11:00AM", (dt.time(9), dt.time(11))),
    ("11:00AM-01:00PM", (dt.time(11), dt.time(13))),
    ("12:00AM-12:30am", (dt.time(0), dt.time(0, 30))),
    ("16:00:00-18:00:00", (dt.time(16), dt.time(18))),
])
def test_a_slot_is_read_whichever_way_it_is_written(text, times):
    assert slots.parse(text) == SlotTimes(*times)


def test_what_the_kit_writes_it_reads_back():
    for start, end in [(dt.time(0), dt.time(1)), (dt.time(11, 30), dt.time(12, 15)),
                       (dt.time(23), dt.time(23, 59))]:
        assert slots.parse(slots.text(start, end)) == (start, end)


@pytest.mark.parametrize("text, msgid", [
    ("9-11", slots.MSG_NOT_A_SLOT), ("nine", slots.MSG_NOT_A_SLOT),
    ("09:00", slots.MSG_NOT_A_SLOT), ("09:00-" + "1" * 40, slots.MSG_NOT_A_SLOT),
    ("25:00-26:00", slots.MSG_NOT_A_TIME), ("09:60-10:00", slots.MSG_NOT_A_TIME),
    ("13:00PM-02:00PM", slots.MSG_NOT_A_TIME),
])
def test_what_is_not_a_slot_is_refused_with_the_reason(text, msgid):
    with pytest.raises(SlotError) as refused:
        slots.parse(text)
    assert refused.value.msgid == msgid and refused.value.field == "slots"
    assert refused.value.params == {"slot": text}


def test_lists_and_starts():
    assert slots.parse_list("09:00-11:00,11:00-13:00;\n14:00-16:00;") == [
        (dt.time(9), dt.time(11)), (dt.time(11), dt.time(13)), (dt.time(14), dt.time(16))]
    assert slots.parse_list("  ") == []
    for text in ("09:00", "09:00:00", "9:00", "09:00AM", "09:00AM-11:00AM", "09:00-11:00"):
        assert slots.parse_start(text) == dt.time(9), text
    for text in ("nine", "", "25:00", "09:00-" + "1" * 40):
        assert slots.parse_start(text) is None, text


def test_a_slot_has_ended_once_its_end_has_passed_on_its_day():
    today, ends = dt.date(2031, 3, 3), dt.time(11)
    assert not slots.has_ended(today, ends, today=today, now=dt.time(10, 59))
    assert slots.has_ended(today, ends, today=today, now=dt.time(11))
    assert not slots.has_ended(today + dt.timedelta(days=1), ends, today=today,
                               now=dt.time(23))
    assert slots.has_ended(today - dt.timedelta(days=1), ends, today=today, now=dt.time(0))
