"""The API token page lists at most TOKENS_SHOWN tokens, newest first, in the same queries
whatever their number, and says when there are more."""

from __future__ import annotations

import pytest
from django.urls import reverse

from solodesk.accounts import views
from solodesk.tests.factories import make_api_token


@pytest.mark.parametrize("extra_tokens", [2, 9])
def test_the_token_list_is_bounded(owner, monkeypatch, extra_tokens, django_assert_num_queries):
    monkeypatch.setattr(views, "TOKENS_SHOWN", 5)
    for n in range(extra_tokens):
        make_api_token(user=owner.user, workspace=owner.workspace, raw=f"sd_owner_extra_{n}")

    # 1 session, 2 user (+ timer), 3 membership (+ workspace), 4 at most 6 of the tokens.
    with django_assert_num_queries(4):
        response = owner.client.get(reverse("api_tokens"))

    total = extra_tokens + 1  # + the persona's own
    assert len(response.context["tokens"]) == min(total, 5)
    assert ('data-testid="more-tokens"' in response.content.decode()) == (total > 5)
