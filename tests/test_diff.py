"""`timeline diff`: what changed between two dataset directories, without a database."""

from __future__ import annotations

import json

from app.diff import diff_datasets, format_diff
from app.reader import read_dataset
from tests.conftest import FIXTURE_DATA
from tests.factories import add_events, event
from tests.test_cli import run
from tests.test_versions import ADDED, CHANGED, REMOVED, edit, edited_copy

NEW_TITLE = "Umarali Quvvatov killed in Istanbul"


def test_the_three_changes_are_printed_for_a_curator(tmp_path):
    new = edited_copy(tmp_path)
    result = run("diff", str(FIXTURE_DATA), str(new))
    assert result.returncode == 0, result.stderr
    old_title = next(
        e.record.title for e in read_dataset(FIXTURE_DATA).events if e.record.id == CHANGED
    )
    removed = next(e for e in read_dataset(FIXTURE_DATA).events if e.record.id == REMOVED)
    assert result.stdout == (
        "events: 1 added, 1 changed, 1 removed\n"
        "\n"
        f"+ {ADDED}  A test event  (events/extra.yaml)\n"
        f"- {REMOVED}  {removed.record.title}  ({removed.file})\n"
        f"~ {CHANGED}  {NEW_TITLE}  (events/2015.yaml)\n"
        f'    title: "{old_title}" → "{NEW_TITLE}"\n'
    )


def test_json_lists_the_same_changes(tmp_path):
    new = edited_copy(tmp_path)
    result = run("diff", str(FIXTURE_DATA), str(new), "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    events = body["events"]
    assert [e["id"] for e in events["added"]] == [ADDED]
    assert [e["id"] for e in events["removed"]] == [REMOVED]
    assert [(c["id"], list(c["fields"])) for c in events["changed"]] == [(CHANGED, ["title"])]
    assert events["changed"][0]["fields"]["title"]["new"] == NEW_TITLE
    assert (
        body["actors"]
        == body["places"]
        == body["sources"]
        == {
            "added": [],
            "removed": [],
            "changed": [],
        }
    )


def test_list_fields_show_the_items_that_went_and_came(tmp_path):
    new = edited_copy(tmp_path)
    edit(new, CHANGED, tags=["transnational-repression", "istanbul"], notes="Checked.")
    diff = diff_datasets(read_dataset(FIXTURE_DATA), read_dataset(new))
    (changed,) = diff["events"].changed
    old_tags = changed.fields["tags"][0]
    assert set(changed.fields) == {"title", "tags", "notes"}
    text = format_diff(diff)
    assert '      + "istanbul"' in text
    assert all(f'      - "{tag}"' in text for tag in old_tags if tag != "transnational-repression")
    assert '    notes: null → "Checked."' in text


def test_identical_directories_have_no_differences(tmp_path):
    result = run("diff", str(FIXTURE_DATA), str(FIXTURE_DATA))
    assert (result.returncode, result.stdout) == (0, "no differences\n")


def test_an_invalid_side_is_reported_and_nothing_compared(tmp_path):
    new = edited_copy(tmp_path)
    add_events(new, event(id="bad", date="2015-02-30"), name="bad.yaml")
    result = run("diff", str(FIXTURE_DATA), str(new))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "'2015-02-30': day 30 does not exist in 2015-02" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"the new dataset ({new}) is invalid; nothing compared"
    )
