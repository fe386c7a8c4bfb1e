"""Personas used across the suite: the workspace owner, a second member of the same
workspace, and a stranger who owns another workspace (and must get 404 everywhere)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client as DjangoClient
from zeal import zeal_context

from solodesk.accounts.models import Membership, User, Workspace
from solodesk.tests.factories import (
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
    make_api_token,
)


@dataclass
class Persona:
    user: User
    workspace: Workspace
    client: DjangoClient  # logged-in web client
    token: str  # API bearer token

    def api(self) -> DjangoClient:
        """A Django test client that sends this persona's bearer token, no session."""
        return DjangoClient(HTTP_AUTHORIZATION=f"Bearer {self.token}")


def _persona(workspace: Workspace, role: str) -> Persona:
    user = UserFactory()
    MembershipFactory(workspace=workspace, user=user, role=role)
    web = DjangoClient()
    web.force_login(user)
    return Persona(
        user=user,
        workspace=workspace,
        client=web,
        token=make_api_token(user=user, workspace=workspace),
    )


@pytest.fixture
def workspace(db) -> Workspace:
    return WorkspaceFactory(name="Owner Studio")


@pytest.fixture
def owner(workspace) -> Persona:
    return _persona(workspace, Membership.Role.OWNER)


@pytest.fixture
def member(workspace, owner) -> Persona:
    return _persona(workspace, Membership.Role.MEMBER)


@pytest.fixture
def stranger(db) -> Persona:
    return _persona(WorkspaceFactory(name="Stranger Studio"), Membership.Role.OWNER)


@pytest.fixture
def zeal():
    """For selector tests: fail on an N+1 inside the block. Requests are always checked:
    the test settings put django-zeal's middleware around every view and API call."""
    return zeal_context


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
