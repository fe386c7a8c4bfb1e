"""Issue 6 on the invoice pages: the list counts no further than it must and reads a deep
page through the index; an invoice's page shows its latest payments and activity, the
rest a page away; drafting from time stays under the line cap."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from solodesk.invoicing import selectors, services, views
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.tests.test_views import (
    FROM_TIME_URL,
    LIST_URL,
    draft,
    entry,
    issued,
    page,
    service_lines,
)
from solodesk.tests.factories import ClientFactory, ProjectFactory


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2 invoices, counted at most 3 past the page's start."""
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    monkeypatch.setattr(views, "COUNT_CAP", 3)


def _numbers(response) -> list[str]:
    return [invoice.number for invoice in response.context["page"].object_list]


# --- The list -----------------------------------------------------------------------------


def test_a_long_list_shows_a_capped_count_and_every_invoice_once_across_its_pages(
    owner, small_pages
):
    client = ClientFactory(workspace=owner.workspace)
    for day in range(1, 10):
        issued(owner, client=client, issue_date=dt.date(2026, 3, day))
    expected = [i.number for i in selectors.invoice_list(workspace=owner.workspace)]

    pages = [owner.client.get(LIST_URL, {"page": n}) for n in range(1, 6)]

    first = pages[0].content.decode()
    assert '<p class="muted" data-testid="count">3+ invoices</p>' in first
    assert "Page 1</span>" in first
    assert 'rel="next"' in first
    # The last page counts to the end: exact again.
    last = pages[-1].content.decode()
    assert '<p class="muted" data-testid="count">9 invoices</p>' in last
    assert "Page 5 of 5" in last
    assert 'rel="next"' not in last
    assert [number for response in pages for number in _numbers(response)] == expected
    assert len(expected) == 9


def test_a_page_past_the_end_shows_the_last_page(owner, small_pages):
    for _ in range(5):
        issued(owner)

    response = owner.client.get(LIST_URL, {"page": 99})

    assert response.status_code == 200
    assert response.context["page"].number == 3
    assert len(response.context["page"].object_list) == 1
    assert "Page 3 of 3" in response.content.decode()


def test_a_deep_page_of_a_tab_keeps_its_filter_and_order(owner, small_pages):
    client = ClientFactory(workspace=owner.workspace)
    for day in range(1, 6):
        issued(owner, client=client, issue_date=dt.date(2026, 3, day))
        draft(owner, client=client)
    paid = issued(owner, client=client, issue_date=dt.date(2026, 3, 9))
    services.payment_record(
        invoice=paid, user=owner.user, amount=paid.total, date=dt.date(2026, 3, 9), method="cash"
    )
    expected = list(selectors.invoice_list(workspace=owner.workspace, status=Invoice.Status.ISSUED))

    second = owner.client.get(LIST_URL, {"status": "issued", "page": 2})
    third = owner.client.get(LIST_URL, {"status": "issued", "page": 3})

    assert _numbers(second) == [invoice.number for invoice in expected[2:4]]
    assert _numbers(third) == [invoice.number for invoice in expected[4:]]
    assert 'href="?status=issued&amp;page=1" rel="prev"' in second.content.decode()
    assert "5 invoices" in third.content.decode()


def test_the_list_links_each_invoice_to_its_page(owner):
    one = issued(owner)

    content = owner.client.get(LIST_URL).content.decode()

    assert f'<a href="{page("detail", one)}">{one.number}</a>' in content


@pytest.mark.parametrize("rows", [3, 12])
def test_a_deep_page_costs_the_same_queries_as_the_first(
    owner, small_pages, rows, django_assert_num_queries
):
    for _ in range(rows):
        issued(owner)

    # 1 session, 2 user joined with running timer, 3 membership joined with workspace,
    # 4 the overdue prompts (one UNION query), 5 receivables per currency, 6 the capped
    # COUNT, 7 the page of invoices (found by their ids) joined with their clients.
    with django_assert_num_queries(7):
        response = owner.client.get(LIST_URL, {"page": 2})

    assert len(response.context["page"].object_list) == min(rows - 2, 2)


# --- An invoice's payments and activity -----------------------------------------------------


def _paid_in_instalments(owner, count: int) -> Invoice:
    invoice = issued(owner, lines=service_lines(1, "1000.00", "0"))
    for n in range(count):
        services.payment_record(
            invoice=invoice, user=owner.user, amount=Decimal("1.00"),
            date=dt.date(2026, 3, 1) + dt.timedelta(days=n), method="cash",
            reference=f"R-{n:02}",
        )  # fmt: skip
    return invoice


def test_the_invoice_page_shows_the_latest_twenty_payments_and_events_and_links_to_all(owner):
    invoice = _paid_in_instalments(owner, 25)

    response = owner.client.get(page("detail", invoice))

    content = response.content.decode()
    assert [p.reference for p in response.context["payments"]] == [
        f"R-{n:02}" for n in range(5, 25)
    ]
    assert "R-04" not in content
    assert 'data-testid="payments-more"' in content
    assert reverse("invoicing:payment_list", args=[invoice.public_id]) in content
    # created, issued, 25 payments recorded: the latest 20, the newest last.
    activities = response.context["activities"]
    assert len(activities) == 20
    assert activities == list(invoice.activities.order_by("created_at", "pk"))[-20:]
    assert 'data-testid="activity-more"' in content
    assert reverse("invoicing:activity_list", args=[invoice.public_id]) in content


def test_a_few_payments_show_without_a_link_to_more(owner):
    invoice = _paid_in_instalments(owner, 2)

    content = owner.client.get(page("detail", invoice)).content.decode()

    assert "R-00" in content and "R-01" in content
    assert 'data-testid="payments-more"' not in content
    assert 'data-testid="activity-more"' not in content


def test_the_payments_page_lists_them_all_fifty_a_page(owner):
    invoice = _paid_in_instalments(owner, 55)

    first = owner.client.get(page("payment_list", invoice))
    second = owner.client.get(page("payment_list", invoice), {"page": 2})

    assert first.status_code == 200
    assert [p.reference for p in first.context["page"].object_list] == [
        f"R-{n:02}" for n in range(50)
    ]
    assert [p.reference for p in second.context["page"].object_list] == [
        "R-50", "R-51", "R-52", "R-53", "R-54"
    ]  # fmt: skip
    assert "55 payments" in first.content.decode()


def test_the_activity_page_lists_every_event_oldest_first(owner):
    invoice = _paid_in_instalments(owner, 3)

    response = owner.client.get(page("activity_list", invoice))

    assert [a.action for a in response.context["page"].object_list] == [
        "created", "issued", "payment_recorded", "payment_recorded", "payment_recorded"
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["payment_list", "activity_list"])
def test_a_stranger_gets_404_on_the_payments_and_activity_pages(owner, stranger, name):
    invoice = _paid_in_instalments(owner, 1)

    response = stranger.client.get(page(name, invoice))

    assert response.status_code == 404


@pytest.mark.parametrize("rows", [3, 60])
@pytest.mark.parametrize("name", ["payment_list", "activity_list"])
def test_the_payments_and_activity_pages_cost_the_same_whatever_the_number(
    owner, rows, name, django_assert_num_queries
):
    invoice = _paid_in_instalments(owner, rows)

    # 1 session, 2 user joined with running timer, 3 membership joined with workspace,
    # 4 the invoice (scoped to the workspace) joined with its client, 5 COUNT of its
    # payments or events, 6 one page of them joined with who recorded them.
    with django_assert_num_queries(6):
        response = owner.client.get(page(name, invoice))

    assert response.status_code == 200


# --- Drafting from time: the line cap ------------------------------------------------------


def test_from_time_refuses_more_lines_than_an_invoice_takes_and_creates_nothing(owner, monkeypatch):
    monkeypatch.setattr(services, "MAX_LINES", 2)
    client = ClientFactory(workspace=owner.workspace)
    project = ProjectFactory(client=client, hourly_rate=Decimal("100.00"))
    for day in (2, 3, 4):
        entry(project, dt.date(2026, 3, day), 1)

    response = owner.client.post(
        FROM_TIME_URL,
        {
            "client": str(client.public_id),
            "date_from": "2026-03-01",
            "date_to": "2026-03-31",
            "grouping": "entry",
        },
    )
    grouped = owner.client.post(
        FROM_TIME_URL,
        {
            "client": str(client.public_id),
            "date_from": "2026-03-01",
            "date_to": "2026-03-31",
            "grouping": "project",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["grouping"] == [
        "That would make 3 lines; an invoice has at most 2. "
        "Group by project, or choose a shorter period."
    ]
    assert grouped.status_code == 302
    assert Invoice.objects.get().lines.count() == 1


def test_from_time_through_the_api_names_the_grouping_field(owner, monkeypatch):
    monkeypatch.setattr(services, "MAX_LINES", 1)
    client = ClientFactory(workspace=owner.workspace)
    project = ProjectFactory(client=client, hourly_rate=Decimal("100.00"))
    entry(project, dt.date(2026, 3, 2), 1)
    entry(project, dt.date(2026, 3, 3), 1)

    response = owner.api().post(
        "/api/v1/invoices/from-time",
        {"client_id": str(client.public_id), "grouping": "project_day"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["errors"]["grouping"] == [
        "That would make 2 lines; an invoice has at most 1. "
        "Group by project, or choose a shorter period."
    ]
    assert Invoice.objects.count() == 0
