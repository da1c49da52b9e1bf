"""EDTF parsing and window expansion: the precision and day bounds users filter on."""

from __future__ import annotations

from datetime import date

import pytest

from app.dates import DateError, display_date, parse_edtf, parse_partial, span_class


@pytest.mark.parametrize(
    ("edtf", "precision", "start", "end", "approximate", "uncertain"),
    [
        ("2012-07-24", "day", "2012-07-24", "2012-07-24", False, False),
        ("2015-03", "month", "2015-03-01", "2015-03-31", False, False),
        ("2016-02", "month", "2016-02-01", "2016-02-29", False, False),
        ("2015", "year", "2015-01-01", "2015-12-31", False, False),
        ("2014-21", "season", "2014-03-01", "2014-05-31", False, False),
        ("2014-22", "season", "2014-06-01", "2014-08-31", False, False),
        ("2014-23", "season", "2014-09-01", "2014-11-30", False, False),
        ("2014-24", "season", "2014-12-01", "2015-02-28", False, False),
        ("2016-33", "season", "2016-01-01", "2016-03-31", False, False),
        ("2016-41", "season", "2016-07-01", "2016-12-31", False, False),
        ("2015-09/2015-10", "range", "2015-09-01", "2015-10-31", False, False),
        ("2003/2005", "range", "2003-01-01", "2005-12-31", False, False),
        ("2003~/2005", "range", "2003-01-01", "2005-12-31", True, False),
        ("2002-11~", "month", "2002-11-01", "2002-11-30", True, False),
        ("2014?", "year", "2014-01-01", "2014-12-31", False, True),
        ("2014-06%", "month", "2014-06-01", "2014-06-30", True, True),
        ("201X", "decade", "2010-01-01", "2019-12-31", False, False),
        ("19XX", "century", "1900-01-01", "1999-12-31", False, False),
        ("2015-XX", "year", "2015-01-01", "2015-12-31", False, False),
        ("2015-1X", "year", "2015-10-01", "2015-12-31", False, False),
        ("2015-03-XX", "month", "2015-03-01", "2015-03-31", False, False),
        ("2015-02-2X", "month", "2015-02-20", "2015-02-28", False, False),
        ("../2015-03", "range", "0001-01-01", "2015-03-31", False, False),
        ("2015-03/..", "range", "2015-03-01", "9999-12-31", False, False),
    ],
)
def test_parse_edtf(edtf, precision, start, end, approximate, uncertain):
    span = parse_edtf(edtf)
    assert (span.precision, span.start.isoformat(), span.end.isoformat()) == (
        precision,
        start,
        end,
    )
    assert (span.approximate, span.uncertain) == (approximate, uncertain)
    assert span.edtf == edtf


@pytest.mark.parametrize(
    ("edtf", "message"),
    [
        ("2015-13", "month 13 does not exist"),
        ("2015-02-30", "day 30 does not exist in 2015-02"),
        ("2015-00", "month 00 does not exist"),
        ("0000", "year must be between 0001 and 9999"),
        ("2016/2015", "the interval is reversed"),
        ("2015-06/2015-03", "the interval is reversed"),
        ("2015-21-01", "a season has no day"),
        ("2015-42", r"not a month \(01-12\) or an EDTF season"),
        ("15-03", "is not an EDTF date"),
        ("March 2015", "is not an EDTF date"),
        ("2015/2016/2017", "exactly one '/'"),
        ("../..", "at least one known end"),
        ("", "empty date"),
        ("201X-03", "a month needs a fully specified year"),
    ],
)
def test_parse_edtf_rejects(edtf, message):
    with pytest.raises(DateError, match=message):
        parse_edtf(edtf)


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2015", date(2015, 1, 1), date(2015, 12, 31)),
        ("2015-02", date(2015, 2, 1), date(2015, 2, 28)),
        ("2016-02", date(2016, 2, 1), date(2016, 2, 29)),
        ("2015-03-05", date(2015, 3, 5), date(2015, 3, 5)),
    ],
)
def test_parse_partial_expands_to_its_period(value, start, end):
    assert parse_partial(value) == (start, end)


@pytest.mark.parametrize(
    "value", ["2015-13", "2015-02-30", "0000", "2015~", "2015-21", "201X", "15", "2015/2016"]
)
def test_parse_partial_rejects_anything_but_plain_dates(value):
    with pytest.raises(DateError):
        parse_partial(value)


@pytest.mark.parametrize(
    ("edtf", "label"),
    [
        ("2015-03-05", "5 March 2015"),
        ("2015-03", "March 2015"),
        ("2014-21", "Spring 2014"),
        ("2015", "2015"),
        ("2003~/2005", "c. 2003–2005"),
        ("2015-09/2015-10", "September 2015–October 2015"),
        ("2002-11~", "c. November 2002"),
        ("2014?", "2014?"),
        ("201X", "2010s"),
        ("2015-03/..", "March 2015–…"),
    ],
)
def test_display_date(edtf, label):
    assert display_date(parse_edtf(edtf)) == label


@pytest.mark.parametrize(
    ("edtf", "expected"),
    [
        ("2015-03-05", 0),
        ("2015-02", 0),
        ("2015-03", 0),
        ("2015-22", 1),
        ("2015", 1),
        ("2016", 1),  # a leap year: 365 days from first to last
        ("2015-03/2015-05", 1),
        ("2003/2005", 2),
        ("1992/1997", 2),
    ],
)
def test_span_class_groups_events_by_how_long_they_may_last(edtf, expected):
    span = parse_edtf(edtf)
    assert span_class(span.start, span.end) == expected


USE = "use YYYY, YYYY-MM or YYYY-MM-DD"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2015-13", "month 13 does not exist: months run from 01 to 12"),
        ("2015-00", "month 00 does not exist: months run from 01 to 12"),
        ("2015-02-30", "2015-02-30: February 2015 has 28 days"),
        ("2016-02-30", "2016-02-30: February 2016 has 29 days"),
        ("2015-04-31", "2015-04-31: April 2015 has 30 days"),
        ("2015-03-32", "day 32 does not exist: days run from 01 to 31"),
        ("0000", "year 0000 does not exist: years run from 0001 to 9999"),
        (
            "2015-1",
            "'2015-1': use YYYY, YYYY-MM or YYYY-MM-DD (months and days have two digits: 2015-01)",
        ),
        ("2015/03/08", "'2015/03/08': use YYYY, YYYY-MM or YYYY-MM-DD (with hyphens: 2015-03-08)"),
        (
            "yesterday",
            f"'yesterday': {USE} (a year, month or day in digits, such as 2015-03; "
            "words are not dates here)",
        ),
        (
            "08.03.2015",
            f"'08.03.2015': {USE} (the year first, with four digits: 2015-03-08)",
        ),
        (
            "201X",
            f"'201X': {USE} (for a decade or century give both ends: from=2010&to=2019)",
        ),
        (
            "2015~",
            "'2015~': use YYYY, YYYY-MM or YYYY-MM-DD (filters take plain dates: leave out '~')",
        ),
    ],
)
def test_each_kind_of_bad_filter_date_has_its_own_sentence(value, message):
    with pytest.raises(DateError) as raised:
        parse_partial(value)
    assert str(raised.value) == message
