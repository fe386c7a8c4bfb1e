"""allauth's pages inside the application's layout, and the account flows behind them."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from zeal import zeal_ignore

from solodesk.accounts import tasks as account_tasks
from solodesk.accounts.models import Membership, User, Workspace
from solodesk.accounts.tasks import email_send_task
from solodesk.tests.factories import DEFAULT_PASSWORD, UserFactory

APP_CSS = '<link rel="stylesheet" href="/static/solodesk/app.css">'
NEW_PASSWORD = "a new and long passphrase"


@pytest.fixture(autouse=True)
def _empty_cache():
    # allauth keeps its rate-limit counters in the cache (locmem in the test settings).
    cache.clear()
    yield
    cache.clear()


def _template_names(response) -> list[str]:
    return [template.name for template in response.templates]


def _is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize(
    ("url_name", "template"),
    [
        ("account_login", "account/login.html"),
        ("account_signup", "account/signup.html"),
        ("account_reset_password", "account/password_reset.html"),
        ("account_reset_password_done", "account/password_reset_done.html"),
        ("account_reset_password_from_key_done", "account/password_reset_from_key_done.html"),
        ("account_email_verification_sent", "account/verification_sent.html"),
        ("account_confirm_email", "account/email_confirm.html"),
    ],
)
def test_entrance_pages_render_inside_the_app_layout(client, db, url_name, template):
    kwargs = {"key": "not-a-real-key"} if url_name == "account_confirm_email" else {}

    response = client.get(reverse(url_name, kwargs=kwargs))

    assert response.status_code == 200
    names = _template_names(response)
    assert template in names
    assert "allauth/layouts/entrance.html" in names
    assert "base.html" in names
    assert APP_CSS in response.content.decode()


def test_login_page_uses_the_app_form_styles(client, db):
    response = client.get(reverse("account_login"))

    html = response.content.decode()
    assert '<form method="post" action="/accounts/login/" class="card' in html
    assert '<div class="field">\n  \n  <label for="id_login">' in html
    assert '<a href="/accounts/password/reset/">Forgot your password?</a>' in html
    assert '<button class="button" type="submit">' in html


def test_a_bad_password_reset_link_renders_inside_the_app_layout(client, db):
    user = UserFactory()
    url = reverse(
        "account_reset_password_from_key", kwargs={"uidb36": "zz", "key": "not-a-real-key"}
    )

    response = client.get(url)

    assert response.status_code == 200
    assert response.context["token_fail"] is True
    assert "base.html" in _template_names(response)
    assert "Bad Token" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("url_name", "template"),
    [
        ("account_logout", "account/logout.html"),
        ("account_email", "account/email.html"),
        ("account_change_password", "account/password_change.html"),
    ],
)
def test_account_pages_of_a_logged_in_user_render_inside_the_app_layout(owner, url_name, template):
    response = owner.client.get(reverse(url_name))

    assert response.status_code == 200
    names = _template_names(response)
    assert template in names
    assert "allauth/layouts/manage.html" in names
    assert "base.html" in names
    html = response.content.decode()
    assert APP_CSS in html
    assert 'class="card' in html


def test_signup_page_shows_the_business_fields(client, db):
    response = client.get(reverse("account_signup"))

    html = response.content.decode()
    for name in (
        "email",
        "password1",
        "password2",
        "business_name",
        "address",
        "tax_id",
        "default_currency",
        "time_zone",
    ):
        assert f'name="{name}"' in html
    assert '<option value="EUR" selected>' in html


def test_signup_creates_the_user_and_a_workspace_they_own(client, db):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "Ada@Example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "business_name": "Ada Consulting",
            "address": "12 Analytical Row\nLondon",
            "tax_id": "GB123456789",
            "default_currency": "GBP",
            "time_zone": "Europe/London",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get()
    assert user.email == "ada@example.com"
    assert user.check_password(NEW_PASSWORD)
    membership = Membership.objects.select_related("workspace").get(user=user)
    assert membership.role == Membership.Role.OWNER
    workspace = membership.workspace
    assert (
        workspace.name,
        workspace.address,
        workspace.tax_id,
        workspace.default_currency,
        workspace.time_zone,
    ) == ("Ada Consulting", "12 Analytical Row\nLondon", "GB123456789", "GBP", "Europe/London")
    assert _is_logged_in(client)


def test_signup_without_a_business_name_creates_nothing(client, db):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "ada@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "business_name": "",
            "default_currency": "EUR",
            "time_zone": "UTC",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"business_name": ["This field is required."]}
    assert '<ul class="errorlist" id="id_business_name_error"><li>' in response.content.decode()
    assert User.objects.count() == 0
    assert Workspace.objects.count() == 0
    assert not _is_logged_in(client)


def test_login_with_the_right_password_logs_in_and_goes_home(client, owner):
    response = client.post(
        reverse("account_login"), {"login": owner.user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(owner.user.pk)


def test_login_with_a_wrong_password_shows_a_form_error(client, owner):
    response = client.post(
        reverse("account_login"), {"login": owner.user.email, "password": "wrong password"}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The email address and/or password you specified are not correct."
    ]
    assert '<ul class="errorlist nonfield">' in response.content.decode()
    assert not _is_logged_in(client)


def test_logout_ends_the_session(owner):
    # Django's logout reads the session row, then reads it again to delete it: two
    # Session.get() calls that django-zeal, seeing only the test as the caller, takes for an N+1.
    with zeal_ignore([{"model": "sessions.Session", "field": "get()"}]):
        response = owner.client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert not _is_logged_in(owner.client)
    response = owner.client.get(reverse("workspace_settings"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_sixth_login_after_five_wrong_passwords_is_refused_even_with_the_right_one(
    client, owner
):
    url = reverse("account_login")
    for _ in range(5):
        response = client.post(url, {"login": owner.user.email, "password": "wrong password"})
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [
            "The email address and/or password you specified are not correct."
        ]

    # allauth refuses with a form error (not a 429): "login_failed" is 5/5m per account.
    response = client.post(url, {"login": owner.user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Too many failed login attempts. Try again later."
    ]
    assert not _is_logged_in(client)


def test_a_successful_login_does_not_count_against_the_limit(client, owner):
    url = reverse("account_login")
    for _ in range(4):
        client.post(url, {"login": owner.user.email, "password": "wrong password"})

    response = client.post(url, {"login": owner.user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert _is_logged_in(client)


def test_password_reset_enqueues_the_email_after_commit_and_the_task_sends_it(
    client, owner, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued: list[dict] = []
    monkeypatch.setattr(account_tasks.email_send_task, "delay", enqueued.append)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("account_reset_password"), {"email": owner.user.email})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    # Nothing is sent, nor even enqueued, before the request's transaction commits.
    assert enqueued == []
    assert mail.outbox == []
    assert len(callbacks) == 1

    callbacks[0]()

    assert len(enqueued) == 1
    payload = enqueued[0]
    assert payload["to"] == [owner.user.email]
    assert mail.outbox == []

    email_send_task(payload)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.user.email]
    assert message.subject == payload["subject"]
    assert "Password Reset" in message.subject
    assert "/accounts/password/reset/key/" in message.body


def test_the_emailed_reset_link_sets_a_new_password(
    client, owner, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(account_tasks.email_send_task, "delay", email_send_task)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": owner.user.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    assert link is not None

    # allauth moves the key out of the URL into the session, then shows the form.
    response = client.get(link.group(1))
    assert response.status_code == 302
    form_url = response["Location"]
    response = client.get(form_url)
    assert response.status_code == 200
    assert "base.html" in _template_names(response)
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_from_key_done")
    owner.user.refresh_from_db()
    assert owner.user.check_password(NEW_PASSWORD)


def test_signup_creates_nothing_when_the_workspace_cannot_be_created(client, db, monkeypatch):
    from solodesk.accounts.models import User

    def broken_workspace_create(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("solodesk.accounts.forms.workspace_create", broken_workspace_create)
    with pytest.raises(RuntimeError):
        client.post(
            "/accounts/signup/",
            {
                "email": "half@example.com",
                "password1": "a long enough passphrase",
                "password2": "a long enough passphrase",
                "business_name": "Half Made",
                "default_currency": "EUR",
                "time_zone": "UTC",
            },
        )
    assert not User.objects.filter(email="half@example.com").exists()
