"""The demo workspace raises a realistic set of prompts, and loading it twice adds nothing."""

from __future__ import annotations

from solodesk.accounts.models import User
from solodesk.accounts.selectors import membership_get_current
from solodesk.demo import demo_load
from solodesk.projects.models import Project
from solodesk.prompts.demo import demo_prompts
from solodesk.prompts.selectors import prompt_list_for_user


def test_the_demo_raises_a_realistic_set_of_prompts(db):
    assert demo_load(email="demo@example.com", password="demo passphrase 1")
    user = User.objects.get(email="demo@example.com")
    workspace = membership_get_current(user=user).workspace
    prompts = prompt_list_for_user(workspace=workspace, user=user, limit=None)
    rules = {p.rule for p in prompts}
    assert {
        "unbilled_time",
        "invoice_overdue",
        "invoice_not_sent",
        "quote_accepted",
        "budget_80",
        "client_incomplete",
    } <= rules
    assert "onboarding" not in rules  # the demo business is fully set up

    budgets = list(Project.objects.order_by("pk").values_list("budget_hours", flat=True))
    demo_prompts(workspace=workspace, user=user, today=prompts.now.date())
    assert list(Project.objects.order_by("pk").values_list("budget_hours", flat=True)) == budgets
