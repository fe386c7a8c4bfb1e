import pytest
from django.urls import reverse

from solodesk.invoicing.models import Invoice
from solodesk.quotes import services
from solodesk.quotes.models import Quote
from solodesk.quotes.tests.helpers import line, make_quote, make_sent_quote
from solodesk.tests.factories import ClientFactory


def _formset(rows):
    data = {
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{index}-{key}"] = value
    return data


ROW = {
    "description": "Design",
    "quantity": "10",
    "unit": "hours",
    "unit_price": "100.00",
    "tax_rate": "21",
}


def test_new_quote_form_creates_a_draft_and_shows_it(owner):
    client = ClientFactory(workspace=owner.workspace)
    data = {"client": str(client.public_id), "discount_type": "none", **_formset([ROW])}

    response = owner.client.post(reverse("quotes:new"), data)

    quote = Quote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("quotes:detail", args=[quote.public_id])
    assert quote.total == 1210
    page = owner.client.get(response["Location"])
    assert page.status_code == 200
    assert b"Send quote" in page.content
    assert reverse("clients:edit", args=[client.public_id]).encode() in page.content


def test_new_quote_without_lines_is_a_form_error(owner):
    client = ClientFactory(workspace=owner.workspace)

    response = owner.client.post(
        reverse("quotes:new"), {"client": str(client.public_id), **_formset([])}
    )

    assert response.status_code == 400
    assert b"Add at least one line." in response.content
    assert Quote.objects.count() == 0


def test_edit_a_draft_replaces_its_lines(owner):
    quote = make_quote(workspace=owner.workspace, user=owner.user)

    response = owner.client.post(
        reverse("quotes:edit", args=[quote.public_id]),
        {"discount_type": "none", **_formset([{**ROW, "unit_price": "50.00"}])},
    )

    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.subtotal == 500


def test_send_and_convert_buttons(owner):
    quote = make_quote(workspace=owner.workspace, user=owner.user)

    sent = owner.client.post(reverse("quotes:send", args=[quote.public_id]), {"to_email": ""})
    quote.refresh_from_db()
    services.quote_accept(token=quote.portal_token, name="Ada")
    detail = owner.client.get(reverse("quotes:detail", args=[quote.public_id]))
    converted = owner.client.post(
        reverse("quotes:convert", args=[quote.public_id]), {"invoice": "on"}
    )

    assert sent.status_code == 302
    assert quote.status == Quote.Status.SENT
    assert quote.sent_to == quote.client.email
    assert services.portal_url(quote).encode() in detail.content
    assert b"Convert the quote" in detail.content
    invoice = Invoice.objects.get()
    assert converted["Location"] == reverse("invoicing:detail", args=[invoice.public_id])


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "quotes:detail"),
        ("get", "quotes:edit"),
        ("post", "quotes:edit"),
        ("post", "quotes:delete"),
        ("post", "quotes:send"),
        ("post", "quotes:convert"),
    ],
)
def test_stranger_gets_404_on_every_quote_page_and_nothing_changes(owner, stranger, method, name):
    quote = make_quote(workspace=owner.workspace, user=owner.user)
    url = reverse(name, args=[quote.public_id])

    response = getattr(stranger.client, method)(url, {"invoice": "on", **_formset([ROW])})

    assert response.status_code == 404
    quote.refresh_from_db()
    assert (quote.status, quote.number, quote.total) == ("draft", None, 1210)
    assert Invoice.objects.count() == 0


def test_stranger_sees_an_empty_list(owner, stranger):
    make_quote(workspace=owner.workspace, user=owner.user)

    response = stranger.client.get(reverse("quotes:list"))

    assert response.status_code == 200
    assert b"No quotes yet." in response.content


@pytest.mark.parametrize("count", [3, 50])
def test_list_page_query_count_is_the_same_at_3_and_50_quotes(
    owner, count, django_assert_num_queries
):
    client = ClientFactory(workspace=owner.workspace)
    for index in range(count):
        quote = make_quote(workspace=owner.workspace, user=owner.user, client=client)
        if index % 2:
            services.quote_send(quote=quote, user=owner.user)

    # 1 session, 2 user (+ running timer), 3 membership (+ workspace), 4 COUNT of quotes,
    # 5 the page of quotes (+ client).
    with django_assert_num_queries(5):
        response = owner.client.get(reverse("quotes:list"))

    assert response.status_code == 200
    assert response.content.count(b'data-testid="quote-status"') == count


def test_list_tabs_filter_by_status(owner):
    make_quote(workspace=owner.workspace, user=owner.user)
    sent = make_sent_quote(workspace=owner.workspace, user=owner.user)

    response = owner.client.get(reverse("quotes:list") + "?status=sent")

    assert response.content.count(b'data-testid="quote-status"') == 1
    assert sent.number.encode() in response.content


@pytest.mark.parametrize("line_count", [3, 50])
def test_detail_page_query_count_is_the_same_at_3_and_50_lines(
    owner, line_count, django_assert_num_queries
):
    quote = make_sent_quote(
        workspace=owner.workspace,
        user=owner.user,
        lines=[line(f"Task {n}") for n in range(line_count)],
    )
    url = reverse("quotes:detail", args=[quote.public_id])

    # 1 session, 2 user (+ timer), 3 membership (+ workspace), 4 the quote (+ client,
    # converted invoice and project), 5 lines, 6 activity (+ actors).
    with django_assert_num_queries(6):
        response = owner.client.get(url)

    assert response.status_code == 200
    assert response.content.count(b"Task ") == line_count
