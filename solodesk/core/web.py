"""Small helpers shared by the web views of every app."""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS, url_has_allowed_host_and_scheme

from solodesk.core.exceptions import ApplicationError

T = TypeVar("T")


# --- URLs reversed once per process ---------------------------------------------------------

# A value every path converter the rules use (uuid, str) accepts, and no URL contains.
_SAMPLE = "ffffffff-ffff-4fff-bfff-fffffffffffe"


@functools.lru_cache(maxsize=128)
def _url_halves(name: str, prefix: str, urlconf: str | None) -> tuple[str, str]:
    url = reverse(name, args=[_SAMPLE])
    before, found, after = url.partition(_SAMPLE)
    assert found, f"{name} does not take one path argument"
    return before, after


def url_for(name: str, arg: object = None) -> str:
    """`reverse(name)` or `reverse(name, args=[arg])` for a URL with one uuid or str
    argument, at the cost of a string join: the URL is reversed once per name (with a
    sample argument) and the argument quoted into it as `reverse` does. The prompts build
    a URL per card and the base template one per menu link (`{% link %}`, in
    core/templatetags/links.py); `reverse` costs ~30–40 µs each."""
    prefix, urlconf = get_script_prefix(), get_urlconf()
    if arg is None:
        return _plain_url(name, prefix, urlconf)
    before, after = _url_halves(name, prefix, urlconf)
    return before + quote(str(arg), safe=RFC3986_SUBDELIMS + "/~:@") + after


@functools.lru_cache(maxsize=128)
def _plain_url(name: str, prefix: str, urlconf: str | None) -> str:
    return reverse(name)


def safe_url(request: HttpRequest, candidate: str | None) -> str | None:
    """`candidate` when it points to this site (a `next` field, a Referer), else None:
    never an open redirect."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go after a form: the posted or linked `next` when it is on this site."""
    return safe_url(request, request.POST.get("next") or request.GET.get("next")) or default


class CountedPaginator(Paginator):
    """A paginator told its count: a list whose summary query already counted the rows
    together with its totals needs no separate COUNT(*)."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def service_error_messages(request: HttpRequest, error: ApplicationError | ValidationError) -> None:
    """Show a service's refusal as flash messages: its message, then any field messages
    that say something more (for actions that have no form to put them on)."""
    if isinstance(error, ApplicationError):
        texts = [error.message]
        texts += [m for msgs in error.errors.values() for m in msgs if m != error.message]
    else:
        texts = list(error.messages)
    for text in texts:
        messages.error(request, text)


def add_service_error(
    form: forms.BaseForm,
    error: ApplicationError | ValidationError,
    formset: forms.BaseFormSet | None = None,
) -> None:
    """Show a service's complaint beside the field it names, else at the top of the form;
    complaints about `lines` go above the formset of lines when there is one."""
    if formset is not None and isinstance(error, ApplicationError) and "lines" in error.errors:
        formset.non_form_errors().extend(error.errors["lines"])
        rest = {field: msgs for field, msgs in error.errors.items() if field != "lines"}
        if not rest:
            return
        error = ApplicationError(error.message, errors=rest)
    items: list[tuple[str | None, list[str]]]
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            items = list(error.message_dict.items())
        else:
            items = [(None, list(error.messages))]
    else:
        items = list(error.errors.items()) or [(None, [error.message])]
    for field, texts in items:
        for message in texts:
            form.add_error(field if field and field in form.fields else None, message)


def form_with_lines_page(
    request: HttpRequest,
    *,
    form: forms.BaseForm,
    formset: forms.BaseFormSet,
    save: Callable[[], T],
    success_url: Callable[[T], str],
    success_message: str,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The page of a document edited as a header form plus a formset of lines (a draft
    invoice, a quote, a recurring profile). A POST whose form and lines are valid is
    `save()`d (a service's complaint shows beside its field) and redirects with a message;
    anything else renders `template` with `form` and `formset`, as a 400 when it has errors."""
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            saved = save()
        except (ApplicationError, ValidationError) as error:
            add_service_error(form, error, formset)
        else:
            messages.success(request, success_message)
            return redirect(success_url(saved))
    has_errors = bool(form.errors) or any(formset.errors) or bool(formset.non_form_errors())
    return render(
        request,
        template,
        {**context, "form": form, "formset": formset},
        status=400 if has_errors else 200,
    )
