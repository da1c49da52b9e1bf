"""`timeline verify-quotes`: every quote is in its source's archived text (curation rule 1).

Quote and text are compared with every run of whitespace read as one space, so a quote
need not follow the line breaks of the snapshot.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.dataset import Dataset
from app.errors import DatasetError, error_at, short

_SPACE = re.compile(r"\s+")


def normalize_space(text: str) -> str:
    """Collapse every whitespace run to one space: how quotes are compared to sources."""
    return _SPACE.sub(" ", text).strip()


def verify_quotes(dataset: Dataset, archive_dir: Path) -> tuple[int, list[DatasetError]]:
    """Check every quote is a whitespace-normalized substring of its source's archive.

    Returns the number of quotes checked and the problems found. Sources without an
    `archive` are not checked (they are outside sources with an address instead).
    """
    texts: dict[str, str | None] = {}
    problems: list[DatasetError] = []
    for item in dataset.sources:
        source = item.record
        if source.archive is None:
            continue
        path = archive_dir / source.archive
        try:
            texts[source.id] = normalize_space(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            texts[source.id] = None
            message = f"cannot read {path}: {exc}"
            problems.append(error_at(item.file, dataset.raw(item), source.id, ["archive"], message))
    checked = 0
    for located in dataset.events:
        event = located.record
        claims = [("citations", i, c.source, c.quote) for i, c in enumerate(event.citations)]
        claims += [("figures", i, f.source, f.quote) for i, f in enumerate(event.figures)]
        for group, index, source_id, quote in claims:
            text = texts.get(source_id)
            if text is None:
                continue
            checked += 1
            if normalize_space(quote) not in text:
                loc: list[int | str] = [group, index, "quote"]
                message = f"quote not found in {source_id}'s archive: {short(quote)!r}"
                problems.append(
                    error_at(located.file, dataset.raw(located), event.id, loc, message)
                )
    return checked, problems
