"""`core.prepared.PreparedQuery` returns what the ORM returns for the same queryset: the
same rows, the same field values (converted as the backend converts them), the same
`select_related` objects cached on the instance — for every value, not only the first."""

import datetime as dt

import pytest
from django.contrib.auth import get_user
from django.test import RequestFactory

from solodesk.accounts.backends import AuthenticationBackend
from solodesk.accounts.models import Membership, User
from solodesk.accounts.selectors import membership_get_current
from solodesk.core.prepared import PreparedQuery
from solodesk.tests.factories import (
    MembershipFactory,
    RunningTimerFactory,
    UserFactory,
    WorkspaceFactory,
)
from solodesk.timetracking.selectors import timer_get


def _fields(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def _orm_user(pk) -> User:
    return User.objects.select_related("running_timer__project__client").get(pk=pk)


def test_the_user_with_a_running_timer_is_the_orms(owner, django_assert_num_queries):
    timer = RunningTimerFactory(
        user=owner.user, project__client__workspace=owner.workspace, description="Deep work"
    )
    expected = _orm_user(owner.user.pk)

    with django_assert_num_queries(1):
        user = AuthenticationBackend().get_user(owner.user.pk)
    with django_assert_num_queries(0):  # everything came with the one query
        loaded = timer_get(user=user)
        assert loaded is not None
        assert _fields(loaded) == _fields(expected.running_timer)
        assert _fields(loaded.project) == _fields(timer.project)
        assert _fields(loaded.project.client) == _fields(timer.project.client)
    assert _fields(user) == _fields(expected)
    assert isinstance(loaded.started_at, dt.datetime) and loaded.started_at.tzinfo is not None
    assert user._state.adding is False and user._state.db == "default"


def test_a_user_without_a_timer_costs_no_second_query(owner, member, django_assert_num_queries):
    RunningTimerFactory(user=owner.user, project__client__workspace=owner.workspace)

    with django_assert_num_queries(1):
        user = AuthenticationBackend().get_user(str(member.user.pk))  # the session's string
        assert timer_get(user=user) is None
    assert _fields(user) == _fields(_orm_user(member.user.pk))


def test_each_call_reads_its_own_row(db):
    users = [UserFactory() for _ in range(3)]
    backend = AuthenticationBackend()

    assert [backend.get_user(u.pk).email for u in reversed(users)] == [
        u.email for u in reversed(users)
    ]
    assert backend.get_user(10**9) is None
    assert backend.get_user("not a number") is None


def test_an_inactive_user_is_refused_as_before(db):
    user = UserFactory(is_active=False)

    assert AuthenticationBackend().get_user(user.pk) is None


def test_the_session_user_still_loads_through_django(owner, client):
    client.force_login(owner.user)
    request = RequestFactory().get("/")
    request.session = client.session

    assert get_user(request).pk == owner.user.pk


def test_the_current_membership_is_the_first_joined_with_its_workspace(
    owner, django_assert_num_queries
):
    later = MembershipFactory(
        user=owner.user, workspace=WorkspaceFactory(name="Later"), role=Membership.Role.MEMBER
    )
    expected = (
        Membership.objects.select_related("workspace")
        .filter(user=owner.user)
        .order_by("created_at", "pk")
        .first()
    )

    with django_assert_num_queries(1):
        found = membership_get_current(user=owner.user)
        assert found.workspace.name == "Owner Studio"
    assert _fields(found) == _fields(expected)
    assert _fields(found.workspace) == _fields(expected.workspace)
    assert found.pk != later.pk
    assert membership_get_current(user=later.workspace and UserFactory()) is None


def test_a_value_must_be_a_plain_parameter(db):
    query = PreparedQuery(lambda a: User.objects.filter(pk=a) | User.objects.filter(pk=a), "a")

    with pytest.raises(ValueError, match="once"):
        query.all(a=1)


def test_the_api_token_is_the_orms_and_each_call_reads_its_own(owner, member, stranger):
    from django.db.models import F
    from django.utils import timezone

    from solodesk.accounts.models import ApiToken, token_digest
    from solodesk.accounts.selectors import api_token_authenticate
    from solodesk.tests.factories import make_api_token

    raws = [
        make_api_token(user=persona.user, workspace=persona.workspace)
        for persona in (owner, member, stranger)
    ]

    for raw, persona in zip(raws, (owner, member, stranger), strict=True):
        token = api_token_authenticate(raw_token=raw)
        expected = (
            ApiToken.objects.select_related("workspace", "user")
            .filter(digest=token_digest(raw), workspace__memberships__user=F("user"))
            .get()
        )
        assert _fields(token) == _fields(expected)
        assert _fields(token.user) == _fields(persona.user)
        assert _fields(token.workspace) == _fields(persona.workspace)
    assert api_token_authenticate(raw_token="sd_not-a-token") is None

    ApiToken.objects.filter(user=member.user).update(revoked_at=timezone.now())
    assert api_token_authenticate(raw_token=raws[1]) is None
    Membership.objects.filter(user=stranger.user).delete()
    assert api_token_authenticate(raw_token=raws[2]) is None
    User.objects.filter(pk=owner.user.pk).update(is_active=False)
    assert api_token_authenticate(raw_token=raws[0]) is None
