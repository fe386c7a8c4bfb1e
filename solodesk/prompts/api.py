"""Prompts in the API, so a mobile client can show them: the list (recording "shown" as
the web pages do), dismiss and snooze. An unknown key — or one about another workspace's
object — is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from solodesk.core.api import IsoDatetime
from solodesk.prompts.models import PromptState
from solodesk.prompts.registry import Prompt
from solodesk.prompts.selectors import prompt_get_raised, prompt_list_for_user
from solodesk.prompts.services import prompt_dismiss, prompt_events_record_shown, prompt_snooze

router = Router(tags=["prompts"])


class CtaOut(Schema):
    label: str
    url: str
    method: str


class StepOut(Schema):
    name: str
    label: str
    done: bool


class PromptOut(Schema):
    key: str
    rule: str
    priority: int
    title: str
    message: str
    cta: CtaOut
    click_url: str = Field(
        description="Open this (GET, or POST for a POST action) to follow the call to action and record the click."
    )
    steps: list[StepOut]


class PromptStateOut(Schema):
    key: str
    dismissed_at: IsoDatetime | None
    snoozed_until: dt.date | None
    completed_at: IsoDatetime | None


class SnoozeIn(Schema):
    until: dt.date | None = Field(None, description="Show it again on this day.")
    days: int | None = Field(None, ge=1, le=365, description="Or: for this many days.")


def _out(prompt: Prompt) -> dict:
    return {
        "key": prompt.key,
        "rule": prompt.rule,
        "priority": prompt.priority,
        "title": prompt.title,
        "message": prompt.message,
        "cta": {"label": prompt.cta.label, "url": prompt.cta.url, "method": prompt.cta.method},
        "click_url": prompt.click_url,
        "steps": [{"name": s.name, "label": s.label, "done": s.done} for s in prompt.steps],
    }


@router.get("", response=list[PromptOut])
def list_prompts(
    request: HttpRequest,
    placement: Literal["dashboard", "invoice_list", "project_detail"] = "dashboard",
) -> list[dict]:
    workspace, user = request.workspace, request.user  # type: ignore[attr-defined]
    prompts = prompt_list_for_user(workspace=workspace, user=user, placement=placement)  # type: ignore[arg-type]
    prompt_events_record_shown(workspace=workspace, user=user, prompts=prompts)  # type: ignore[arg-type]
    return [_out(prompt) for prompt in prompts]


@router.post("/{key}/dismiss", response=PromptStateOut)
def dismiss_prompt(request: HttpRequest, key: str) -> PromptState:
    workspace, user = request.workspace, request.user  # type: ignore[attr-defined]
    prompt_get_raised(workspace=workspace, user=user, key=key)  # type: ignore[arg-type]
    return prompt_dismiss(workspace=workspace, user=user, key=key)  # type: ignore[arg-type]


@router.post("/{key}/snooze", response=PromptStateOut)
def snooze_prompt(request: HttpRequest, key: str, payload: SnoozeIn) -> PromptState:
    workspace, user = request.workspace, request.user  # type: ignore[attr-defined]
    prompt_get_raised(workspace=workspace, user=user, key=key)  # type: ignore[arg-type]
    return prompt_snooze(
        workspace=workspace,
        user=user,  # type: ignore[arg-type]
        key=key,
        until=payload.until,
        days=payload.days,
    )
