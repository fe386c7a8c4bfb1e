"""Test settings: the same stack as production, with a faster hasher and N+1 detection."""

from .base import *  # noqa: F403
from .base import DATABASES, INSTALLED_APPS, MIDDLEWARE, VAR_DIR

# Tests that start real processes (web servers, a worker) need the test database in a file
# those processes can open, not in memory.
if DATABASES["default"]["ENGINE"] == "solodesk.core.sqlite":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"

INSTALLED_APPS = [*INSTALLED_APPS, "zeal"]
MIDDLEWARE = [*MIDDLEWARE, "zeal.middleware.zeal_middleware"]
ZEAL_RAISE = True
ZEAL_NPLUSONE_THRESHOLD = 2
# Django itself reads the session row twice on logout (flush): not ours to fix.
ZEAL_ALLOWLIST = [{"model": "sessions.Session", "field": "get()"}]
