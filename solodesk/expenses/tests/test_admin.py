"""The expense admin: it renders with related rows joined and edits nothing around the
services."""

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from solodesk.expenses.models import Expense
from solodesk.expenses.tests.factories import ExpenseFactory
from solodesk.tests.factories import ClientFactory, ProjectFactory, UserFactory


@pytest.fixture
def admin_client(db):
    web = DjangoClient()
    web.force_login(UserFactory(is_staff=True, is_superuser=True))
    return web


def test_changelist_and_detail_render_without_n_plus_one(admin_client, owner, member):
    for persona in (owner, member):
        project = ProjectFactory(client__workspace=owner.workspace)
        ExpenseFactory.create_batch(
            3,
            workspace=owner.workspace,
            created_by=persona.user,
            client=project.client,
            project=project,
        )
    expense = Expense.objects.first()

    changelist = admin_client.get(reverse("admin:expenses_expense_changelist"))
    detail = admin_client.get(reverse("admin:expenses_expense_change", args=[expense.pk]))

    assert changelist.status_code == 200
    assert detail.status_code == 200


def test_admin_does_not_add_or_edit_expenses(admin_client, owner, stranger):
    expense = ExpenseFactory(workspace=owner.workspace, created_by=owner.user)
    theirs = ClientFactory(workspace=stranger.workspace)

    add = admin_client.get(reverse("admin:expenses_expense_add"))
    change = admin_client.post(
        reverse("admin:expenses_expense_change", args=[expense.pk]),
        {"client": theirs.pk, "description": "x"},
    )

    assert add.status_code == 403
    assert change.status_code == 403
    expense.refresh_from_db()
    assert expense.client is None
    assert expense.description != "x"
