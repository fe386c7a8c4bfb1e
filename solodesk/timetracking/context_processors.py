from django.utils import timezone

from solodesk.timetracking.selectors import timer_get


def running_timer(request):
    """The header timer on every page. No query: the auth backend joined it to the user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"running_timer": timer_get(user=user), "timer_now": timezone.now()}
