from django.utils.functional import SimpleLazyObject

from solodesk.accounts.workspace import current_workspace


def workspace(request):
    return {"workspace": SimpleLazyObject(lambda: current_workspace(request))}
