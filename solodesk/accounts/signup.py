"""allauth's sign-up form, made atomic: the user and their workspace are created together
or not at all (a user without a workspace would get a 404 on every page)."""

from __future__ import annotations

from allauth.account.forms import SignupForm as AllauthSignupForm
from django.db import transaction


class AtomicSignupForm(AllauthSignupForm):
    def save(self, request):
        with transaction.atomic():
            return super().save(request)
