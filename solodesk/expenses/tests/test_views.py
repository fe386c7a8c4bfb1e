"""Expense pages: /expenses/ list, new, edit, delete."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from solodesk.core.choices import CHOICES_LIMIT
from solodesk.expenses.models import Expense
from solodesk.expenses.tests.factories import ExpenseFactory
from solodesk.tests.factories import ClientFactory, ProjectFactory

LIST_URL = reverse("expenses:list")
NEW_URL = reverse("expenses:new")


def edit_url(expense: Expense) -> str:
    return reverse("expenses:edit", args=[expense.public_id])


def delete_url(expense: Expense) -> str:
    return reverse("expenses:delete", args=[expense.public_id])


def valid_post(**overrides) -> dict:
    return {
        "date": "2026-11-20",
        "amount": "42.50",
        "currency": "",
        "category": "software",
        "description": "Design tool licence",
        "client": "",
        "project": "",
        **overrides,
    }


def make(persona, **fields) -> Expense:
    return ExpenseFactory(workspace=persona.workspace, created_by=persona.user, **fields)


@pytest.fixture(params=["owner", "member"])
def persona(request):
    """Every page works the same for the owner and for a member of the workspace."""
    return request.getfixturevalue(request.param)


# --- List ----------------------------------------------------------------------------------


def test_list_shows_the_workspaces_expenses_only(persona, stranger):
    make(persona, description="Mine")
    ExpenseFactory(workspace=stranger.workspace, created_by=stranger.user, description="Theirs")

    response = persona.client.get(LIST_URL)

    assert response.status_code == 200
    assert response.context["nav"] == "expenses"
    assert [e.description for e in response.context["page"].object_list] == ["Mine"]
    assert b"Theirs" not in response.content


def test_list_requires_login(db):
    response = DjangoClient().get(LIST_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_list_is_newest_first(owner):
    make(owner, date=dt.date(2026, 1, 5), description="Old")
    make(owner, date=dt.date(2026, 3, 5), description="New")

    response = owner.client.get(LIST_URL)

    assert [e.description for e in response.context["page"].object_list] == ["New", "Old"]


def test_list_totals_per_currency_for_the_filtered_set(owner):
    acme = ClientFactory(workspace=owner.workspace, name="Acme")
    make(owner, amount=Decimal("10.10"), currency="EUR", client=acme, is_billable=True)
    make(owner, amount=Decimal("0.20"), currency="EUR")
    make(owner, amount=Decimal("5.00"), currency="USD", client=acme)
    make(owner, amount=Decimal("99.00"), currency="EUR", date=dt.date(2025, 1, 1))

    response = owner.client.get(LIST_URL, {"month": "2026-11"})

    summary = response.context["summary"]
    assert summary.count == 3
    assert [(t.currency, t.amount, t.billable_amount, t.count) for t in summary.totals] == [
        ("EUR", Decimal("10.30"), Decimal("10.10"), 2),
        ("USD", Decimal("5.00"), Decimal("0.00"), 1),
    ]
    assert b"10.30 EUR" in response.content
    assert b"5.00 USD" in response.content
    assert b"3 expenses" in response.content


def test_list_filters_by_date_range_client_project_category_and_billable(owner):
    acme = ClientFactory(workspace=owner.workspace, name="Acme")
    site = ProjectFactory(client=acme, name="Site")
    make(owner, description="a", date=dt.date(2026, 10, 1), client=acme, project=site)
    make(owner, description="b", date=dt.date(2026, 10, 2), client=acme, category="travel")
    make(
        owner,
        description="c",
        date=dt.date(2026, 10, 3),
        client=acme,
        is_billable=True,
        category="travel",
    )
    make(owner, description="d", date=dt.date(2026, 11, 3), category="travel")

    def descriptions(**params):
        response = owner.client.get(LIST_URL, params)
        assert response.status_code == 200
        return sorted(e.description for e in response.context["page"].object_list)

    assert descriptions(date_from="2026-10-02", date_to="2026-10-03") == ["b", "c"]
    assert descriptions(month="2026-10") == ["a", "b", "c"]
    assert descriptions(client=str(acme.public_id)) == ["a", "b", "c"]
    assert descriptions(project=str(site.public_id)) == ["a"]
    assert descriptions(category="travel") == ["b", "c", "d"]
    assert descriptions(billable="yes") == ["c"]
    assert descriptions(billable="no", category="travel") == ["b", "d"]


def test_list_ignores_a_bad_filter_and_keeps_the_others(owner):
    make(owner, description="travel", category="travel")
    make(owner, description="meal", category="meals")

    response = owner.client.get(LIST_URL, {"month": "nope", "category": "travel"})

    assert response.status_code == 200
    assert [e.description for e in response.context["page"].object_list] == ["travel"]
    assert "month" in response.context["form"].errors


def test_list_paginates_fifty_per_page(owner):
    ExpenseFactory.create_batch(51, workspace=owner.workspace, created_by=owner.user)

    first = owner.client.get(LIST_URL)
    second = owner.client.get(LIST_URL, {"page": "2"})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert first.context["page"].paginator.count == 51
    assert b"Page 1 of 2" in first.content
    assert b"?page=2" in first.content


@pytest.mark.parametrize("rows", [3, 40])
def test_list_query_count_does_not_grow_with_rows(owner, rows, django_assert_num_queries):
    clients = ClientFactory.create_batch(2, workspace=owner.workspace)
    projects = [ProjectFactory(client=client) for client in clients]
    for row in range(rows):
        make(
            owner,
            client=clients[row % 2],
            project=projects[row % 2] if row % 3 else None,
            currency=["EUR", "USD"][row % 2],
        )

    # 1 session, 2 user joined with running timer, 3 membership joined with workspace,
    # 4 the clients of the filter menu, 5 the projects (+ clients) of the filter menu,
    # 6 the summary: count and totals per currency (one GROUP BY),
    # 7 the page of expenses joined with client, project and author.
    with django_assert_num_queries(7):
        response = owner.client.get(LIST_URL)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == rows


@pytest.mark.parametrize("rows", [3, 40])
def test_filtered_list_query_count_does_not_grow_with_rows(owner, rows, django_assert_num_queries):
    client = ClientFactory(workspace=owner.workspace)
    for _ in range(rows):
        make(owner, client=client)

    # The same seven queries with filters applied.
    with django_assert_num_queries(7):
        response = owner.client.get(
            LIST_URL, {"client": str(client.public_id), "month": "2026-11", "billable": "no"}
        )

    assert response.status_code == 200


# --- New -----------------------------------------------------------------------------------


def test_new_adds_an_expense_in_the_workspaces_currency(persona):
    persona.workspace.default_currency = "CHF"
    persona.workspace.save()

    page = persona.client.get(NEW_URL)
    response = persona.client.post(NEW_URL, valid_post())

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    expense = Expense.objects.get()
    assert expense.workspace == persona.workspace
    assert expense.created_by == persona.user
    assert expense.amount == Decimal("42.50")
    assert expense.currency == "CHF"
    assert expense.category == "software"
    assert expense.date == dt.date(2026, 11, 20)


def test_new_with_a_project_takes_its_client_and_currency(owner):
    project = ProjectFactory(client__workspace=owner.workspace, client__currency="USD")

    response = owner.client.post(
        NEW_URL, valid_post(project=str(project.public_id), is_billable="on")
    )

    assert response.status_code == 302
    expense = Expense.objects.get()
    assert expense.client == project.client
    assert expense.currency == "USD"
    assert expense.is_billable is True


def test_new_proposes_today_and_the_client_from_the_query(owner):
    client = ClientFactory(workspace=owner.workspace)

    response = owner.client.get(NEW_URL, {"client": str(client.public_id)})

    assert response.context["form"].initial["client"] == str(client.public_id)
    assert response.context["form"].initial["date"] is not None


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 0.01."),
        ("-3", "Ensure this value is greater than or equal to 0.01."),
        ("1.005", "Ensure that there are no more than 2 decimal places."),
        ("", "This field is required."),
    ],
)
def test_new_rejects_a_bad_amount_and_adds_nothing(owner, amount, message):
    response = owner.client.post(NEW_URL, valid_post(amount=amount))

    assert response.status_code == 400
    assert response.context["form"].errors == {"amount": [message]}
    assert not Expense.objects.exists()


def test_new_shows_the_services_complaint_beside_the_field(owner):
    acme = ClientFactory(workspace=owner.workspace)
    other_project = ProjectFactory(client__workspace=owner.workspace)

    response = owner.client.post(
        NEW_URL, valid_post(client=str(acme.public_id), project=str(other_project.public_id))
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "project": ["This project belongs to another client."]
    }
    assert not Expense.objects.exists()


def test_new_refuses_another_workspaces_client(owner, stranger):
    theirs = ClientFactory(workspace=stranger.workspace)

    response = owner.client.post(NEW_URL, valid_post(client=str(theirs.public_id)))

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["client"]
    assert not Expense.objects.exists()


def test_new_refuses_billable_without_a_client(owner):
    response = owner.client.post(NEW_URL, valid_post(is_billable="on"))

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "is_billable": ["A billable expense needs a client."]
    }


# --- Edit and delete -----------------------------------------------------------------------


def test_edit_renders_and_saves(persona):
    expense = make(persona, description="Old", currency="EUR")

    page = persona.client.get(edit_url(expense))
    response = persona.client.post(
        edit_url(expense), valid_post(description="New", currency="USD", amount="7.00")
    )

    assert page.status_code == 200
    assert response.status_code == 302
    expense.refresh_from_db()
    assert expense.description == "New"
    assert expense.currency == "USD"
    assert expense.amount == Decimal("7.00")


def test_edit_returns_to_a_safe_next_only(owner):
    expense = make(owner)

    local = owner.client.post(
        edit_url(expense), {**valid_post(currency="EUR"), "next": "/expenses/?page=2"}
    )
    foreign = owner.client.post(
        edit_url(expense), {**valid_post(currency="EUR"), "next": "https://evil.example/"}
    )

    assert local["Location"] == "/expenses/?page=2"
    assert foreign["Location"] == LIST_URL


def test_edit_requires_a_currency(owner):
    expense = make(owner, currency="EUR")

    response = owner.client.post(edit_url(expense), valid_post(currency=""))

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["currency"]
    expense.refresh_from_db()
    assert expense.currency == "EUR"


def test_delete_asks_then_deletes(persona):
    expense = make(persona)

    confirm = persona.client.get(delete_url(expense))
    assert confirm.status_code == 200
    assert Expense.objects.filter(pk=expense.pk).exists()

    response = persona.client.post(delete_url(expense))

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert not Expense.objects.filter(pk=expense.pk).exists()


def test_stranger_gets_404_on_every_page_and_nothing_changes(owner, stranger):
    expense = make(owner, description="Secret", amount=Decimal("10.00"))

    responses = [
        stranger.client.get(edit_url(expense)),
        stranger.client.post(edit_url(expense), valid_post(description="Hacked", currency="EUR")),
        stranger.client.get(delete_url(expense)),
        stranger.client.post(delete_url(expense)),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    expense.refresh_from_db()
    assert expense.description == "Secret"
    assert expense.amount == Decimal("10.00")


def test_a_member_edits_an_expense_the_owner_added(owner, member):
    expense = make(owner, description="Owner's")

    response = member.client.post(
        edit_url(expense), valid_post(description="Fixed by member", currency="EUR")
    )

    assert response.status_code == 302
    expense.refresh_from_db()
    assert expense.description == "Fixed by member"
    assert expense.created_by == owner.user


def test_nav_links_to_expenses(owner):
    response = owner.client.get(LIST_URL)

    assert f'href="{LIST_URL}" aria-current="page"'.encode() in response.content


def test_list_filter_menus_are_bounded_and_any_project_still_filters(owner, monkeypatch):
    monkeypatch.setattr("solodesk.expenses.views.CHOICES_LIMIT", 2)
    client = ClientFactory(workspace=owner.workspace)
    projects = [
        ProjectFactory(workspace=owner.workspace, client=client, name=f"P{n}") for n in range(4)
    ]
    outside = sorted(projects, key=lambda p: p.name)[-1]
    wanted = make(owner, client=client, project=outside)
    make(owner, client=client, project=projects[0])

    page = owner.client.get(LIST_URL)
    filtered = owner.client.get(LIST_URL, {"project": str(outside.public_id)})

    menu = page.context["form"].fields["project"].choices
    assert len(menu) == 3  # "All projects" + the bounded two
    assert filtered.status_code == 200
    assert [e.pk for e in filtered.context["page"].object_list] == [wanted.pk]


def _clients_with_a_project(owner, count: int) -> tuple[list, list]:
    """`count` clients C000… each with one project P000…: the nth project by name is the
    nth client's, so the 250th of each is beyond a menu of CHOICES_LIMIT."""
    from solodesk.clients.models import Client
    from solodesk.projects.models import Project

    clients = Client.objects.bulk_create(
        ClientFactory.build(workspace=owner.workspace, name=f"C{n:03d}") for n in range(count)
    )
    projects = Project.objects.bulk_create(
        ProjectFactory.build(client=client, name=f"P{n:03d}") for n, client in enumerate(clients)
    )
    return clients, projects


@pytest.mark.parametrize("total", [CHOICES_LIMIT + 60, CHOICES_LIMIT + 150])
@pytest.mark.parametrize("name", ["project", "client"])
def test_list_filtered_beyond_the_menu_shows_the_chosen_one_by_name(
    owner, total, name, django_assert_num_queries
):
    clients, projects = _clients_with_a_project(owner, total)
    chosen_client, chosen_project = clients[249], projects[249]  # the 250th of each
    wanted = make(owner, client=chosen_client, project=chosen_project)
    make(owner, client=clients[0], project=projects[0])
    chosen, label = {
        "project": (chosen_project, "P249 · C249"),
        "client": (chosen_client, "C249"),
    }[name]

    # The same seven queries as the unfiltered list, whatever the size: session, user (+
    # timer), membership (+ workspace), the clients of the menu (the chosen one first),
    # the projects (+ clients) of the menu (the chosen one first), the summary, the page.
    with django_assert_num_queries(7):
        response = owner.client.get(LIST_URL, {name: str(chosen.public_id)})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{chosen.public_id}" selected>{label}</option>' in html
    menu = response.context["form"].fields[name].choices
    assert len(menu) == CHOICES_LIMIT + 1  # "All …" + the bounded menu
    assert [e.pk for e in response.context["page"].object_list] == [wanted.pk]


def test_list_unfiltered_menus_list_the_first_by_name(owner):
    _clients_with_a_project(owner, CHOICES_LIMIT + 5)

    response = owner.client.get(LIST_URL)

    for name, first, last in [
        ("client", "C000", "C199"),
        ("project", "P000 · C000", "P199 · C199"),
    ]:
        menu = response.context["form"].fields[name].choices
        assert len(menu) == CHOICES_LIMIT + 1
        assert (menu[1][1], menu[-1][1]) == (first, last)


def test_list_filtered_by_a_strangers_project_shows_it_chosen_by_no_name(owner, stranger):
    theirs = ProjectFactory(client=ClientFactory(workspace=stranger.workspace, name="Secret"))
    ExpenseFactory(workspace=stranger.workspace, created_by=stranger.user, project=theirs)
    make(owner)

    response = owner.client.get(LIST_URL, {"project": str(theirs.public_id)})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{theirs.public_id}" selected>The chosen project</option>' in html
    assert "Secret" not in html
    assert list(response.context["page"].object_list) == []
