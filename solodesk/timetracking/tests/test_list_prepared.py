"""The API list's compiled queries (`TimeEntryRows.json_page`, `count_up_to`): one per
combination of filters, each giving the ORM's entries in the ORM's order
(`time_entry_list`), whatever the values, the page or the workspace."""

import datetime as dt

import pytest
from django.utils import timezone

from solodesk.tests.factories import ProjectFactory, TagFactory, TimeEntryFactory
from solodesk.timetracking.selectors import (
    _PREPARED_ROWS,
    TimeEntryFilters,
    time_entry_list,
    time_entry_list_rows,
)
from solodesk.timetracking.tests.helpers import entry_as_json, page_items, set_tags

# Monday 2 March 2026, 10:00 in Brussels (the factories' workspace time zone, UTC+1).
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def projects(owner, stranger):
    """Two clients' projects, 12 entries over four local days (two sharing a start, one
    just before midnight in Brussels), billable or not, one invoiced, some tagged; and a
    stranger's entries at the same times."""
    website = ProjectFactory(client__workspace=owner.workspace, name="Website")
    audit = ProjectFactory(client__workspace=owner.workspace, name="Audit")
    tags = [TagFactory(workspace=owner.workspace, name=name) for name in ("zeta", "alpha")]
    for index in range(12):
        entry = TimeEntryFactory(
            project=website if index % 3 else audit,
            user=owner.user,
            started_at=START + dt.timedelta(hours=7 * min(index, 10)),
            is_billable=index % 4 != 1,
            invoiced_at=timezone.now() if index == 2 else None,
        )
        if index % 2:
            set_tags(entry, tags[: 1 + index % 3 // 2])
    TimeEntryFactory(
        project=ProjectFactory(client__workspace=stranger.workspace),
        user=stranger.user,
        started_at=START,
    )
    return website, audit


FILTERS = [
    {},
    {"client": "website"},
    {"project": "audit"},
    {"date_from": dt.date(2026, 3, 3)},
    {"date_to": dt.date(2026, 3, 3)},
    {"date_from": dt.date(2026, 3, 3), "date_to": dt.date(2026, 3, 4)},
    {"billable": True},
    {"billable": False},
    {"unbilled": True},
    {"client": "website", "project": "website", "date_from": dt.date(2026, 3, 2)},
    {"client": "audit", "billable": True, "date_to": dt.date(2026, 3, 5), "unbilled": True},
]


def filters_for(spec: dict, website, audit) -> TimeEntryFilters:
    named = {"website": website, "audit": audit}
    return TimeEntryFilters(
        client_id=named[spec["client"]].client.public_id if "client" in spec else None,
        project_id=named[spec["project"]].public_id if "project" in spec else None,
        date_from=spec.get("date_from"),
        date_to=spec.get("date_to"),
        billable=spec.get("billable"),
        unbilled=spec.get("unbilled", False),
    )


@pytest.mark.parametrize("spec", FILTERS)
def test_every_combination_of_filters_lists_the_orms_entries_in_its_order(owner, projects, spec):
    filters = filters_for(spec, *projects)
    expected = [
        entry_as_json(entry)
        for entry in time_entry_list(workspace=owner.workspace, filters=filters)
    ]
    rows = time_entry_list_rows(workspace=owner.workspace, filters=filters)

    assert len(expected) >= 3  # every combination finds some entries, not all
    assert len(expected) < 12 or spec == {}
    assert page_items(rows, slice(0, 50)) == expected
    assert page_items(rows, slice(0, 2)) == expected[:2]
    assert page_items(rows, slice(2, 5)) == expected[2:5]
    assert page_items(rows, slice(20, 30)) == []
    assert rows.count_up_to(100) == len(expected)
    assert rows.count_up_to(3) == min(3, len(expected))
    assert rows.count_up_to(2) == min(2, len(expected))


def test_the_compiled_query_takes_each_requests_values(owner, stranger, projects):
    website, audit = projects
    march_3 = TimeEntryFilters(date_from=dt.date(2026, 3, 3), date_to=dt.date(2026, 3, 3))
    march_4 = TimeEntryFilters(date_from=dt.date(2026, 3, 4), date_to=dt.date(2026, 3, 4))
    first = time_entry_list_rows(workspace=owner.workspace, filters=march_3)
    second = time_entry_list_rows(workspace=owner.workspace, filters=march_4)
    of_audit = time_entry_list_rows(
        workspace=owner.workspace, filters=TimeEntryFilters(project_id=audit.public_id)
    )
    of_website = time_entry_list_rows(
        workspace=owner.workspace, filters=TimeEntryFilters(project_id=website.public_id)
    )

    assert [item["id"] for item in page_items(first, slice(0, 50))] == [
        str(entry.public_id)
        for entry in time_entry_list(workspace=owner.workspace, filters=march_3)
    ]
    assert [item["id"] for item in page_items(second, slice(0, 50))] == [
        str(entry.public_id)
        for entry in time_entry_list(workspace=owner.workspace, filters=march_4)
    ]
    assert {item["project_id"] for item in page_items(of_audit, slice(0, 50))} == {
        str(audit.public_id)
    }
    assert {item["project_id"] for item in page_items(of_website, slice(0, 50))} == {
        str(website.public_id)
    }
    # Another workspace, the same compiled query: only its own entry.
    strangers = time_entry_list_rows(workspace=stranger.workspace)
    assert len(page_items(strangers, slice(0, 50))) == 1
    assert strangers.count_up_to(100) == 1


def test_one_compiled_query_per_combination_of_filters(owner, projects):
    _PREPARED_ROWS.clear()
    for day in (2, 3, 4):
        rows = time_entry_list_rows(
            workspace=owner.workspace,
            filters=TimeEntryFilters(date_from=dt.date(2026, 3, day)),
        )
        page_items(rows, slice(0, 2))
        page_items(rows, slice(2, 4))
        rows.count_up_to(5)

    assert sorted(key[1] for key in _PREPARED_ROWS) == ["count", "first", "later"]
