"""Django settings for Valar, read from environment variables with safe defaults.

Every knob an operator may turn is listed in the README's configuration table. Nothing here
needs a server: without ``DATABASE_URL`` the database is SQLite in ``var/``, without
``REDIS_URL`` the cache is local memory.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable (``1/true/yes/on`` are true)."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated environment variable as a list of non-empty strings."""
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable."""
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def local_secret_key() -> str:
    """Return the secret key kept in ``var/secret_key`` for local use, creating it once."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
# LOCAL_HTTP (set by `make run`): the product serves plain HTTP to this machine only. Then, and
# with DEBUG, cookies are not marked Secure, there is no HTTPS redirect or HSTS, and the secret
# key may be the one kept in var/. It is an operator's statement, never read from a request,
# and it refuses host names other than loopback ones, so those cookies never cross a network.
LOCAL_HTTP = env_bool("LOCAL_HTTP", False)
PLAIN_HTTP = DEBUG or LOCAL_HTTP
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "testserver"}
SECRET_KEY = os.environ.get("SECRET_KEY") or ""
if not SECRET_KEY:
    if not PLAIN_HTTP:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG and LOCAL_HTTP are off.")
    SECRET_KEY = local_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
if LOCAL_HTTP and not set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS:
    raise ImproperlyConfigured(
        "LOCAL_HTTP serves plain HTTP to loopback host names only "
        f"({', '.join(sorted(LOOPBACK_HOSTS))}); behind TLS, leave it off."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "x-csrftoken",
    "x-organization",
    "x-request-id",
    "x-platform",
)
CORS_EXPOSE_HEADERS = (
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
    "x-request-id",
)

INSTALLED_APPS = [
    "valar.accounts.adminsite.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rest_framework_simplejwt.token_blacklist",
    "valar.core",
    "valar.accounts",
    "valar.organizations",
    "valar.audit",
    "valar.tasks",
    "valar.crm",
    "valar.finance",
    "valar.insights",
    "valar.notifications",
    "valar.jobs",
    "valar.ops",
    "valar.alerts",
    "valar.screening",
    "valar.support",
    "valar.portal",
    "valar.console",
]

MIDDLEWARE = [
    "valar.core.middleware.RequestIdMiddleware",
    # Metrics and the access log: inside the request id, outside everything that may answer.
    "valar.core.middleware.RequestTelemetryMiddleware",
    # Outermost after the request id, so that they see every answer, whatever made it.
    "valar.core.middleware.RateLimitHeadersMiddleware",
    "valar.core.middleware.ApiProblemMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "valar.core.middleware.SessionLifetimeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "valar.accounts.middleware.CachedAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "valar.urls"
WSGI_APPLICATION = "valar.wsgi.application"
ASGI_APPLICATION = "valar.asgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'valar.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Django's backend with SQLite's real bind-parameter limit (valar.core.backends.sqlite3).
    DATABASES["default"]["ENGINE"] = "valar.core.backends.sqlite3"
    # SQLite (the embedded default) lets one writer in at a time: a transaction takes the write
    # lock when it starts and waits up to 20 s for it, instead of failing with "database is
    # locked" when two concurrent transactions both try to upgrade a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
POSTGRESQL = DATABASES["default"]["ENGINE"].endswith("postgresql")
if POSTGRESQL and env_bool("DATABASE_POOL", True):
    # psycopg's connection pool: a process holds at most DATABASE_POOL_MAX connections, however
    # many threads an ASGI server runs sync views in (each would otherwise keep its own).
    # Connections go back to the pool after each request, so CONN_MAX_AGE must be 0.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2),
        "max_size": env_int("DATABASE_POOL_MAX", 10),
        # A request waits this long for a free connection before failing (psycopg: 30 s).
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 30),
    }
if POSTGRESQL and env_bool("DATABASE_PREPARED_STATEMENTS", True):
    # Server-side parameter binding, and statements a connection runs 5 times prepared: the
    # list's count and page skip planning. Turn it off behind PgBouncer in transaction mode
    # (a prepared statement lives on a server connection the next transaction may not get).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Lists that declare count_sources keep their count in the cache under the organization's
# versions of those sources (valar.core.counts); off unless asked for.
LIST_COUNT_CACHE = env_bool("LIST_COUNT_CACHE", False)
# Lists keep their compiled count and page statements per process, per shape of request
# (valar.core.statements): how many; 0 turns it off.
LIST_STATEMENT_CACHE = env_int("LIST_STATEMENT_CACHE", 512)

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Redis is a cache, not a dependency (valar.core.rediscache): one client per process,
    # short timeouts, and after a failure Redis is skipped for REDIS_BREAKER_SECONDS while
    # the database answers.
    REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT") or 0.5)
    CACHES = {
        "default": {
            "BACKEND": "valar.core.rediscache.ValarRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "valar",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT / 2,
                "socket_timeout": REDIS_TIMEOUT,
                "breaker_seconds": float(os.environ.get("REDIS_BREAKER_SECONDS") or 1.0),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "valar",
        }
    }

# The channel layer carries notifications (and, later, chat) to sockets: Redis when REDIS_URL
# is set, so any process may send to a socket any other holds; in memory otherwise, which
# reaches only the sockets of the same process (the embedded default is one process).
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "valar.channels"},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_USER_MODEL = "accounts.User"
# Passwords are checked by valar.accounts.signin (lockout first, then the hasher); the backend
# remains for Django's permission checks.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if env_bool("VALAR_TEST_FAST_HASHER", False):
    # Test runs only (set by valar.core.pytest_env): hashing cost is not what tests measure.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Sessions: cookie HttpOnly + SameSite=Lax; they end after SESSION_IDLE_TIMEOUT of inactivity
# and at SESSION_ABSOLUTE_LIFETIME whatever the activity (valar.core.middleware).
# cached_db sessions that fall back to the database when the cache is down (valar.core.sessions).
SESSION_ENGINE = "valar.core.sessions"
SESSION_IDLE_TIMEOUT = timedelta(seconds=env_int("SESSION_IDLE_TIMEOUT", 8 * 3600))
SESSION_ABSOLUTE_LIFETIME = timedelta(seconds=env_int("SESSION_ABSOLUTE_LIFETIME", 14 * 86400))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_LIFETIME.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not PLAIN_HTTP
CSRF_COOKIE_SECURE = not PLAIN_HTTP

# Production hardening (checked by `manage.py check --deploy`).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not PLAIN_HTTP)
# Prometheus scrapes the app servers directly over the private network, not through the TLS
# proxy: /metrics answers plain HTTP (it has its own token, METRICS_TOKEN).
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if PLAIN_HTTP else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not PLAIN_HTTP
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    "security.W021",  # HSTS preload is an operator's opt-in.
]

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# WhiteNoise serves the admin's, Swagger UI's and Redoc's files straight from the installed
# apps (no collectstatic step), with DEBUG on or off; a collected STATIC_ROOT is served too.
WHITENOISE_USE_FINDERS = True
# The console's build (valar/console/static/console/) names its assets by content hash
# (Vite: <name>-<8 characters>.<ext>): cached for a year as immutable (WhiteNoise compiles this
# string as a regex over the URL). Its .gz and .br siblings are served to clients accepting them.
WHITENOISE_IMMUTABLE_FILE_TEST = (
    r"^/static/console/assets/[\w.-]+-[A-Za-z0-9_-]{8}\.(?:js|css|svg|woff2?)$"
)
# Uploaded files go through Django's storage API (swap in S3-compatible storage to scale out).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)

REST_FRAMEWORK = {
    # Token first so that an anonymous request gets 401 with WWW-Authenticate, never 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "valar.accounts.authentication.ApiTokenAuthentication",
        "valar.accounts.authentication.JwtAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "valar.core.pagination.StandardPagination",
    # The default of the runtime setting page_size (valar.core.sysconfig, ops/config/).
    "PAGE_SIZE": env_int("PAGE_SIZE", 25),
    "DEFAULT_FILTER_BACKENDS": [
        "valar.core.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "valar.core.filters.AliasOrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["valar.core.renderers.OrjsonRenderer"],
    # JSON bodies only (forms cannot carry null or nested data); the views that upload a
    # file name MultiPartParser themselves. Any other body is a 415 problem.
    "DEFAULT_PARSER_CLASSES": ["valar.core.parsers.DecimalJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "valar.core.throttling.AnonThrottle",
        "valar.core.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("THROTTLE_ANON", "120/min"),
        "user": os.environ.get("THROTTLE_USER", "1200/min"),
        "login": os.environ.get("THROTTLE_LOGIN", "20/min"),
        "account_email": os.environ.get("THROTTLE_ACCOUNT_EMAIL", "3/hour"),
        "account_admin": os.environ.get("THROTTLE_ACCOUNT_ADMIN", "100/hour"),
        # Support chat messages per user (counted by the service: REST and sockets alike).
        "chat_message": os.environ.get("THROTTLE_CHAT_MESSAGE", "30/min"),
        # Chats a member who is not an agent opens or reopens (each one notifies an agent).
        "chat_open": os.environ.get("THROTTLE_CHAT_OPEN", "10/hour"),
        # Platform operators on ops/ endpoints; not a runtime setting (it must stay usable).
        "operator": os.environ.get("THROTTLE_OPERATOR", "600/min"),
    },
    "EXCEPTION_HANDLER": "valar.core.errors.exception_handler",
    # Client IPs for rate limits: trust X-Forwarded-For only behind PROXY_COUNT proxies.
    "NUM_PROXIES": env_int("PROXY_COUNT", 0),
    "DEFAULT_SCHEMA_CLASS": "valar.core.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # `?format=` is the export format (csv|xlsx), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    # Dates in bodies only as YYYY-MM-DD, like the query filters (no week dates, no 20301231).
    "DATE_INPUT_FORMATS": ["%Y-%m-%d"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Valar API",
    "DESCRIPTION": (
        "Multi-tenant business-operations API: people, work, sales, money and compliance. "
        "Browsers use the session cookie with the X-CSRFToken header; scripts send "
        "`Authorization: Token <key>` or a JWT access token as `Authorization: Bearer <access>` "
        "(from `POST /api/v1/auth/jwt/`). Errors are RFC 9457 problem details."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ComponentStatusEnum": ["ok", "error"],
        "CurrencyEnum": "valar.core.money.CURRENCIES",
        "HealthStatusEnum": ["ok", "degraded", "error"],
        "LedgerKindEnum": "valar.finance.models.Kind",
        "ShareRoleEnum": "valar.insights.models.DashboardShare.Role",
        "MemberRoleEnum": ["admin", "manager", "worker", "basic", "client"],
        "InvitationStatusEnum": "valar.organizations.models.Invitation.Status",
        "NotificationKindEnum": "valar.core.notify.KINDS",
        "NotificationLevelEnum": "valar.core.notify.LEVELS",
        "SettingKeyEnum": "valar.core.sysconfig.KEYS",
        "SettingGroupEnum": "valar.core.sysconfig.GROUPS",
        # Named here because the bulk and import components reuse them (their names would
        # otherwise become hashes).
        "TaskStatusEnum": "valar.tasks.models.Task.Status",
        "LeadStatusEnum": "valar.crm.models.Lead.Status",
        "LeadSourceEnum": "valar.crm.models.Lead.Source",
        "CustomerStatusEnum": "valar.crm.models.Customer.Status",
        # Metric sources (insights/query/, alert rules) come from the registry, read when the
        # schema is generated.
        "MetricSourceEnum": "valar.core.metrics.documents.source_names",
        "AlertStateEnum": "valar.alerts.models.State",
        "AlertPeriodEnum": "valar.alerts.models.Period",
        "AlertComparisonEnum": "valar.alerts.models.Comparison",
        # Tasks' priorities keep their name beside the support chats' (which add `normal`).
        "PriorityEnum": "valar.tasks.models.Task.Priority",
        "ChatStatusEnum": "valar.support.models.Chat.Status",
        "ListDocumentStatusEnum": "valar.screening.models.ListDocument.Status",
        "ScreeningRunStatusEnum": "valar.screening.models.Run.Status",
        "ScreeningRunScopeEnum": "valar.screening.models.Run.Scope",
        "ScreeningBatchScopeEnum": "valar.screening.api.serializers.BATCH_SCOPES",
        "MatchStatusEnum": "valar.screening.models.Match.Status",
        "ListEntryKindEnum": "valar.screening.models.Entry.Kind",
        "IdentifierKindEnum": ["nik", "passport", "other"],
        "ChatPriorityEnum": "valar.support.models.Chat.Priority",
        "DocumentStatusEnum": "valar.finance.models.Document.Status",
        "PaymentMethodEnum": "valar.finance.models.Payment.Method",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "valar.core.schema.add_problem_responses",
        "valar.core.schema.uuid_path_ids",
        "valar.core.schema.add_format_patterns",
    ],
}

# Background jobs on Celery (valar.celery, valar.core.jobs). The broker and the result backend
# are Redis when REDIS_URL (or CELERY_BROKER_URL) is set; without one, jobs run eagerly in the
# process that starts them (the embedded default: `make run` needs no server).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env_bool(
    "CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL.startswith("memory://")
)
# An eager job that fails is recorded as failed on its Job row; it never fails the request.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "valar")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Sending a job must not hang a request when the broker is down: a short connect timeout and
# two quick retries, then the job is recorded as failed (valar.jobs.services).
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Schedules are code, not database rows: `celery -A valar beat` (or `worker -B`) sends these.
CELERY_BEAT_SCHEDULE = {
    "prune-finished-jobs": {
        "task": "jobs.prune_finished",
        "schedule": crontab(hour=3, minute=15),
    },
    "prune-expired-sign-ins": {
        "task": "accounts.prune_expired",
        "schedule": crontab(hour=3, minute=45),
    },
    "check-alerts": {
        "task": "alerts.check",
        "schedule": crontab(),
    },
    "email-due-notifications": {
        "task": "notifications.email_due",
        "schedule": crontab(),
    },
    "expire-quotes": {
        "task": "finance.expire_quotes",
        "schedule": crontab(minute=5),
    },
    "run-recurring-schedules": {
        "task": "finance.run_schedules",
        "schedule": crontab(minute=10),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
#: Days a finished job's record is kept before the nightly prune deletes it.
JOBS_RETENTION_DAYS = env_int("JOBS_RETENTION_DAYS", 30)

# Invitations to join an organization stop working after this many days.
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7)

# Brute-force protection (valar.accounts.signin, a counter row per account in the database, so
# it holds when the cache is down): 5 consecutive failures for one account, from any IP, lock
# its sign-in (session, JWT and /admin/) for 15 minutes. The names are django-axes' former ones.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))

# JWT for scripts and mobile clients (djangorestframework-simplejwt): short-lived access tokens
# bound to the user's password and security stamp; refresh tokens rotate, and the used one is
# blacklisted (presenting it again blacklists every refresh token of the user).
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_ACCESS_LIFETIME", 300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_REFRESH_LIFETIME", 14 * 86400)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "CHECK_USER_IS_ACTIVE": True,
}

# Account e-mails (verification, password reset): Django's mail API. The embedded default
# prints them on the console; tests collect them in Django's locmem outbox.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Valar <no-reply@valar.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
#: The system defaults of the screening scores (runtime settings screening_match_threshold
#: and screening_cutoff, valar.core.sysconfig, ops/config/); an organization may set its own
#: (screening/settings/).
SCREENING_MATCH_THRESHOLD = os.environ.get("SCREENING_MATCH_THRESHOLD", "0.80")
SCREENING_CUTOFF = os.environ.get("SCREENING_CUTOFF", "0.50")
#: Where the web client lives: links in account e-mails point there.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
#: Seconds a verification or password-reset link stays valid (each also dies once used).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 24 * 3600)
#: E-mails an anonymous request may cause to one address per hour (reset, "already registered").
ACCOUNT_EMAILS_PER_HOUR = env_int("ACCOUNT_EMAILS_PER_HOUR", 3)

# Structured logs (valar.core.logs): JSON lines on standard output and in a size-rotated file
# under LOG_DIR (concurrent-log-handler: several processes may write and rotate it), which
# ops/logs/ reads back. One access line per request (valar.access, INFO) unless LOG_ACCESS=false.
LOG_DIR = Path(os.environ.get("LOG_DIR") or VAR_DIR / "log")
LOG_DIR.mkdir(parents=True, exist_ok=True)
LOG_FILE = LOG_DIR / "valar.log"
LOG_FILE_MAX_BYTES = env_int("LOG_FILE_MAX_BYTES", 10 * 1024 * 1024)
LOG_FILE_BACKUPS = env_int("LOG_FILE_BACKUPS", 5)
LOG_LEVEL = os.environ.get("LOG_LEVEL", "WARNING").upper()
LOG_ACCESS = env_bool("LOG_ACCESS", True)
LOG_STDOUT = env_bool("LOG_STDOUT", True)
_LOG_HANDLERS = ["main"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "valar.core.logs.ContextFilter"}},
    "handlers": {
        # Queues each line for a thread that writes it to stdout and to the rotated file.
        "main": {
            "()": "valar.core.logs.BackgroundHandler",
            "filename": str(LOG_FILE),
            "max_bytes": LOG_FILE_MAX_BYTES,
            "backups": LOG_FILE_BACKUPS,
            "stdout": LOG_STDOUT,
            "filters": ["context"],
        },
    },
    "root": {"handlers": _LOG_HANDLERS, "level": LOG_LEVEL},
    "loggers": {
        # 4xx answers are the client's business; errors (5xx) are still logged.
        "django.request": {"handlers": _LOG_HANDLERS, "level": "ERROR", "propagate": False},
        # The access log has its own level: one line per request whatever LOG_LEVEL says.
        "valar.access": {
            "handlers": _LOG_HANDLERS,
            "level": "INFO" if LOG_ACCESS else "ERROR",
            "propagate": False,
        },
    },
}
# /metrics (Prometheus): a bearer token, or (unset) only callers on this machine.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
CSRF_FAILURE_VIEW = "valar.core.errors.csrf_failure"
