from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.functional import SimpleLazyObject


def csrf_token_once(request: HttpRequest) -> dict[str, Any]:
    """The page's CSRF token, masked once per response. Django's own processor masks it
    again for every `{% csrf_token %}` (~0.1 ms each: a dashboard has ~15 forms). One
    masked value per response is what Django's BREACH protection needs (it varies per
    response); the token check accepts any masking of the same secret."""
    return {"csrf_token": SimpleLazyObject(lambda: get_token(request))}
