"""Expense pages: list (filters, totals per currency), create, edit, delete. Reads through
selectors, writes through services; another workspace's expense is a 404. Owners and
members alike, as for time entries."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.accounts.workspace import workspace_page
from solodesk.clients.selectors import client_list
from solodesk.core.choices import CHOICES_LIMIT, bounded_menu
from solodesk.core.exceptions import ApplicationError
from solodesk.core.web import CountedPaginator, next_url
from solodesk.expenses import selectors, services
from solodesk.expenses.forms import ExpenseFilterForm, ExpenseForm
from solodesk.expenses.models import Expense
from solodesk.projects.selectors import project_list

PAGE_SIZE = 50


@require_GET
@workspace_page
def expense_list(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), the clients and the
    # projects (+ clients) of the filter menus (at most CHOICES_LIMIT each: 3,000 projects
    # at the `large` seed; the chosen ones first, so a filter on one beyond the limit still
    # shows its name), the summary (count and totals per currency, one GROUP BY), one page
    # of expenses (+ client, project, author).
    workspace = _workspace(request)
    clients = bounded_menu(
        client_list(workspace=workspace, include_archived=True),
        first={"public_id": request.GET.get("client")},
        limit=CHOICES_LIMIT,
    )
    projects = bounded_menu(
        project_list(workspace=workspace, include_archived=True),
        first={"public_id": request.GET.get("project")},
        limit=CHOICES_LIMIT,
    )
    form = ExpenseFilterForm(request.GET or None, clients=clients, projects=projects)
    filters = form.to_filters()
    summary = selectors.expense_summary(workspace=workspace, filters=filters)
    expenses = selectors.expense_list(workspace=workspace, filters=filters)
    page = CountedPaginator(expenses, PAGE_SIZE, count=summary.count).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "expenses/expense_list.html",
        {"nav": "expenses", "form": form, "page": page, "summary": summary},
    )


def _form_page(request: HttpRequest, expense: Expense | None) -> HttpResponse:
    workspace = _workspace(request)
    if request.method == "POST":
        form = ExpenseForm(request.POST, workspace=workspace, expense=expense)
        if form.is_valid():
            try:
                if expense is None:
                    saved = services.expense_create(
                        workspace=workspace, created_by=_user(request), **form.cleaned_data
                    )
                else:
                    saved = services.expense_update(expense=expense, **form.cleaned_data)
            except ApplicationError as error:
                form.add_service_error(error)
            else:
                verb = "added" if expense is None else "saved"
                messages.success(request, f"Expense of {saved.amount} {saved.currency} {verb}.")
                return redirect(next_url(request, reverse("expenses:list")))
    elif expense is not None:
        form = ExpenseForm(workspace=workspace, expense=expense)
    else:
        form = ExpenseForm(
            workspace=workspace,
            initial={
                "date": timezone.localdate(),
                "client": request.GET.get("client") or None,
                "project": request.GET.get("project") or None,
            },
        )
    return render(
        request,
        "expenses/expense_form.html",
        {"nav": "expenses", "form": form, "expense": expense},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@workspace_page
def expense_new(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@require_http_methods(["GET", "POST"])
@workspace_page
def expense_edit(request: HttpRequest, public_id) -> HttpResponse:
    expense = selectors.expense_get(workspace=_workspace(request), public_id=public_id)
    return _form_page(request, expense)


@require_http_methods(["GET", "POST"])
@workspace_page
def expense_delete(request: HttpRequest, public_id) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    expense = selectors.expense_get(workspace=_workspace(request), public_id=public_id)
    if request.method == "POST":
        services.expense_delete(expense=expense)
        messages.success(request, f"Expense of {expense.amount} {expense.currency} deleted.")
        return redirect(next_url(request, reverse("expenses:list")))
    return render(
        request, "expenses/expense_confirm_delete.html", {"nav": "expenses", "expense": expense}
    )
