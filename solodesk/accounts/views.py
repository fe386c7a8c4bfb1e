from django.shortcuts import redirect

from solodesk.accounts.workspace import workspace_required


@workspace_required
def home(request):
    return redirect("timetracking:week")
