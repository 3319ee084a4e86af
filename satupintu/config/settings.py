"""Settings for SatuPintu, read from the environment.

Local defaults are safe for a laptop (SQLite, DEBUG on). `SATUPINTU_ENV=production` turns on
the production mode that passes `manage.py check --deploy` and refuses a missing SECRET_KEY.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent  # the satupintu package
PROJECT_DIR = BASE_DIR.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = os.environ.get("SATUPINTU_ENV", "development") == "production"
DEBUG = env_bool("DEBUG", not PRODUCTION)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when SATUPINTU_ENV=production.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-7f3a9c1e5b"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks_db",
    "satupintu.core",
    "satupintu.identity",
    "satupintu.catalog",
    "satupintu.profiles",
    "satupintu.queueing",
    "satupintu.vault",
    "satupintu.cases",
    "satupintu.notify",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "satupintu.core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "satupintu.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "satupintu.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "satupintu.config.urls"
WSGI_APPLICATION = "satupintu.config.wsgi.application"
ASGI_APPLICATION = "satupintu.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "satupintu.core.context_processors.site",
                "satupintu.notify.context_processors.unread",
            ],
        },
    }
]

# SQLite (WAL) by default so a fresh clone runs with no server; PostgreSQL in production.
DATA_DIR = Path(os.environ.get("SATUPINTU_DATA_DIR", PROJECT_DIR / "var"))
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'satupintu.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that reads the socket instead of sending `SELECT 1`
    # (satupintu/core/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "satupintu.core.postgresql"
    # Parameters bound by the server, and statements run 5 times on a connection prepared there:
    # PostgreSQL then skips parsing and planning them (about a third of its CPU per filing).
    # DB_PREPARE_THRESHOLD=0 turns preparing off (a pooler in transaction mode that cannot keep
    # prepared statements: PgBouncer before 1.21, or without max_prepared_statements).
    _prepare = int(os.environ.get("DB_PREPARE_THRESHOLD") or 5)
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=_prepare or None)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file too: several threads (live server, concurrency tests) then share it
    # through WAL with a busy timeout, as they would in production.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-satupintu-{os.getpid()}.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["satupintu.identity.backends.EmailOrPhoneBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "identity:profile"
LOGOUT_REDIRECT_URL = "catalog:home"

LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Jakarta")

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

EMAIL_BACKEND_PATH = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH}}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "587")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", True),
        # a send that hangs is given up well before notify_requeue (15 min) takes it for a dead worker's
        "timeout": int(os.environ.get("EMAIL_TIMEOUT", "60")),
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "SatuPintu <noreply@localhost>")

# Content Security Policy: everything is served from this origin (no CDN).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Default site (one deployment = one MPP). The profile loader creates it.
SATUPINTU_SITE_SLUG = os.environ.get("SATUPINTU_SITE", "mpp-pekanbaru")
SATUPINTU_SEARCH_MAX_QUERY = 200
SATUPINTU_API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "30"))

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# Queue (antrian): calling weights of the priority groups, and how often a ticket may be recalled.
SATUPINTU_QUEUE_PRIORITY_WEIGHTS = {"lansia": 3, "disabilitas": 3, "ibu_hamil_menyusui": 2, "anak": 1}
SATUPINTU_QUEUE_MAX_RECALLS = int(os.environ.get("QUEUE_MAX_RECALLS", "3"))
SATUPINTU_QUEUE_MAX_BOOKINGS_PER_DAY = int(os.environ.get("QUEUE_MAX_BOOKINGS_PER_DAY", "1"))  # per NIK and per phone
SATUPINTU_QUEUE_LATE_GRACE_MINUTES = int(os.environ.get("QUEUE_LATE_GRACE_MINUTES", "15"))
SATUPINTU_QUEUE_BOOKING_DAYS_AHEAD = int(os.environ.get("QUEUE_BOOKING_DAYS_AHEAD", "14"))
# manage.py run_schedule: when the queue day is closed (unserved tickets, open counters, unused
# bookings) and the vault swept, on the mall's clock
SATUPINTU_QUEUE_DAY_CLOSE_AT = os.environ.get("QUEUE_DAY_CLOSE_AT", "23:00")
SATUPINTU_VAULT_SWEEP_AT = os.environ.get("VAULT_SWEEP_AT", "02:30")
SATUPINTU_QUEUE_DEFAULT_SERVICE_MINUTES = 6  # wait estimates before any service time is measured today

# Document vault (berkas): files live outside the web root and are served only through the app.
SATUPINTU_VAULT_DIR = Path(os.environ.get("SATUPINTU_VAULT_DIR", DATA_DIR / "vault"))
SATUPINTU_VAULT_MAX_BYTES = int(os.environ.get("VAULT_MAX_BYTES", str(5 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = max(SATUPINTU_VAULT_MAX_BYTES + 1024 * 1024, 2_621_440)

# Applications (permohonan): when a deadline counts as "due soon", and how the public tracking
# page is rate-limited (per client address, and failed checks per tracking number).
SATUPINTU_SLA_DUE_SOON_DAYS = int(os.environ.get("SLA_DUE_SOON_DAYS", "1"))
SATUPINTU_TRACKING_LIMIT = (int(os.environ.get("TRACKING_LIMIT", "30")), 600)
SATUPINTU_TRACKING_FAILURE_LIMIT = (int(os.environ.get("TRACKING_FAILURE_LIMIT", "5")), 3600)

# Audit log: pending entries are sealed into the hash chain right after each commit (and by
# `manage.py audit_seal` from cron); the batch bounds one sealing transaction.
SATUPINTU_AUDIT_SEAL_ON_COMMIT = env_bool("AUDIT_SEAL_ON_COMMIT", True)
SATUPINTU_AUDIT_SEAL_BATCH = int(os.environ.get("AUDIT_SEAL_BATCH", "500"))
# at most one after-commit seal per process per this many seconds (0: after every commit);
# entries left by a throttled commit are sealed by a timer at the end of the interval
SATUPINTU_AUDIT_SEAL_INTERVAL = float(os.environ.get("AUDIT_SEAL_INTERVAL", "0.5"))

# Client IP: how many reverse proxies in front append to X-Forwarded-For (0 = use REMOTE_ADDR).
SATUPINTU_TRUSTED_PROXIES = int(os.environ.get("SATUPINTU_TRUSTED_PROXIES", "0"))
# Sign-in: failed attempts allowed per (identifier, IP) and per IP, in a window of seconds.
SATUPINTU_LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "10"))
SATUPINTU_LOGIN_FAILURES_PER_IP = int(os.environ.get("LOGIN_FAILURES_PER_IP", "100"))
SATUPINTU_LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900"))
# Notifications (email retries) and webhooks to agency systems.
SATUPINTU_PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000")  # links in emails
SATUPINTU_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "5"))
SATUPINTU_NOTIFY_RETRY_BASE_SECONDS = 60
SATUPINTU_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8"))
SATUPINTU_WEBHOOK_RETRY_BASE_SECONDS = 30
SATUPINTU_WEBHOOK_TIMEOUT = 5
# Finished deliveries (the agencies' delivery history) are deleted after this many days.
SATUPINTU_WEBHOOK_DELIVERY_KEEP_DAYS = int(os.environ.get("WEBHOOK_DELIVERY_KEEP_DAYS", "30"))
if SATUPINTU_WEBHOOK_DELIVERY_KEEP_DAYS < 0:
    raise ImproperlyConfigured("WEBHOOK_DELIVERY_KEEP_DAYS must be 0 or more.")
# An endpoint whose deliveries have all been given up on for this long is switched off (its
# agency admins are told); 0 never switches one off. A dead endpoint otherwise costs the task
# worker up to WEBHOOK_MAX_ATTEMPTS timed-out POSTs for every event, ahead of the e-mails.
SATUPINTU_WEBHOOK_DISABLE_AFTER_HOURS = int(os.environ.get("WEBHOOK_DISABLE_AFTER_HOURS", "72"))
if SATUPINTU_WEBHOOK_DISABLE_AFTER_HOURS < 0:
    raise ImproperlyConfigured("WEBHOOK_DISABLE_AFTER_HOURS must be 0 or more.")
# Notifications (in-app, with their e-mail done) are deleted after this many days.
SATUPINTU_NOTIFICATION_KEEP_DAYS = int(os.environ.get("NOTIFICATION_KEEP_DAYS", "180"))
if SATUPINTU_NOTIFICATION_KEEP_DAYS < 0:
    raise ImproperlyConfigured("NOTIFICATION_KEEP_DAYS must be 0 or more.")
# Webhook URLs on loopback or private networks: allowed for local use, refused in production.
SATUPINTU_WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", not PRODUCTION)
