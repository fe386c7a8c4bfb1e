"""The quote PDF: what it shows (read back with pdfminer), when it is re-used, the task that
renders it, the portal and web downloads (never rendering in a request), the PDF attached to
the quote's e-mail, and the client's first view."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.test import Client as DjangoClient
from django.urls import reverse
from pdfminer.high_level import extract_text

from solodesk.quotes import pdf, services, tasks
from solodesk.quotes.models import Quote, QuoteActivity
from solodesk.quotes.tests.helpers import line, make_quote, make_sent_quote
from solodesk.tests.factories import ClientFactory


def text_of(data: bytes) -> str:
    """The PDF's text with runs of whitespace (line breaks, wrapped lines) as one space."""
    return " ".join(extract_text(io.BytesIO(data)).split())


def pdf_bytes(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def seller(owner):
    workspace = owner.workspace
    workspace.name = "Maria Lopez Design"
    workspace.address = "Calle Mayor 12\n28013 Madrid"
    workspace.tax_id = "ESB12345678"
    workspace.save()
    return workspace


@pytest.fixture
def acme(seller):
    return ClientFactory(
        workspace=seller,
        name="Acme Robotics GmbH",
        email="accounts@acme.example",
        address="Hauptstrasse 5\n10115 Berlin",
        tax_id="DE123456789",
        currency="EUR",
    )


@pytest.fixture
def sent(owner, seller, acme):
    """1,000.00 at 21 % and 300.00 at 0 %, 10 % off: 1,359.00 EUR."""
    return make_sent_quote(
        workspace=seller,
        user=owner.user,
        client=acme,
        issue_date=dt.date(2026, 11, 27),
        valid_until=dt.date(2099, 12, 31),
        lines=[
            line("Website redesign", "10", "100.00", "21"),
            line("Hosting setup", "2", "150.00", "0", unit="days"),
        ],
        discount_type="percent",
        discount_value=Decimal("10"),
        notes="Prices include two rounds of changes.",
    )


@pytest.fixture
def render_spy():
    with mock.patch.object(pdf, "quote_pdf_render", wraps=pdf.quote_pdf_render) as spy:
        yield spy


def _fresh(quote: Quote) -> Quote:
    return pdf.quote_for_pdf(quote_id=quote.pk)


def _portal_pdf(quote: Quote) -> str:
    return f"/p/q/{quote.portal_token}/pdf"


# --- what the PDF shows ----------------------------------------------------------------------


def test_pdf_shows_parties_number_dates_lines_tax_breakdown_totals_and_notes(sent):
    text = text_of(pdf.quote_pdf_render(quote=_fresh(sent)))

    assert sent.number in text
    assert "Maria Lopez Design" in text
    assert "Tax ID ESB12345678" in text
    assert "Acme Robotics GmbH" in text
    assert "Tax ID DE123456789" in text
    # pdfminer reads table cells column by column: labels first, then their values.
    assert "Issue date Valid until Total" in text
    assert "27 Nov 2026 31 Dec 2099 1,359.00 EUR" in text
    assert "Website redesign" in text
    assert "2 days 150.00 EUR 0% 300.00 EUR" in text
    # 10 % off each rate group: 900.00 at 21 % → 189.00 tax, 270.00 at 0 % → 0.00.
    assert "Discount (10%) Tax 0% on 270.00 EUR Tax 21% on 900.00 EUR" in text
    assert "1,300.00 EUR −130.00 EUR 0.00 EUR 189.00 EUR Total 1,359.00 EUR" in text
    assert sent.total == Decimal("1359.00")
    assert "Prices include two rounds of changes." in text
    assert "Page 1 of" not in text
    assert "DRAFT" not in text.upper()


def test_a_draft_pdf_carries_the_draft_mark_and_no_number(owner, acme):
    draft = make_quote(workspace=owner.workspace, user=owner.user, client=acme)

    text = text_of(pdf.quote_pdf_render(quote=_fresh(draft)))

    assert "DRAFT" in text
    assert "Not sent yet" in text
    assert "Acme Robotics GmbH" in text
    assert pdf.quote_pdf_filename(draft) == f"draft-quote-{draft.public_id}.pdf"


def test_an_accepted_quote_pdf_is_stamped_with_the_name_and_date(sent):
    accepted = services.quote_accept(token=sent.portal_token, name="Ada Lovelace")
    on = accepted.accepted_at.astimezone(accepted.workspace.tzinfo).date()

    text = text_of(pdf.quote_pdf_render(quote=_fresh(sent)))

    assert f"Accepted by Ada Lovelace on {on.day} {on:%b %Y}" in text


def test_a_long_quote_has_page_numbers(owner, acme):
    quote = make_sent_quote(
        workspace=owner.workspace,
        user=owner.user,
        client=acme,
        lines=[line(f"Task number {n}", "1", "10.00") for n in range(60)],
    )

    text = text_of(pdf.quote_pdf_render(quote=_fresh(quote)))

    assert "Page 1 of 2" in text or "Page 1 of 3" in text
    assert "Page 2 of" in text
    assert "Task number 59" in text


def test_another_workspaces_data_never_appears(sent, stranger):
    other = ClientFactory(workspace=stranger.workspace, name="Stranger Things Ltd")
    make_sent_quote(workspace=stranger.workspace, user=stranger.user, client=other)

    text = text_of(pdf.quote_pdf_render(quote=_fresh(sent)))

    assert "Stranger Things Ltd" not in text
    assert stranger.workspace.name not in text


# --- re-use ----------------------------------------------------------------------------------


def test_ensure_renders_once_and_reuses_the_stored_pdf(sent, render_spy):
    updated_at = Quote.objects.get(pk=sent.pk).updated_at

    first = pdf.quote_pdf_ensure(quote=_fresh(sent))
    second = pdf.quote_pdf_ensure(quote=_fresh(sent))

    assert render_spy.call_count == 1
    assert first.name == second.name
    assert first.name.endswith(f"{sent.number}.pdf")
    stored = Quote.objects.get(pk=sent.pk)
    assert stored.pdf_state == pdf.quote_pdf_state(_fresh(sent))
    assert stored.updated_at == updated_at
    with stored.pdf_file.open("rb") as handle:
        assert handle.read(4) == b"%PDF"


def test_accepting_makes_the_stored_pdf_stale_and_it_is_rendered_again(sent, render_spy):
    old = pdf.quote_pdf_ensure(quote=_fresh(sent)).name

    services.quote_accept(token=sent.portal_token, name="Ada")
    quote = _fresh(sent)
    assert not pdf.quote_pdf_is_current(quote)
    new = pdf.quote_pdf_ensure(quote=quote)

    assert render_spy.call_count == 2
    assert "Accepted by Ada" in text_of(new.open("rb").read())
    assert not new.storage.exists(old) or old == new.name


def test_recording_a_view_or_the_email_time_does_not_make_the_pdf_stale(sent, render_spy):
    pdf.quote_pdf_ensure(quote=_fresh(sent))

    services.quote_view_record(quote=sent)
    Quote.objects.filter(pk=sent.pk).update(emailed_at=sent.sent_at)

    assert pdf.quote_pdf_is_current(_fresh(sent))
    assert render_spy.call_count == 1


def test_task_run_twice_renders_once(sent, render_spy):
    assert tasks.quote_pdf_task(sent.pk) is True
    assert tasks.quote_pdf_task(sent.pk) is True

    assert render_spy.call_count == 1
    assert pdf.quote_pdf_is_current(_fresh(sent))


def test_task_for_a_deleted_quote_does_nothing(owner, render_spy):
    draft = make_quote(workspace=owner.workspace, user=owner.user)
    quote_id = draft.pk
    services.quote_delete_draft(quote=draft, user=owner.user)

    assert tasks.quote_pdf_task(quote_id) is False
    assert render_spy.call_count == 0


# --- the portal's download -------------------------------------------------------------------


def test_portal_pdf_enqueues_the_render_after_commit_and_shows_a_refreshing_page(
    sent, pdf_broker, render_spy, django_capture_on_commit_callbacks
):
    web = DjangoClient()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = web.get(_portal_pdf(sent))
    with django_capture_on_commit_callbacks(execute=True) as reload_callbacks:
        reload = web.get(_portal_pdf(sent) + "?attempt=1")

    assert response.status_code == 202
    content = response.content.decode()
    assert "The PDF is being prepared" in content
    assert f'content="2;url={_portal_pdf(sent)}?attempt=1"' in content
    assert response["Referrer-Policy"] == "no-referrer"
    assert len(callbacks) == 1
    # The reload waits for the same render: nothing enqueued twice.
    assert reload.status_code == 202
    assert reload_callbacks == []
    pdf_broker.assert_called_once_with(sent.pk)
    assert render_spy.call_count == 0


def test_portal_pdf_stops_refreshing_after_a_minute(sent):
    response = DjangoClient().get(_portal_pdf(sent) + "?attempt=30")

    assert response.status_code == 202
    assert b"http-equiv" not in response.content
    assert b"Please try again in a few minutes" in response.content


@pytest.mark.parametrize("line_count", [3, 50])
def test_portal_pdf_serves_the_current_file_without_rendering(
    owner, acme, line_count, pdf_broker, render_spy, django_assert_num_queries
):
    quote = make_sent_quote(
        workspace=owner.workspace,
        user=owner.user,
        client=acme,
        lines=[line(f"Task {n}") for n in range(line_count)],
    )
    tasks.quote_pdf_task(quote.pk)
    web = DjangoClient()

    # 1 the quote by its token (+ workspace, client), 2 its lines (to check the PDF is current).
    with django_assert_num_queries(2):
        response = web.get(_portal_pdf(quote))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{quote.number}.pdf"' in response["Content-Disposition"]
    data = pdf_bytes(response)
    assert data[:4] == b"%PDF"
    assert quote.number in text_of(data)
    assert render_spy.call_count == 1  # the task's, none in the request
    pdf_broker.assert_not_called()


@pytest.mark.parametrize("path", ["/p/q/not-the-token/pdf", f"/p/q/{'x' * 100}/pdf"])
def test_portal_pdf_with_a_wrong_token_is_a_plain_404(sent, path, pdf_broker):
    response = DjangoClient().get(path)

    assert response.status_code == 404
    pdf_broker.assert_not_called()


def test_portal_page_links_to_the_pdf(sent):
    response = DjangoClient().get(f"/p/q/{sent.portal_token}/")

    assert f'href="{_portal_pdf(sent)}"' in response.content.decode()


# --- viewed ----------------------------------------------------------------------------------


def test_the_clients_first_view_is_recorded_once(sent):
    web = DjangoClient()

    web.get(f"/p/q/{sent.portal_token}/")
    sent.refresh_from_db()
    first_view = sent.viewed_at
    DjangoClient().get(f"/p/q/{sent.portal_token}/")
    sent.refresh_from_db()

    assert first_view is not None
    assert sent.viewed_at == first_view
    assert list(
        sent.activities.filter(action=QuoteActivity.Action.VIEWED).values_list("actor", "message")
    ) == [(None, "The client opened the quote link.")]


def test_a_workspace_member_opening_the_link_is_not_the_clients_view(sent, owner, member):
    owner.client.get(f"/p/q/{sent.portal_token}/")
    member.client.get(f"/p/q/{sent.portal_token}/")

    sent.refresh_from_db()
    assert sent.viewed_at is None
    assert not sent.activities.filter(action=QuoteActivity.Action.VIEWED).exists()


def test_a_logged_in_stranger_opening_the_link_counts_as_the_clients_view(sent, stranger):
    stranger.client.get(f"/p/q/{sent.portal_token}/")

    sent.refresh_from_db()
    assert sent.viewed_at is not None


def test_a_wrong_token_records_no_view(sent):
    response = DjangoClient().get("/p/q/not-the-token/")

    assert response.status_code == 404
    assert not Quote.objects.filter(viewed_at__isnull=False).exists()


# --- the web page ----------------------------------------------------------------------------


def test_detail_page_has_the_download_button_and_when_the_client_opened_it(sent, owner):
    url = reverse("quotes:detail", args=[sent.public_id])
    before = owner.client.get(url).content.decode()
    services.quote_view_record(quote=sent)

    after = owner.client.get(url).content.decode()

    assert f'href="{reverse("quotes:pdf", args=[sent.public_id])}"' in before
    assert "Not opened by the client yet." in before
    assert "Opened by the client on " in after


def test_web_pdf_enqueues_and_says_so_when_not_current(
    sent, owner, pdf_broker, render_spy, django_capture_on_commit_callbacks
):
    url = reverse("quotes:pdf", args=[sent.public_id])

    with django_capture_on_commit_callbacks(execute=True):
        response = owner.client.get(url, follow=True)

    assert response.redirect_chain == [(reverse("quotes:detail", args=[sent.public_id]), 302)]
    assert "The PDF is being prepared" in response.content.decode()
    pdf_broker.assert_called_once_with(sent.pk)
    assert render_spy.call_count == 0


def test_web_pdf_serves_the_current_file(sent, owner, pdf_broker):
    tasks.quote_pdf_task(sent.pk)

    response = owner.client.get(reverse("quotes:pdf", args=[sent.public_id]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "Acme Robotics GmbH" in text_of(pdf_bytes(response))
    pdf_broker.assert_not_called()


def test_web_pdf_of_another_workspaces_quote_is_404(sent, stranger, pdf_broker):
    response = stranger.client.get(reverse("quotes:pdf", args=[sent.public_id]))

    assert response.status_code == 404
    pdf_broker.assert_not_called()
    assert Quote.objects.get(pk=sent.pk).pdf_state == ""


# --- the e-mail ------------------------------------------------------------------------------


def test_email_attaches_the_pdf_rendered_once(sent, render_spy):
    assert tasks.quote_email_task(sent.pk) is True
    assert tasks.quote_email_task(sent.pk) is False

    assert len(mail.outbox) == 1
    [(filename, content, mimetype)] = mail.outbox[0].attachments
    assert filename == f"{sent.number}.pdf"
    assert mimetype == "application/pdf"
    assert content[:4] == b"%PDF"
    assert "1,359.00 EUR" in text_of(content)
    assert render_spy.call_count == 1
    assert pdf.quote_pdf_is_current(_fresh(sent))


def test_email_reuses_a_pdf_rendered_before(sent, render_spy):
    tasks.quote_pdf_task(sent.pk)

    tasks.quote_email_task(sent.pk)

    assert render_spy.call_count == 1
    assert len(mail.outbox[0].attachments) == 1


def test_email_goes_without_the_pdf_when_rendering_fails(sent):
    with mock.patch.object(pdf, "quote_pdf_render", side_effect=RuntimeError("no fonts")):
        assert tasks.quote_email_task(sent.pk) is True

    assert len(mail.outbox) == 1
    assert mail.outbox[0].attachments == []


# --- the workspace's locale ------------------------------------------------------------------


def test_pdf_follows_the_workspaces_locale(sent, seller):
    seller.locale = "de-DE"
    seller.save()

    text = text_of(pdf.quote_pdf_render(quote=_fresh(sent)))

    assert "27.11.2026 31.12.2099 1.359,00 EUR" in text
    assert "2 days 150,00 EUR 0% 300,00 EUR" in text
    assert "Tax 21% on 900,00 EUR" in text
    assert "1.300,00 EUR −130,00 EUR 0,00 EUR 189,00 EUR Total 1.359,00 EUR" in text
    assert "This quote is valid until 31.12.2099" in text


def test_changing_the_locale_makes_the_stored_pdf_stale(sent, seller):
    before = pdf.quote_pdf_state(_fresh(sent))
    seller.locale = "de-DE"
    seller.save()

    assert pdf.quote_pdf_state(_fresh(sent)) != before


def test_portal_page_follows_the_workspaces_locale(sent, seller):
    seller.locale = "de-DE"
    seller.save()

    response = DjangoClient().get(f"/p/q/{sent.portal_token}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "1.359,00 EUR" in page
    assert "31.12.2099" in page
    assert "1,359.00 EUR" not in page


def test_email_states_amount_and_date_in_the_workspaces_locale(sent, seller, render_spy):
    seller.locale = "de-DE"
    seller.save()

    services.quote_email_deliver(quote_id=sent.pk)

    body = mail.outbox[0].body
    assert "for 1.359,00 EUR, valid until 31.12.2099." in body
