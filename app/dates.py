"""EDTF dates as day spans, and the API's partial dates as query windows.

An event's date keeps the precision its source supports; querying and sorting need day
bounds, so every EDTF string becomes a `Span` (start, end, precision, flags).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

Precision = Literal["day", "month", "season", "year", "decade", "century", "millennium", "range"]

EARLIEST = date(1, 1, 1)
LATEST = date(9999, 12, 31)

# EDTF level 1 single date: year with optional trailing X digits, optional month (or
# season code 21-41) and day, each may be partly unspecified (X), then a qualifier:
# ? uncertain, ~ approximate, % both.
_SINGLE = re.compile(
    r"^(?P<year>\d{4}|\d{3}X|\d{2}XX|\dXXX)"
    r"(?:-(?P<month>\d{2}|[01X]X)"
    r"(?:-(?P<day>\d{2}|[0-3X]X))?)?"
    r"(?P<qualifier>[?~%])?$"
)
_PARTIAL = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?$")

# Season and sub-year codes of EDTF (ISO 8601-2): (first month, number of months).
# Winter (24, 28, 30 for the southern summer...) runs into the next year.
_SUB_YEAR: dict[int, tuple[int, int, str]] = {
    21: (3, 3, "Spring"),
    22: (6, 3, "Summer"),
    23: (9, 3, "Autumn"),
    24: (12, 3, "Winter"),
    25: (3, 3, "Spring"),
    26: (6, 3, "Summer"),
    27: (9, 3, "Autumn"),
    28: (12, 3, "Winter"),
    29: (9, 3, "Spring"),
    30: (12, 3, "Summer"),
    31: (3, 3, "Autumn"),
    32: (6, 3, "Winter"),
    33: (1, 3, "Q1"),
    34: (4, 3, "Q2"),
    35: (7, 3, "Q3"),
    36: (10, 3, "Q4"),
    37: (1, 4, "First quadrimester"),
    38: (5, 4, "Second quadrimester"),
    39: (9, 4, "Third quadrimester"),
    40: (1, 6, "First half"),
    41: (7, 6, "Second half"),
}


class DateError(ValueError):
    """A date string that is not valid EDTF, or names a day that does not exist."""


@dataclass(frozen=True, slots=True)
class Span:
    """An EDTF date resolved to inclusive day bounds."""

    edtf: str
    start: date
    end: date
    precision: Precision
    approximate: bool = False
    uncertain: bool = False
    season: str | None = None  # "Spring", "Q1"... for season-precision dates


# Span classes: an event lasting at most SPAN_CLASS_DAYS[k] days (end - start) is in
# class k, a longer one in class len(SPAN_CLASS_DAYS). Window queries bound each class's
# start separately (migration 0003 classes existing rows with these same limits).
SPAN_CLASS_DAYS = (31, 366)


def span_class(start: date, end: date) -> int:
    """The span class of an event from `start` to `end` (see SPAN_CLASS_DAYS)."""
    days = (end - start).days
    return next(
        (k for k, limit in enumerate(SPAN_CLASS_DAYS) if days <= limit), len(SPAN_CLASS_DAYS)
    )


def parse_edtf(value: str) -> Span:
    """Parse an EDTF date or interval (`2015-03`, `2016-21`, `2003/2005`, `2002-11~`)."""
    text = value.strip()
    if not text:
        raise DateError("empty date")
    if "/" in text:
        return _parse_interval(text)
    return _parse_single(text)


def interval_ends(text: str) -> tuple[Span | None, Span | None]:
    """The spans of an interval's two ends; None for an open or unknown end (`..` or blank)."""
    left, _, right = text.partition("/")
    return _end(left), _end(right)


def _end(side: str) -> Span | None:
    return None if side in ("", "..") else _parse_single(side)


def _parse_interval(text: str) -> Span:
    left, _, right = text.partition("/")
    if "/" in right:
        raise DateError(f"{text!r}: an interval has exactly one '/'")
    first, last = _end(left), _end(right)
    if first is None and last is None:
        raise DateError(f"{text!r}: an interval needs at least one known end")
    start = first.start if first else EARLIEST
    end = last.end if last else LATEST
    if first and last and first.start > last.start:
        raise DateError(f"{text!r}: the interval is reversed ({left} starts after {right})")
    return Span(
        edtf=text,
        start=start,
        end=end,
        precision="range",
        approximate=any(s.approximate for s in (first, last) if s),
        uncertain=any(s.uncertain for s in (first, last) if s),
    )


def _parse_single(text: str) -> Span:
    match = _SINGLE.match(text)
    if not match:
        raise DateError(
            f"{text!r} is not an EDTF date (expected forms like 2015, 2015-03, 2015-03-05, "
            "2016-21, 201X, 2003/2005, 2002-11~)"
        )
    qualifier = match["qualifier"] or ""
    year_text, month_text, day_text = match["year"], match["month"], match["day"]
    approximate = qualifier in ("~", "%")
    uncertain = qualifier in ("?", "%")

    def span(start: date, end: date, precision: Precision) -> Span:
        return Span(text, start, end, precision, approximate, uncertain)

    year_lo, year_hi = int(year_text.replace("X", "0")), int(year_text.replace("X", "9"))
    if year_lo < 1:
        raise DateError(f"{text!r}: year must be between 0001 and 9999")
    unspecified = year_text.count("X")
    if unspecified:
        if month_text is not None:
            raise DateError(f"{text!r}: a month needs a fully specified year")
        precision: Precision = ("decade", "century", "millennium")[unspecified - 1]
        return span(date(year_lo, 1, 1), date(year_hi, 12, 31), precision)

    year = year_lo
    if month_text is None:
        return span(date(year, 1, 1), date(year, 12, 31), "year")

    if "X" not in month_text and int(month_text) >= 21:
        if day_text is not None:
            raise DateError(f"{text!r}: a season has no day")
        return _season(text, year, int(month_text), approximate, uncertain)

    month_lo, month_hi = _digit_range(month_text, 1, 12)
    if month_lo > month_hi or not (1 <= month_lo <= 12):
        raise DateError(f"{text!r}: month {month_text} does not exist")
    if "X" in month_text:
        if day_text is not None and day_text != "XX":
            raise DateError(f"{text!r}: a day needs a fully specified month")
        return span(date(year, month_lo, 1), _month_end(year, month_hi), "year")

    month = month_lo
    last_day = calendar.monthrange(year, month)[1]
    if day_text is None:
        return span(date(year, month, 1), date(year, month, last_day), "month")
    day_lo, day_hi = _digit_range(day_text, 1, last_day)
    if day_lo > day_hi or not (1 <= day_lo <= last_day):
        raise DateError(f"{text!r}: day {day_text} does not exist in {year:04d}-{month:02d}")
    if "X" in day_text:  # 2015-03-1X: known to the month
        return span(date(year, month, day_lo), date(year, month, day_hi), "month")
    return span(date(year, month, day_lo), date(year, month, day_lo), "day")


def _digit_range(text: str, lowest: int, highest: int) -> tuple[int, int]:
    """Bounds of a two-digit field with unspecified (X) digits, clamped to its range."""
    if "X" not in text:
        value = int(text)
        return value, value
    lo = max(int(text.replace("X", "0")), lowest)
    hi = min(int(text.replace("X", "9")), highest)
    return lo, hi


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _season(text: str, year: int, code: int, approximate: bool, uncertain: bool) -> Span:
    if code not in _SUB_YEAR:
        raise DateError(f"{text!r}: {code} is not a month (01-12) or an EDTF season (21-41)")
    first_month, months, label = _SUB_YEAR[code]
    last_index = first_month - 1 + months - 1
    end_year, end_month = year + last_index // 12, last_index % 12 + 1
    if end_year > 9999:
        raise DateError(f"{text!r}: the season ends after 9999")
    return Span(
        text,
        date(year, first_month, 1),
        _month_end(end_year, end_month),
        "season",
        approximate,
        uncertain,
        season=label,
    )


def parse_partial(value: str) -> tuple[date, date]:
    """The period a `YYYY`, `YYYY-MM` or `YYYY-MM-DD` filter value names, as day bounds.

    Each kind of mistake gets its own sentence for people: a month or day that does not
    exist, a day past the end of its month, or a value of another form.
    """
    text = value.strip()
    match = _PARTIAL.match(text)
    if not match:
        raise DateError(f"{text!r}: use YYYY, YYYY-MM or YYYY-MM-DD{_form_hint(text)}")
    year, month = int(match["year"]), match["month"]
    if year < 1:
        raise DateError("year 0000 does not exist: years run from 0001 to 9999")
    if month is not None and not 1 <= int(month) <= 12:
        raise DateError(f"month {month} does not exist: months run from 01 to 12")
    day = match["day"]
    if day is not None:
        last = calendar.monthrange(year, int(month or 1))[1]
        if not 1 <= int(day) <= 31:
            raise DateError(f"day {day} does not exist: days run from 01 to 31")
        if int(day) > last:
            name = calendar.month_name[int(month or 1)]
            raise DateError(f"{text}: {name} {year:04d} has {last} days")
    span = _parse_single(text)
    return span.start, span.end


def _form_hint(text: str) -> str:
    """What is wrong with a value of the wrong form, when it can be told."""
    if re.fullmatch(r"\d{1,3}X{1,3}", text):
        low, high = text.replace("X", "0"), text.replace("X", "9")
        return f" (for a decade or century give both ends: from={low}&to={high})"
    if text[-1:] in ("~", "?", "%"):
        return f" (filters take plain dates: leave out {text[-1]!r})"
    if any(c.isalpha() for c in text):
        return " (a year, month or day in digits, such as 2015-03; words are not dates here)"
    parts = re.split(r"[-/.]", text)
    if re.fullmatch(r"\d{4}(-\d{1,2}){1,2}", text):
        return f" (months and days have two digits: {_padded(parts)})"
    if re.fullmatch(r"\d{4}([/.]\d{1,2}){1,2}", text):
        return f" (with hyphens: {_padded(parts)})"
    if re.fullmatch(r"\d{1,2}", text) or re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}", text):
        return " (the year first, with four digits: 2015-03-08)"
    return " (such as 2015, 2015-03 or 2015-03-08)"


def _padded(parts: list[str]) -> str:
    return "-".join([parts[0], *(part.zfill(2) for part in parts[1:])])


def display_date(span: Span) -> str:
    """A human label for a span: 'c. 2003–2005', 'Spring 2014', 'March 2015', '5 March 2015'."""
    if span.precision == "range":
        label = "–".join(_label(end) if end else "…" for end in interval_ends(span.edtf))
    else:
        label = _label(span)
    if span.approximate:
        label = f"c. {label}"
    if span.uncertain:
        label = f"{label}?"
    return label


def _label(span: Span) -> str:
    if span.precision == "day":
        return f"{span.start.day} {calendar.month_name[span.start.month]} {span.start.year}"
    if span.precision == "month":
        return f"{calendar.month_name[span.start.month]} {span.start.year}"
    if span.precision == "season":
        return f"{span.season} {span.start.year}"
    if span.precision == "year":
        return str(span.start.year)
    if span.precision == "decade":
        return f"{span.start.year}s"
    return f"{span.start.year}–{span.end.year}"


@lru_cache(maxsize=65_536)
def date_label(edtf: str) -> str:
    """The `display_date` of an EDTF string (dates repeat a lot: worth remembering)."""
    return display_date(parse_edtf(edtf))
