from __future__ import annotations

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from solodesk.accounts.models import ApiToken, Membership, User


@pytest.fixture
def admin_client_for(db):
    superuser = User.objects.create_superuser(email="root@example.com", password="root pass 123")
    client = DjangoClient()
    client.force_login(superuser)
    return client


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:accounts_user_changelist",
        "admin:accounts_user_add",
        "admin:accounts_workspace_changelist",
        "admin:accounts_membership_changelist",
        "admin:accounts_apitoken_changelist",
    ],
)
def test_admin_pages_render(admin_client_for, owner, member, url_name):
    response = admin_client_for.get(reverse(url_name))

    assert response.status_code == 200


def test_admin_change_pages_render_for_the_email_only_user_and_the_workspace(
    admin_client_for, owner, member
):
    for url in (
        reverse("admin:accounts_user_change", args=[owner.user.pk]),
        reverse("admin:accounts_workspace_change", args=[owner.workspace.pk]),
        reverse("admin:accounts_apitoken_change", args=[ApiToken.objects.get(user=owner.user).pk]),
    ):
        response = admin_client_for.get(url)
        assert response.status_code == 200, url


def test_admin_adds_a_user_by_email(admin_client_for):
    response = admin_client_for.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new@example.com",
            "usable_password": "true",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.check_password("a long enough passphrase")
    assert not Membership.objects.filter(user=user).exists()


def test_admin_cannot_add_api_tokens(admin_client_for):
    response = admin_client_for.get(reverse("admin:accounts_apitoken_add"))

    assert response.status_code == 403


def test_admin_action_revokes_tokens(admin_client_for, owner, member):
    tokens = ApiToken.objects.filter(workspace=owner.workspace)

    response = admin_client_for.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [str(t.pk) for t in tokens]},
    )

    assert response.status_code == 302
    assert sorted(t.revoked_at is not None for t in tokens.all()) == [True, True]


def test_admin_changes_a_users_email(admin_client_for, owner):
    user = owner.user
    url = reverse("admin:accounts_user_change", args=[user.pk])

    response = admin_client_for.post(
        url,
        {
            "email": "renamed@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "is_active": "on",
            "date_joined_0": "2026-01-05",
            "date_joined_1": "09:00:00",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": str(Membership.objects.get(user=user).pk),
            "memberships-0-user": str(user.pk),
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.email, user.first_name, user.is_staff) == ("renamed@example.com", "Ada", False)
    assert Membership.objects.get(user=user).role == Membership.Role.OWNER


def _workspace_form(workspace, **changes) -> dict:
    """The workspace's admin change form as the page would post it, with `changes`."""
    from django.forms.models import model_to_dict

    data = {
        key: "" if value is None else value
        for key, value in model_to_dict(workspace).items()
        if key not in {"id", "public_id", "created_at", "updated_at"}
    }
    memberships = list(Membership.objects.filter(workspace=workspace).order_by("pk"))
    data |= {
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
    }
    for n, membership in enumerate(memberships):
        data |= {
            f"memberships-{n}-id": str(membership.pk),
            f"memberships-{n}-workspace": str(workspace.pk),
        }
    return data | changes


@pytest.fixture
def broker(monkeypatch):
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "solodesk.core.services._send_to_broker",
        lambda job_id, task_name, countdown=None: sent.append((job_id, task_name)),
    )
    return sent


def test_admin_time_zone_change_queues_the_totals_recount(
    admin_client_for, owner, broker, django_capture_on_commit_callbacks
):
    from solodesk.accounts.services import TIME_TOTALS_RECOUNT_TASK
    from solodesk.core.models import Job

    workspace = owner.workspace
    before = workspace.time_zone
    url = reverse("admin:accounts_workspace_change", args=[workspace.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_for.post(url, _workspace_form(workspace, time_zone="Asia/Tokyo"))

    assert response.status_code == 302, response.content.decode()[:2000]
    workspace.refresh_from_db()
    assert workspace.time_zone == "Asia/Tokyo"
    (job,) = Job.objects.filter(workspace=workspace, kind=Job.Kind.TIME_TOTALS_RECOUNT)
    # The owner's job (the staff user is no member), sent to the broker after the commit.
    assert (job.owner, job.status, job.params) == (
        owner.user,
        Job.Status.QUEUED,
        {"time_zone_from": before, "time_zone_to": "Asia/Tokyo"},
    )
    assert broker == [(job.pk, TIME_TOTALS_RECOUNT_TASK)]


def test_admin_other_workspace_changes_queue_no_recount(
    admin_client_for, owner, broker, django_capture_on_commit_callbacks
):
    from solodesk.core.models import Job

    workspace = owner.workspace
    url = reverse("admin:accounts_workspace_change", args=[workspace.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_for.post(url, _workspace_form(workspace, name="Renamed"))

    assert response.status_code == 302, response.content.decode()[:2000]
    workspace.refresh_from_db()
    assert workspace.name == "Renamed"
    assert not Job.objects.filter(workspace=workspace).exists()
    assert broker == []
