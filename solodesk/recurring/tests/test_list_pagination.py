"""The recurring profile list paginates: one page of rows, the same queries at any size."""

from __future__ import annotations

import pytest
from django.urls import reverse

from solodesk.recurring import views
from solodesk.recurring.tests.conftest import make_profile
from solodesk.tests.factories import ClientFactory


@pytest.mark.parametrize("profiles", [4, 9])
def test_the_list_shows_one_page_in_the_same_queries(
    owner, profiles, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    client = ClientFactory(workspace=owner.workspace, name="Acme Ltd")
    for n in range(profiles):
        make_profile(owner, client=client, name=f"Retainer {n}")

    # 1 session, 2 user (+ timer), 3 membership (+ workspace), 4 COUNT, 5 one page of
    # profiles (+ client, run counts).
    with django_assert_num_queries(5):
        response = owner.client.get(reverse("recurring:list"))

    html = response.content.decode()
    assert html.count('<td><a href="/recurring/') == 3  # one link per row
    assert "Page 1 of" in html
    assert len(response.context["profiles"]) == 3
