"""The WSGI module freezes the objects alive at startup (docs/performance.md, "Fifth pass")."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# In a child process: freezing is process-wide, and this test process keeps its own GC.
CHILD = """
import gc, json, sys
import solodesk.config.wsgi as wsgi
from solodesk.dashboard import views
tracked = {id(o) for o in gc.get_objects()}  # the three generations, not the frozen one
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "home_is_tracked": id(views.home) in tracked,
    "application_is_tracked": id(wsgi.application) in tracked,
}))
"""


def _child() -> dict[str, object]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "solodesk.config.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_wsgi_module_freezes_the_views_and_the_application():
    """The dashboard's view function and the WSGI handler were imported before the freeze:
    a full collection in a worker no longer walks them."""
    result = _child()

    assert result["home_is_tracked"] is False
    assert result["application_is_tracked"] is False
    assert isinstance(result["frozen"], int)
    assert result["frozen"] > 0
