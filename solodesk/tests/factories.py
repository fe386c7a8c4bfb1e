"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import factory
from django.utils import timezone

from solodesk.accounts.models import ApiToken, Membership, User, Workspace, token_digest
from solodesk.clients.models import Client
from solodesk.projects.models import Project
from solodesk.timetracking.models import RunningTimer, Tag, TimeEntry

DEFAULT_PASSWORD = "correct horse battery staple"


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Studio {n}")
    address = "1 Main Street\n1000 Brussels"
    tax_id = factory.Sequence(lambda n: f"BE0{n:09d}")
    default_currency = "EUR"
    time_zone = "Europe/Brussels"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Client {n} Ltd")
    email = factory.Sequence(lambda n: f"billing{n}@client.example")
    currency = "EUR"
    payment_terms_days = 30
    default_hourly_rate = Decimal("80.00")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    workspace = factory.SelfAttribute("client.workspace")
    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    billing_method = Project.BillingMethod.HOURLY
    hourly_rate = Decimal("95.00")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("workspace", "name")

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"tag{n}")


class TimeEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeEntry

    project = factory.SubFactory(ProjectFactory)
    workspace = factory.SelfAttribute("project.workspace")
    user = factory.SubFactory(UserFactory)
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=3))
    ended_at = factory.LazyAttribute(lambda o: o.started_at + dt.timedelta(hours=1, minutes=30))
    duration_seconds = factory.LazyAttribute(
        lambda o: int((o.ended_at - o.started_at).total_seconds())
    )
    description = factory.Sequence(lambda n: f"Work item {n}")
    is_billable = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # As the services do: the entry's day totals (TimeEntryDay) follow it.
        from solodesk.timetracking.services import time_entry_days_apply

        entry = super()._create(model_class, *args, **kwargs)
        time_entry_days_apply(added=[entry])
        return entry


class RunningTimerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RunningTimer

    project = factory.SubFactory(ProjectFactory)
    workspace = factory.SelfAttribute("project.workspace")
    user = factory.SubFactory(UserFactory)
    description = "Writing the proposal"
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=25))


def make_api_token(*, user: User, workspace: Workspace, raw: str | None = None) -> str:
    # Random, so that the displayed prefix (the first 10 characters) tells tokens apart
    # whatever the primary keys are (PostgreSQL does not reset sequences between tests).
    raw = raw or f"sd_{secrets.token_hex(16)}"
    ApiToken.objects.create(
        workspace=workspace,
        user=user,
        name="test",
        prefix=raw[:10],
        digest=token_digest(raw),
        # Recently used: the once-a-minute last_used_at write stays out of query counts.
        last_used_at=timezone.now(),
    )
    return raw
