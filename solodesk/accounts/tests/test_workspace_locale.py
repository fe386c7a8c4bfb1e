"""The workspace's locale: how dates and amounts are written on the documents clients get."""

from __future__ import annotations

from django.urls import reverse

from solodesk.accounts.models import Workspace
from solodesk.accounts.tests.test_workspace_settings import VALID

URL = reverse("workspace_settings")


def test_a_new_workspace_writes_dates_and_amounts_the_british_way(owner):
    assert Workspace.objects.get(pk=owner.workspace.pk).locale == "en-GB"


def test_owner_sees_the_locale_choice_in_the_settings_form(owner):
    html = owner.client.get(URL).content.decode()

    assert '<option value="en-GB" selected>English (United Kingdom) — en-GB</option>' in html
    assert '<option value="de-DE">Deutsch (Deutschland) — de-DE</option>' in html
    assert '<option value="pl-PL">Polski (Polska) — pl-PL</option>' in html


def test_owner_saves_another_locale(owner):
    response = owner.client.post(URL, {**VALID, "locale": "de-DE"})

    assert response.status_code == 302
    assert Workspace.objects.get(pk=owner.workspace.pk).locale == "de-DE"


def test_a_form_posted_without_a_locale_keeps_the_current_one(owner):
    Workspace.objects.filter(pk=owner.workspace.pk).update(locale="fr-FR")

    response = owner.client.post(URL, VALID)

    assert response.status_code == 302
    assert Workspace.objects.get(pk=owner.workspace.pk).locale == "fr-FR"


def test_an_unknown_locale_is_a_form_error_and_nothing_changes(owner):
    response = owner.client.post(URL, {**VALID, "locale": "xx-XX", "name": "Renamed"})

    assert response.status_code == 400
    assert response.context["form"].errors["locale"] == [
        "Select a valid choice. xx-XX is not one of the available choices."
    ]
    workspace = Workspace.objects.get(pk=owner.workspace.pk)
    assert (workspace.locale, workspace.name) == ("en-GB", owner.workspace.name)


def test_member_sees_the_locale_read_only(member):
    Workspace.objects.filter(pk=member.workspace.pk).update(locale="nl-NL")

    html = member.client.get(URL).content.decode()

    assert "<dt>Number and date format</dt><dd>Nederlands (Nederland) — nl-NL</dd>" in html
