"""Settings shared by every deployment, read only from the environment.

The web tier is stateless: sessions, the cache (login throttling), files and the queue all
live outside the process, so any number of replicas can serve the same data.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parents[2]
BASE_DIR = Path(os.environ.get("SOLODESK_HOME", PACKAGE_DIR.parent)).resolve()
VAR_DIR = Path(os.environ.get("SOLODESK_VAR_DIR", BASE_DIR / "var")).resolve()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # The embedded default keeps a generated key in ./var so sessions survive restarts and
    # every process on this machine (web replicas, workers) signs with the same key.
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        SECRET_KEY = key_file.read_text().strip()
    else:
        from django.core.management.utils import get_random_secret_key

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        SECRET_KEY = get_random_secret_key()
        key_file.write_text(SECRET_KEY)
        key_file.chmod(0o600)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "django_htmx",
    "ninja",
    "solodesk.core",
    "solodesk.accounts",
    "solodesk.clients",
    "solodesk.projects",
    "solodesk.timetracking",
    "solodesk.invoicing",
    "solodesk.quotes",
    "solodesk.reminders",
    "solodesk.recurring",
    "solodesk.webhooks",
    "solodesk.prompts",
    "solodesk.expenses",
    "solodesk.reports",
    "solodesk.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "solodesk.config.urls"
WSGI_APPLICATION = "solodesk.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "solodesk.accounts.context_processors.workspace",
                "solodesk.timetracking.context_processors.running_timer",
                "solodesk.core.context_processors.csrf_token_once",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# The embedded default is SQLite in WAL mode: readers never wait for the worker's writes,
# and BEGIN IMMEDIATE plus a busy timeout make a writer queue instead of failing with
# "database is locked" when the web process and the worker write at the same moment.
# Connections persist on both databases (one per thread, closed after
# DATABASE_CONN_MAX_AGE seconds, 600 by default, or at once when unusable): on SQLite a
# connection per request cost more CPU than the request's
# queries (open, Django's SQL functions, the PRAGMAs, compiling every statement again,
# and a WAL checkpoint whenever the last connection closed): an API create took 7.5 ms of
# a web process's CPU, 4.1 ms with persistent connections (bench/peer_timetagger.py).
# Between requests a connection is in autocommit, outside any transaction: it holds no
# lock and pins no WAL snapshot. On PostgreSQL a new connection is a new backend with cold
# caches and nothing prepared yet: a dashboard on one took ~40 ms against ~24 on a warm
# one (large seed, in process), and the next four ~26-28 ms. At 60 s each of a web
# process's threads paid that every minute; at 600 s, every ten.
DEFAULT_SQLITE_PATH = VAR_DIR / "solodesk.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}")
try:
    DATABASE_CONN_MAX_AGE = int(os.environ.get("DATABASE_CONN_MAX_AGE", "600"))
except ValueError:
    raise ImproperlyConfigured("DATABASE_CONN_MAX_AGE must be a whole number of seconds") from None
if DATABASE_CONN_MAX_AGE < 0:
    raise ImproperlyConfigured("DATABASE_CONN_MAX_AGE must be 0 or more seconds")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DATABASE_CONN_MAX_AGE)}
# PostgreSQL: the statements run on every request are prepared once per connection
# (core.prepared.statement_cursor). Off for a connection pooler in transaction mode that
# cannot carry prepared statements (PgBouncer before 1.21).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with one writer at a time per process (solodesk/core/sqlite).
    DATABASES["default"]["ENGINE"] = "solodesk.core.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;"
        ),
    }
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with a health check that asks the socket before the server.
        DATABASES["default"]["ENGINE"] = "solodesk.core.postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASE_PREPARED_STATEMENTS:
        # Only statement_cursor's cursors bind server-side; Django's never prepare.
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared by every process so login throttling holds across replicas ---------
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "solodesk_cache",
        }
    }

SESSION_ENGINE = "solodesk.core.sessions"  # Django's db backend, read with one plain query
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Accounts -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["solodesk.accounts.backends.AuthenticationBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "none")
ACCOUNT_SIGNUP_FORM_CLASS = "solodesk.accounts.forms.SignupForm"
ACCOUNT_FORMS = {"signup": "solodesk.accounts.signup.AtomicSignupForm"}
ACCOUNT_ADAPTER = "solodesk.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
# Failed logins are throttled per IP and per account (allauth keeps the counters in the
# shared cache, so every replica sees the same count).
ACCOUNT_RATE_LIMITS = {
    "login_failed": os.environ.get("LOGIN_FAILED_RATE_LIMIT", "10/m/ip,5/5m/key"),
}

# --- E-mail ----------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Solodesk <solodesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    EMAIL_TIMEOUT = 10
else:
    # No SMTP server configured: messages are written as files a self-hoster can read.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- Files ----------------------------------------------------------------------------
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders when collectstatic has not run yet.
WHITENOISE_USE_FINDERS = True

# --- Celery (see solodesk/config/celery_app.py) ---------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_DIR = Path(os.environ.get("CELERY_BROKER_DIR", VAR_DIR / "broker"))
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# Durability (docs/architecture.md, "Durability"): a message is acknowledged only after its
# task ran, and given back when the worker process dies; each worker holds one message.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A prefork child whose memory passed this (KiB) after a task is replaced by a fresh one:
# WeasyPrint's caches grew a child to 265 MB over 1,000 invoice PDFs (bench/http_load.py).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = int(
    os.environ.get("CELERY_WORKER_MAX_MEMORY_PER_CHILD", str(180 * 1024))
)
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "300"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "360"))
# A worker that lost the broker connection cancels its running late-ack tasks: their
# messages go back to the queue anyway, and the Job claim keeps a second run harmless.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing happens in requests (after commit): one immediate retry covers a pooled
# connection that a broker restart closed; after that the sweeper takes over, so a dead
# broker costs a request milliseconds (refused) or 2 × socket timeout (hung), never a hang.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = float(os.environ.get("CELERY_BROKER_CONNECTION_TIMEOUT", "2"))
# Redis only (the filesystem broker's options are set in celery_app.py). The visibility
# timeout is how long a message taken by a worker stays invisible before Redis hands it
# out again: it must exceed the longest task (the hard time limit) and the longest retry
# countdown (an ETA message sits unacknowledged in a worker until it is due), or a task
# still running (or waiting) is delivered a second time.
BROKER_VISIBILITY_TIMEOUT_SECONDS = int(os.environ.get("BROKER_VISIBILITY_TIMEOUT_SECONDS", "7200"))
BROKER_SOCKET_TIMEOUT_SECONDS = float(os.environ.get("BROKER_SOCKET_TIMEOUT_SECONDS", "2"))
# Filesystem broker only: how often a worker looks for new messages.
BROKER_POLLING_INTERVAL_SECONDS = float(os.environ.get("BROKER_POLLING_INTERVAL_SECONDS", "0.1"))
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A job that stayed queued this long is handed to the broker again by the sweeper.
JOB_REQUEUE_AFTER_SECONDS = int(os.environ.get("JOB_REQUEUE_AFTER_SECONDS", "300"))
# A running job touches its row with every progress step; one silent for this long lost
# its worker and may be claimed again (the sweeper re-sends it).
JOB_HEARTBEAT_TIMEOUT_SECONDS = int(os.environ.get("JOB_HEARTBEAT_TIMEOUT_SECONDS", "90"))
# Every worker writes the "worker" heartbeat this often (config/celery_app.py);
# /api/v1/health calls a worker or the scheduler dead when its heartbeat is older than
# the matching limit.
WORKER_HEARTBEAT_SECONDS = int(os.environ.get("WORKER_HEARTBEAT_SECONDS", "30"))
HEALTH_WORKER_MAX_AGE_SECONDS = int(os.environ.get("HEALTH_WORKER_MAX_AGE_SECONDS", "120"))
HEALTH_SCHEDULER_MAX_AGE_SECONDS = int(os.environ.get("HEALTH_SCHEDULER_MAX_AGE_SECONDS", "300"))
# Invoice e-mails refused for a reason that is surely temporary (the server could not be
# reached, or answered 4xx) are tried again after these many seconds, then given up.
INVOICE_EMAIL_RETRY_DELAYS = [
    int(delay) for delay in env_list("INVOICE_EMAIL_RETRY_DELAYS", "60,300,900,3600")
]
# Every webhook POST gives up waiting for the receiver after this long.
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))

# --- API ------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 200

# --- Locale ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs several INFO lines per PDF; workers would drown in them.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
