import datetime as dt
import smtplib
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing.models import DocumentCounter, Invoice
from solodesk.projects.models import Project
from solodesk.quotes import services, tasks
from solodesk.quotes.models import Quote, QuoteActivity
from solodesk.quotes.tests.helpers import line, make_quote, make_sent_quote
from solodesk.tests.factories import ClientFactory

LOCMEM_SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


def _year() -> int:
    return timezone.localdate().year


# --- drafts ---------------------------------------------------------------------------------


def test_create_draft_computes_totals_uses_the_clients_currency_and_valid_for_30_days(owner):
    client = ClientFactory(workspace=owner.workspace, currency="USD")

    quote = make_quote(
        workspace=owner.workspace,
        user=owner.user,
        client=client,
        lines=[line(quantity="10", unit_price="100.00", tax_rate="21"), line(tax_rate="0")],
        discount_type="percent",
        discount_value=Decimal("10"),
    )

    assert quote.status == Quote.Status.DRAFT
    assert quote.number is None
    assert quote.currency == "USD"
    assert quote.valid_until == timezone.localdate(timezone=owner.workspace.tzinfo) + dt.timedelta(
        days=30
    )
    assert quote.subtotal == Decimal("2000.00")
    assert quote.discount_amount == Decimal("200.00")
    assert quote.tax_total == Decimal("189.00")
    assert quote.total == Decimal("1989.00")
    assert [ln.total for ln in quote.lines.all()] == [Decimal("1000.00"), Decimal("1000.00")]
    assert list(quote.activities.values_list("action", flat=True)) == ["created"]


def test_create_draft_refuses_another_workspaces_client(owner, stranger):
    with pytest.raises(ApplicationError) as error:
        make_quote(
            workspace=owner.workspace,
            user=owner.user,
            client=ClientFactory(workspace=stranger.workspace),
        )

    assert error.value.errors == {"client_id": ["Client not found."]}
    assert Quote.objects.count() == 0


def test_update_draft_replaces_lines_and_recomputes_totals(owner):
    quote = make_quote(workspace=owner.workspace, user=owner.user)

    services.quote_update_draft(
        quote=quote, user=owner.user, lines=[line(quantity="2", unit_price="50.00")], notes="Hi"
    )

    quote.refresh_from_db()
    assert quote.notes == "Hi"
    assert quote.subtotal == Decimal("100.00")
    assert quote.total == Decimal("121.00")
    assert quote.lines.count() == 1


def test_a_sent_quote_cannot_be_changed_or_deleted(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)

    with pytest.raises(ApplicationError, match="A sent quote cannot be changed"):
        services.quote_update_draft(quote=quote, user=owner.user, notes="changed")
    with pytest.raises(ApplicationError, match="A sent quote cannot be deleted"):
        services.quote_delete_draft(quote=quote, user=owner.user)

    quote.refresh_from_db()
    assert quote.notes == ""


def test_delete_draft_removes_it_and_its_lines(owner):
    quote = make_quote(workspace=owner.workspace, user=owner.user)

    services.quote_delete_draft(quote=quote, user=owner.user)

    assert Quote.objects.count() == 0


# --- sending and numbering -----------------------------------------------------------------


def test_send_numbers_quotes_gaplessly_in_their_own_series(owner):
    year = _year()

    numbers = [make_sent_quote(workspace=owner.workspace, user=owner.user).number for _ in range(3)]

    assert numbers == [f"Q-{year}-0001", f"Q-{year}-0002", f"Q-{year}-0003"]
    counter = DocumentCounter.objects.get(workspace=owner.workspace, series="quote", year=year)
    assert counter.last_value == 3
    # The invoice series is untouched.
    assert not DocumentCounter.objects.filter(series="invoice").exists()


def test_a_refused_send_takes_no_number(owner):
    year = _year()
    no_email = ClientFactory(workspace=owner.workspace, email="")
    refused = make_quote(workspace=owner.workspace, user=owner.user, client=no_email)

    with pytest.raises(ApplicationError) as error:
        services.quote_send(quote=refused, user=owner.user)
    sent = make_sent_quote(workspace=owner.workspace, user=owner.user)

    assert "to_email" in error.value.errors
    refused.refresh_from_db()
    assert refused.status == Quote.Status.DRAFT
    assert refused.number is None
    assert sent.number == f"Q-{year}-0001"


def test_numbers_are_per_workspace(owner, stranger):
    mine = make_sent_quote(workspace=owner.workspace, user=owner.user)
    theirs = make_sent_quote(workspace=stranger.workspace, user=stranger.user)

    assert mine.number == theirs.number == f"Q-{_year()}-0001"


def test_send_makes_a_secret_link_and_refuses_a_second_send(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)

    assert quote.status == Quote.Status.SENT
    assert quote.issue_date == timezone.localdate(timezone=owner.workspace.tzinfo)
    assert len(quote.portal_token) >= 43  # 32 random bytes, URL-safe
    assert services.portal_url(quote).endswith(f"/p/q/{quote.portal_token}/")
    with pytest.raises(ApplicationError, match="sent already"):
        services.quote_send(quote=quote, user=owner.user)


def test_send_refuses_a_quote_without_lines(owner):
    quote = make_quote(workspace=owner.workspace, user=owner.user, lines=[])

    with pytest.raises(ApplicationError, match="at least one line"):
        services.quote_send(quote=quote, user=owner.user)


def test_send_enqueues_the_email_only_after_commit(
    owner, broker, django_capture_on_commit_callbacks
):
    quote = make_quote(workspace=owner.workspace, user=owner.user)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.quote_send(quote=quote, user=owner.user)
        assert broker.call_count == 0

    assert len(callbacks) == 1
    broker.assert_called_once_with(quote.pk)


def test_email_task_run_twice_sends_one_email_with_the_link(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)

    first = tasks.quote_email_task(quote.pk)
    second = tasks.quote_email_task(quote.pk)

    assert (first, second) == (True, False)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [quote.client.email]
    assert message.subject == f"Quote {quote.number} from {owner.workspace.name}"
    assert services.portal_url(quote) in message.body
    quote.refresh_from_db()
    assert quote.emailed_at is not None
    assert quote.activities.filter(action=QuoteActivity.Action.EMAILED).count() == 1


def test_a_refused_email_gives_its_claim_back_and_the_sweeper_sends_it_later(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)
    refused = smtplib.SMTPResponseException(451, b"try later")

    with (
        mock.patch(LOCMEM_SEND, side_effect=refused),
        pytest.raises(smtplib.SMTPResponseException),
    ):
        tasks.quote_email_task(quote.pk)

    quote.refresh_from_db()
    assert quote.emailed_at is None
    failed = quote.activities.get(action=QuoteActivity.Action.EMAIL_FAILED)
    assert "temporarily refused the message (451 try later)" in failed.message
    with (
        time_machine.travel(timezone.now() + dt.timedelta(minutes=10)),
        mock.patch.object(services, "_enqueue_email") as broker,
    ):
        assert services.quote_emails_requeue_stale(older_than=dt.timedelta(minutes=5)) == 1
    broker.assert_called_once_with(quote.pk)
    assert tasks.quote_email_task(quote.pk) is True
    assert len(mail.outbox) == 1


def test_an_email_whose_connection_broke_mid_message_is_never_sent_again(owner):
    """It may have arrived: like an invoice e-mail, it is not re-sent (decision 0003)."""
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)

    with mock.patch(LOCMEM_SEND, side_effect=smtplib.SMTPServerDisconnected("gone")):
        assert tasks.quote_email_task(quote.pk) is False

    quote.refresh_from_db()
    assert quote.emailed_at is not None  # the claim stays
    failed = quote.activities.get(action=QuoteActivity.Action.EMAIL_FAILED)
    assert "may or may not have arrived" in failed.message
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        assert services.quote_emails_requeue_stale(older_than=dt.timedelta(minutes=5)) == 0
    assert tasks.quote_email_task(quote.pk) is False
    assert mail.outbox == []


def test_email_task_for_a_draft_sends_nothing(owner):
    quote = make_quote(workspace=owner.workspace, user=owner.user)

    assert tasks.quote_email_task(quote.pk) is False
    assert mail.outbox == []


# --- the client's answer -------------------------------------------------------------------


def test_accept_records_the_name_once(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)

    accepted = services.quote_accept(token=quote.portal_token, name="  Ada   Lovelace ")

    assert accepted.status == Quote.Status.ACCEPTED
    assert accepted.accepted_by_name == "Ada Lovelace"
    assert accepted.accepted_at is not None
    with pytest.raises(ApplicationError, match="can no longer be answered"):
        services.quote_accept(token=quote.portal_token, name="Someone else")
    with pytest.raises(ApplicationError, match="can no longer be answered"):
        services.quote_decline(token=quote.portal_token, reason="changed my mind")
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    assert quote.accepted_by_name == "Ada Lovelace"
    assert quote.activities.filter(action="accepted").count() == 1


def test_decline_records_the_reason_once(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)

    services.quote_decline(token=quote.portal_token, reason="Too expensive")

    with pytest.raises(ApplicationError, match="can no longer be answered"):
        services.quote_accept(token=quote.portal_token, name="Ada")
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DECLINED
    assert quote.decline_reason == "Too expensive"
    assert quote.declined_at is not None


def test_an_expired_quote_cannot_be_accepted_or_declined(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)
    assert quote.display_status == "sent"

    with time_machine.travel(timezone.now() + dt.timedelta(days=32)):
        assert quote.is_expired
        assert quote.display_status == "expired"
        with pytest.raises(ApplicationError, match="expired"):
            services.quote_accept(token=quote.portal_token, name="Ada")
        with pytest.raises(ApplicationError, match="expired"):
            services.quote_decline(token=quote.portal_token)

    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT
    assert quote.accepted_at is None


def test_a_quote_is_still_open_on_its_valid_until_day(owner):
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user)
    last_day = dt.datetime.combine(quote.valid_until, dt.time(12), owner.workspace.tzinfo)

    with time_machine.travel(last_day):
        accepted = services.quote_accept(token=quote.portal_token)

    assert accepted.status == Quote.Status.ACCEPTED


def test_a_draft_cannot_be_accepted(owner):
    make_quote(workspace=owner.workspace, user=owner.user)

    with pytest.raises(ApplicationError, match="no longer valid"):
        services.quote_accept(token="not-a-token")


# --- converting ----------------------------------------------------------------------------


def _accepted(owner, **kwargs) -> Quote:
    quote = make_sent_quote(workspace=owner.workspace, user=owner.user, **kwargs)
    services.quote_accept(token=quote.portal_token, name="Ada")
    quote.refresh_from_db()
    return quote


def test_convert_makes_a_draft_invoice_with_the_quotes_lines_and_a_budgeted_project(owner):
    quote = _accepted(
        owner,
        lines=[line(quantity="10", unit_price="100.00"), line("Hosting", "1", "50.00", "0")],
        discount_type="amount",
        discount_value=Decimal("50"),
    )

    converted = services.quote_convert(
        quote=quote, user=owner.user, make_invoice=True, make_project=True
    )

    invoice = converted.converted_invoice
    assert invoice.status == Invoice.Status.DRAFT
    assert invoice.client == quote.client
    assert [(ln.description, ln.quantity, ln.unit_price) for ln in invoice.lines.all()] == [
        ("Website redesign", Decimal("10.000"), Decimal("100.00")),
        ("Hosting", Decimal("1.000"), Decimal("50.00")),
    ]
    assert invoice.total == quote.total
    assert invoice.notes == f"As agreed in quote {quote.number}."
    project = converted.converted_project
    assert project.client == quote.client
    assert project.billing_method == Project.BillingMethod.HOURLY
    assert project.budget_amount == Decimal("1050.00")
    assert project.name == f"Quote {quote.number}"


def test_convert_happens_only_once(owner):
    quote = _accepted(owner)
    services.quote_convert(quote=quote, user=owner.user, make_invoice=True, make_project=False)

    with pytest.raises(ApplicationError, match="converted already"):
        services.quote_convert(quote=quote, user=owner.user, make_invoice=False, make_project=True)

    assert Invoice.objects.count() == 1
    assert Project.objects.filter(workspace=owner.workspace).count() == 0


@pytest.mark.parametrize("answer", ["draft", "sent", "declined"])
def test_only_an_accepted_quote_converts(owner, answer):
    quote = make_quote(workspace=owner.workspace, user=owner.user)
    if answer != "draft":
        services.quote_send(quote=quote, user=owner.user)
    if answer == "declined":
        services.quote_decline(token=quote.portal_token)

    with pytest.raises(ApplicationError, match="Only an accepted quote"):
        services.quote_convert(quote=quote, user=owner.user, make_invoice=True)

    assert Invoice.objects.count() == 0


def test_convert_needs_something_to_make(owner):
    quote = _accepted(owner)

    with pytest.raises(ApplicationError, match="Choose an invoice"):
        services.quote_convert(quote=quote, user=owner.user, make_invoice=False)
