"""Settings for every deployment shape; everything that differs comes from the environment.

Embedded default: SQLite in the working directory, in-process event bus, local Spark. Set
``DATABASE_URL=postgres://...`` for PostgreSQL. Secrets never live in the repository: the
secret key comes from ``FUNDTRACE_SECRET_KEY`` or, for the embedded default only, from a random
key generated once into a file beside the SQLite database.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("FUNDTRACE_HOME", Path.cwd())).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("FUNDTRACE_SECRET_KEY")
    if key:
        return key
    # Embedded default: a per-installation random key, kept beside the database, never in git.
    path = DATA_DIR / ".fundtrace-secret-key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        try:
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(key)
            path.chmod(0o600)
        except OSError:
            pass  # read-only working dir: an ephemeral key still works for this process
        return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("FUNDTRACE_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "FUNDTRACE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver"
    ).split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "user_management",
    "data_collection",
    "data_processing",
    "transaction_tracking",
    "visualization",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "user_management.login_throttle.LoginThrottleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

SQLITE_PATH = Path(os.environ.get("FUNDTRACE_SQLITE_PATH", DATA_DIR / "fundtrace.sqlite3"))
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            # WAL lets the web server read while an import writes.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 30},
        }
    }

AUTH_USER_MODEL = "user_management.CustomUser"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("FUNDTRACE_STATIC_ROOT", DATA_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("FUNDTRACE_MEDIA_ROOT", DATA_DIR / "media"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "fundtrace API",
    "DESCRIPTION": "Trace stolen funds on Bitcoin, Ethereum and Solana.",
    "VERSION": "1",
    # Swagger UI and ReDoc from the installed sidecar package: the docs work with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Security headers that do not break the embedded http://127.0.0.1 default; a deployment behind
# TLS turns the rest on with FUNDTRACE_SECURE=1 (and passes `manage.py check --deploy`).
SECURE = _env_bool("FUNDTRACE_SECURE", False)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if SECURE:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("FUNDTRACE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FUNDTRACE_LOG_LEVEL", "WARNING")},
}

# --- issue 8 (cases/API): login throttling, trace execution, schema of uploads ---------------
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "login": os.environ.get("FUNDTRACE_LOGIN_RATE", "10/min"),
}
FUNDTRACE_TRACE_SYNC = _env_bool("FUNDTRACE_TRACE_SYNC", False)
FUNDTRACE_TRACE_WORKERS = int(os.environ.get("FUNDTRACE_TRACE_WORKERS", "2"))
FUNDTRACE_TRACE_EXECUTOR = os.environ.get("FUNDTRACE_TRACE_EXECUTOR", "")
SPECTACULAR_SETTINGS["COMPONENT_SPLIT_REQUEST"] = True
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "ChainEnum": "data_collection.models.CHAIN_CHOICES",
    "CaseStatusEnum": "transaction_tracking.models.Case.Status",
    "RunStatusEnum": "transaction_tracking.models.TraceRun.Status",
}
