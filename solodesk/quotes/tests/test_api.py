import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from solodesk.invoicing.models import Invoice
from solodesk.projects.models import Project
from solodesk.quotes import services
from solodesk.quotes.models import Quote
from solodesk.quotes.tests.helpers import line, make_quote, make_sent_quote
from solodesk.tests.factories import ClientFactory

URL = "/api/v1/quotes"


def _post(api, url, body=None):
    return api.post(url, data=json.dumps(body or {}), content_type="application/json")


def _patch(api, url, body):
    return api.patch(url, data=json.dumps(body), content_type="application/json")


def test_create_a_draft_with_lines(owner):
    client = ClientFactory(workspace=owner.workspace)

    response = _post(
        owner.api(),
        URL,
        {
            "client_id": str(client.public_id),
            "lines": [
                {"description": "Design", "quantity": "10", "unit_price": "100", "tax_rate": "21"}
            ],
            "notes": "Thanks",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    assert body["number"] is None
    assert body["client_id"] == str(client.public_id)
    assert body["currency"] == "EUR"
    assert body["subtotal"] == "1000.00"
    assert body["tax_total"] == "210.00"
    assert body["total"] == "1210.00"
    assert body["portal_url"] is None
    assert body["lines"][0]["quantity"] == "10.00"
    assert body["lines"][0]["total"] == "1000.00"
    assert [a["action"] for a in body["activity"]] == ["created"]


def test_create_with_another_workspaces_client_is_a_400_on_client_id(owner, stranger):
    client = ClientFactory(workspace=stranger.workspace)

    response = _post(owner.api(), URL, {"client_id": str(client.public_id)})

    assert response.status_code == 400
    assert response.json()["errors"] == {"client_id": ["Client not found."]}
    assert Quote.objects.count() == 0


def test_list_filters_by_status_including_expired_and_by_client(owner):
    client = ClientFactory(workspace=owner.workspace)
    draft = make_quote(workspace=owner.workspace, user=owner.user, client=client)
    sent = make_sent_quote(workspace=owner.workspace, user=owner.user)
    expired = make_quote(workspace=owner.workspace, user=owner.user)
    services.quote_send(quote=expired, user=owner.user)
    Quote.objects.filter(pk=expired.pk).update(
        valid_until=timezone.localdate() - timezone.timedelta(days=1)
    )
    api = owner.api()

    def ids(query):
        return [item["id"] for item in api.get(f"{URL}?{query}").json()["items"]]

    assert ids("status=draft") == [str(draft.public_id)]
    assert ids("status=sent") == [str(sent.public_id)]
    assert ids("status=expired") == [str(expired.public_id)]
    assert ids(f"client_id={client.public_id}") == [str(draft.public_id)]
    assert api.get(f"{URL}?status=bogus").status_code == 422
    listed = api.get(URL).json()
    assert listed["count"] == 3
    assert {item["status"] for item in listed["items"]} == {"draft", "sent", "expired"}


def test_patch_updates_a_draft(owner):
    quote = make_quote(workspace=owner.workspace, user=owner.user)

    response = _patch(
        owner.api(),
        f"{URL}/{quote.public_id}",
        {"lines": [{"description": "Audit", "quantity": "1", "unit_price": "500"}]},
    )

    assert response.status_code == 200
    assert response.json()["total"] == "500.00"
    assert [ln["description"] for ln in response.json()["lines"]] == ["Audit"]


def test_patch_and_delete_of_a_sent_quote_are_400_and_change_nothing(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)
    api = owner.api()

    patched = _patch(api, f"{URL}/{quote.public_id}", {"notes": "changed"})
    deleted = api.delete(f"{URL}/{quote.public_id}")

    assert patched.status_code == 400
    assert patched.json()["message"] == "A sent quote cannot be changed."
    assert deleted.status_code == 400
    quote.refresh_from_db()
    assert quote.notes == ""


def test_delete_a_draft(owner):
    quote = make_quote(workspace=owner.workspace, user=owner.user)

    response = owner.api().delete(f"{URL}/{quote.public_id}")

    assert response.status_code == 204
    assert not Quote.objects.filter(pk=quote.pk).exists()


def test_send_numbers_the_quote_and_gives_the_client_link(owner):
    quote = make_quote(workspace=owner.workspace, user=owner.user)

    response = _post(owner.api(), f"{URL}/{quote.public_id}/send")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "sent"
    assert body["number"] == f"Q-{timezone.localdate().year}-0001"
    quote.refresh_from_db()
    assert body["portal_url"] == f"{settings.SITE_URL}/p/q/{quote.portal_token}/"


def test_send_with_a_bad_address_is_a_400_on_to_email(owner):
    quote = make_quote(workspace=owner.workspace, user=owner.user)

    response = _post(owner.api(), f"{URL}/{quote.public_id}/send", {"to_email": "nope"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"to_email": ["Enter a valid e-mail address."]}


def test_convert_an_accepted_quote_once(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user, lines=[line()])
    services.quote_accept(token=quote.portal_token, name="Ada")
    api = owner.api()

    first = _post(api, f"{URL}/{quote.public_id}/convert", {"invoice": True, "project": True})
    second = _post(api, f"{URL}/{quote.public_id}/convert", {"invoice": True, "project": False})

    assert first.status_code == 200
    invoice = Invoice.objects.get()
    project = Project.objects.get(workspace=owner.workspace)
    assert first.json()["converted_invoice_id"] == str(invoice.public_id)
    assert first.json()["converted_project_id"] == str(project.public_id)
    assert second.status_code == 400
    assert second.json()["message"] == "This quote was converted already."
    assert Invoice.objects.count() == 1


def test_convert_a_sent_quote_is_a_400(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)

    response = _post(owner.api(), f"{URL}/{quote.public_id}/convert", {"invoice": True})

    assert response.status_code == 400
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"notes": "stolen"}),
        ("delete", "", None),
        ("post", "/send", {}),
        ("post", "/convert", {"invoice": True}),
    ],
)
def test_stranger_gets_404_on_every_quote_endpoint_and_nothing_changes(
    owner, stranger, method, suffix, body
):
    draft = make_quote(workspace=owner.workspace, user=owner.user)
    accepted = make_sent_quote(workspace=owner.workspace, user=owner.user)
    services.quote_accept(token=accepted.portal_token)
    target = accepted if suffix == "/convert" else draft
    url = f"{URL}/{target.public_id}{suffix}"
    api = stranger.api()

    if body is None:
        response = getattr(api, method)(url)
    else:
        response = getattr(api, method)(url, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 404
    draft.refresh_from_db()
    accepted.refresh_from_db()
    assert (draft.status, draft.notes, draft.number) == ("draft", "", None)
    assert accepted.converted_at is None
    assert Invoice.objects.count() == 0
    assert stranger.api().get(URL).json() == {"items": [], "count": 0, "count_is_capped": False}


@pytest.mark.parametrize("count", [3, 50])
def test_list_query_count_is_the_same_at_3_and_50_quotes(owner, count, django_assert_num_queries):
    for index in range(count):
        quote = make_quote(workspace=owner.workspace, user=owner.user)
        if index % 2:
            services.quote_send(quote=quote, user=owner.user)
    api = owner.api()

    # 1 token + user + workspace + running timer, 2 COUNT, 3 the page of quotes with client,
    # converted invoice and converted project.
    with django_assert_num_queries(3):
        response = api.get(f"{URL}?limit=100")

    assert response.status_code == 200
    assert response.json()["count"] == count
    assert {item["total"] for item in response.json()["items"]} == {"1210.00"}


def test_list_count_stops_at_the_cap(owner, monkeypatch):
    from solodesk.core.api import CappedLimitOffsetPagination

    monkeypatch.setattr(CappedLimitOffsetPagination, "count_cap", 2)
    quotes = [make_quote(workspace=owner.workspace, user=owner.user) for _ in range(4)]
    api = owner.api()

    first = api.get(URL, {"limit": 1}).json()
    last = api.get(URL, {"limit": 2, "offset": 2}).json()

    assert (first["count"], first["count_is_capped"]) == (2, True)  # more than 2
    assert (last["count"], last["count_is_capped"]) == (4, False)
    # Newest first; past the first page the same order.
    assert [item["id"] for item in last["items"]] == [str(q.public_id) for q in quotes[1::-1]]


def test_detail_has_lines_and_activity(owner, django_assert_num_queries):
    quote = make_sent_quote(
        workspace=owner.workspace, user=owner.user, lines=[line(), line("Hosting")]
    )
    api = owner.api()

    # 1 token (+ user, workspace, timer), 2 the quote (+ client, converted invoice/project),
    # 3 lines, 4 activity (+ actors).
    with django_assert_num_queries(4):
        body = api.get(f"{URL}/{quote.public_id}").json()

    assert [ln["description"] for ln in body["lines"]] == ["Website redesign", "Hosting"]
    assert [a["action"] for a in body["activity"]] == ["created", "sent"]
    assert Decimal(body["total"]) == quote.total


def test_convert_without_a_body_makes_only_a_draft_invoice(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)
    services.quote_accept(token=quote.portal_token)

    response = owner.api().post(f"{URL}/{quote.public_id}/convert", content_type="application/json")

    assert response.status_code == 200, response.json()
    assert response.json()["converted_invoice_id"] == str(Invoice.objects.get().public_id)
    assert response.json()["converted_project_id"] is None
    assert Project.objects.filter(workspace=owner.workspace).count() == 0
