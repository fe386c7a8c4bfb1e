"""The WSGI application, imported once by every gunicorn worker process.

When it is ready, every view module imported and the objects that live as long as the
process collected once, those objects are frozen (`gc.freeze()`): the garbage collector's
full collections then skip them. A dashboard request promotes enough short-lived objects
for a full collection every ~50 requests; it walked all ~152,000 objects of a worker,
pauses of 117–476 ms (median ~200) on this 2-core machine under load (the dashboard's p99 in
`bench/http_load.py`). Frozen, they are no longer walked (docs/performance.md,
"Fifth pass"). Only objects alive at startup are frozen; nothing per user or per request.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solodesk.config.settings.production")

application = get_wsgi_application()


def _freeze_startup_objects() -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the URLconf: every app's views)
    gc.collect()
    gc.freeze()


_freeze_startup_objects()
