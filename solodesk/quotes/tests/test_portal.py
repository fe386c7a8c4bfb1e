import datetime as dt

import pytest
import time_machine
from django.test import Client as DjangoClient
from django.utils import timezone

from solodesk.quotes.models import Quote
from solodesk.quotes.tests.helpers import line, make_quote, make_sent_quote


def _url(quote, action=""):
    return f"/p/q/{quote.portal_token}/{action}"


def test_portal_shows_the_quote_with_accept_and_decline_forms(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)

    response = DjangoClient().get(_url(quote))

    assert response.status_code == 200
    content = response.content.decode()
    assert f"Quote {quote.number}" in content
    assert owner.workspace.name in content
    assert quote.client.name in content
    assert "1,210.00 EUR" in content
    assert 'data-testid="accept"' in content
    assert 'data-testid="decline"' in content
    assert response["Referrer-Policy"] == "no-referrer"
    # Its own layout: nothing of the app's navigation.
    assert "/invoices/" not in content
    assert "/quotes/" not in content


def test_client_accepts_with_their_name(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)
    web = DjangoClient()

    response = web.post(_url(quote, "accept/"), {"name": "Ada Lovelace"})
    again = web.post(_url(quote, "accept/"), {"name": "Mallory"})

    assert response.status_code == 302
    assert response["Location"] == _url(quote)
    assert again.status_code == 400
    assert b"can no longer be answered" in again.content
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    assert quote.accepted_by_name == "Ada Lovelace"
    page = web.get(_url(quote)).content.decode()
    assert "Accepted on" in page
    assert 'data-testid="accept"' not in page


def test_client_declines_with_a_reason(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)

    response = DjangoClient().post(_url(quote, "decline/"), {"reason": "Over budget"})

    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DECLINED
    assert quote.decline_reason == "Over budget"


def test_an_expired_quote_shows_expired_and_refuses_an_answer(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)

    with time_machine.travel(timezone.now() + dt.timedelta(days=40)):
        page = DjangoClient().get(_url(quote))
        response = DjangoClient().post(_url(quote, "accept/"), {"name": "Ada"})

    assert b"This quote has expired" in page.content
    assert b'data-testid="accept"' not in page.content
    assert response.status_code == 400
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT


@pytest.mark.parametrize("action", ["", "accept/", "decline/"])
def test_a_wrong_token_or_a_drafts_missing_token_is_a_plain_404(owner, action):
    make_sent_quote(workspace=owner.workspace, user=owner.user)
    draft = make_quote(workspace=owner.workspace, user=owner.user)
    web = DjangoClient()
    method = web.get if action == "" else web.post

    wrong = method(f"/p/q/not-the-token/{action}")
    too_long = method(f"/p/q/{'x' * 100}/{action}")

    assert wrong.status_code == 404
    assert too_long.status_code == 404
    draft.refresh_from_db()
    assert draft.status == Quote.Status.DRAFT
    assert Quote.objects.filter(status=Quote.Status.SENT).count() == 1


@pytest.mark.parametrize("line_count", [3, 50])
def test_portal_query_count_is_the_same_at_3_and_50_lines(
    owner, line_count, django_assert_num_queries
):
    quote = make_sent_quote(
        workspace=owner.workspace,
        user=owner.user,
        lines=[line(f"Task {n}") for n in range(line_count)],
    )
    web = DjangoClient()

    # First visit: 1 the quote by its token (+ workspace, client), 2 its lines, 3 the
    # conditional UPDATE of viewed_at, 4 the "viewed" activity row.
    with django_assert_num_queries(4):
        first = web.get(_url(quote))
    # Later visits: 1 the quote, 2 its lines.
    with django_assert_num_queries(2):
        response = web.get(_url(quote))

    assert first.status_code == 200
    assert response.status_code == 200
    assert response.content.count(b"Task ") >= line_count
