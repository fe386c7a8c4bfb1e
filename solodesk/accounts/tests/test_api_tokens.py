from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from solodesk.accounts.models import ApiToken
from solodesk.accounts.selectors import api_token_authenticate
from solodesk.tests.factories import make_api_token

URL = reverse("api_tokens")


def _revoke_url(token: ApiToken) -> str:
    return reverse("api_token_revoke", kwargs={"public_id": token.public_id})


def _token_of(persona) -> ApiToken:
    return ApiToken.objects.get(user=persona.user, workspace=persona.workspace)


@pytest.mark.parametrize("extra_tokens", [3, 50])
def test_list_shows_only_the_users_own_tokens_in_a_fixed_number_of_queries(
    owner, member, stranger, django_assert_num_queries, extra_tokens
):
    for n in range(extra_tokens):
        make_api_token(user=owner.user, workspace=owner.workspace, raw=f"sd_owner_extra_{n}")
    make_api_token(user=member.user, workspace=member.workspace, raw="sd_members_second")

    # 1 session, 2 user joined with the running timer, 3 membership joined with workspace,
    # 4 the user's tokens in this workspace
    with django_assert_num_queries(4):
        response = owner.client.get(URL)

    assert response.status_code == 200
    assert response.context["nav"] == "settings"
    tokens = list(response.context["tokens"])
    assert len(tokens) == extra_tokens + 1
    assert {token.user_id for token in tokens} == {owner.user.pk}
    html = response.content.decode()
    assert html.count("<code>sd_owner_e…</code>") == extra_tokens
    others = ApiToken.objects.exclude(user=owner.user)
    assert others.count() == 3
    for other in others:
        assert other.prefix not in html
    assert response.context["raw_token"] is None


def test_list_shows_name_prefix_last_use_and_revocation(owner):
    token = _token_of(owner)
    ApiToken.objects.filter(pk=token.pk).update(name="laptop CLI", revoked_at=timezone.now())

    response = owner.client.get(URL)

    html = response.content.decode()
    assert "<td>laptop CLI</td>" in html
    assert f"<td><code>{token.prefix}…</code></td>" in html
    assert '<span class="badge warn"' in html
    assert "revoked now" in html
    assert _revoke_url(token) not in html


def test_creating_a_token_shows_the_raw_token_once_and_stores_only_its_digest(
    owner, django_assert_num_queries
):
    # 1 session, 2 user, 3 membership and workspace, 4 INSERT token, 5 the user's tokens
    with django_assert_num_queries(5):
        response = owner.client.post(URL, {"name": "  Zapier  "})

    assert response.status_code == 200
    raw = response.context["raw_token"]
    assert raw.startswith("sd_")
    assert len(raw) == 46
    html = response.content.decode()
    assert html.count(raw) == 1
    assert "Copy it now: you will not see it again." in html
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=owner.user, name="Zapier")
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:10]
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in [str(value) for value in stored.values()]
    # The new token works, and the page never shows it again.
    assert api_token_authenticate(raw_token=raw) == token
    response = owner.client.get(URL)
    assert raw not in response.content.decode()
    assert response.context["raw_token"] is None


def test_member_creates_a_token_of_their_own(member):
    response = member.client.post(URL, {"name": "phone"})

    assert response.status_code == 200
    token = ApiToken.objects.get(name="phone")
    assert (token.user, token.workspace) == (member.user, member.workspace)


def test_creating_a_token_without_a_name_is_a_form_error(owner):
    response = owner.client.post(URL, {"name": "   "})

    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert response.context["raw_token"] is None
    assert ApiToken.objects.filter(user=owner.user).count() == 1


def test_revoking_an_own_token_stops_it_authenticating(owner, django_assert_num_queries):
    token = _token_of(owner)
    assert api_token_authenticate(raw_token=owner.token) == token

    # 1 session, 2 user, 3 membership and workspace, 4 the token, 5 UPDATE revoked_at
    with django_assert_num_queries(5):
        response = owner.client.post(_revoke_url(token))

    assert response.status_code == 302
    assert response["Location"] == URL
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(raw_token=owner.token) is None


def test_revoking_twice_keeps_the_first_revocation_time(owner):
    token = _token_of(owner)
    owner.client.post(_revoke_url(token))
    token.refresh_from_db()
    first = token.revoked_at

    response = owner.client.post(_revoke_url(token))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at == first


def test_member_cannot_revoke_the_owners_token(owner, member):
    token = _token_of(owner)

    response = member.client.post(_revoke_url(token))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api_token_authenticate(raw_token=owner.token) == token


def test_stranger_cannot_revoke_the_owners_token(owner, stranger):
    token = _token_of(owner)

    response = stranger.client.post(_revoke_url(token))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_needs_a_post(owner):
    token = _token_of(owner)

    response = owner.client.get(_revoke_url(token))

    assert response.status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_anonymous_visitor_cannot_create_tokens(client, owner):
    response = client.post(URL, {"name": "sneaky"})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={URL}"
    assert not ApiToken.objects.filter(name="sneaky").exists()
