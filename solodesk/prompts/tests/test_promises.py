"""Promises of the prompts' design that no other test shows: a new rule is one module (the
registry finds it, nothing else changes), "shown" events are one INSERT whatever the number
of prompts, and the overdue prompt means what the invoice list's "overdue" filter means."""

from __future__ import annotations

import pkgutil
from collections.abc import Iterable

import pytest

from solodesk.invoicing.selectors import invoice_list
from solodesk.prompts import rules as rules_package
from solodesk.prompts.registry import RULES, Context, Cta, Prompt, Rule, register
from solodesk.prompts.services import prompt_events_record_shown
from solodesk.prompts.tests.conftest import issued_invoice, keys, prompts_for


def test_every_rule_module_registers_its_own_rules():
    """The package imports each module it holds: a rule lives, whole, in its own module."""
    modules = {
        f"{rules_package.__name__}.{info.name}"
        for info in pkgutil.iter_modules(rules_package.__path__)
    } - {f"{rules_package.__name__}.families"}
    owners = {type(rule).__module__ for rule in RULES.values()}
    assert owners == modules


def test_a_rule_defined_in_one_place_is_evaluated_without_any_other_change(owner):
    @register
    class Hello(Rule):
        name = "test_hello"
        title = "Hello"
        family = "timer"  # an existing family: no query of its own
        priority = 1

        def evaluate(self, ctx: Context, rows: object) -> Iterable[Prompt]:
            yield Prompt(
                key=f"{self.name}:x",
                rule=self.name,
                priority=self.priority,
                title="Hello",
                message=f"Hello {ctx.workspace.name}",
                cta=Cta("Go", "/"),
            )

    try:
        assert "test_hello:x" in keys(prompts_for(owner))
    finally:
        del RULES["test_hello"]
    assert "test_hello:x" not in keys(prompts_for(owner))


def _prompts(count: int) -> list[Prompt]:
    return [
        Prompt(key=f"r:{n}", rule="r", priority=1, title="t", message="m", cta=Cta("Go", "/"))
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [1, 40])
def test_shown_events_are_one_insert_whatever_the_number_of_prompts(
    owner, count, django_assert_num_queries
):
    # 1. INSERT … ON CONFLICT DO NOTHING of every "shown" event (no completion to record).
    with django_assert_num_queries(1):
        prompt_events_record_shown(
            workspace=owner.workspace, user=owner.user, prompts=_prompts(count)
        )


def test_the_overdue_prompt_agrees_with_the_invoice_lists_overdue_filter(owner, acme):
    overdue = issued_invoice(owner, client=acme, days_ago=40, due_days=14)
    yesterday = issued_invoice(owner, client=acme, days_ago=40, due_days=39)
    issued_invoice(owner, client=acme, days_ago=40, due_days=40)  # due today: not overdue
    issued_invoice(owner, client=acme, days_ago=1, due_days=14)  # not due yet
    listed = {str(i.public_id) for i in invoice_list(workspace=owner.workspace, status="overdue")}
    raised = {p.subject for p in prompts_for(owner) if p.rule == "invoice_overdue"}
    assert listed == raised == {str(overdue.public_id), str(yesterday.public_id)}
