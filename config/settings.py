"""EduCap settings: every value comes from the environment through one helper.

Each variable is listed in `.env.example` and in docs/settings.md.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.conf.locale import LANG_INFO
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Development works with no configuration at all; production must say so explicitly.
DEBUG = env.bool("EDUCAP_DEBUG", default=False)
PRODUCTION = env.bool("EDUCAP_PRODUCTION", default=False)

_DEV_SECRET = "insecure-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("EDUCAP_SECRET_KEY", default="" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("EDUCAP_SECRET_KEY must be set when EDUCAP_PRODUCTION is on.")

ALLOWED_HOSTS = env.list(
    "EDUCAP_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("EDUCAP_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "modeltranslation",  # must precede django.contrib.admin
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "educap.core",
    "educap.audit",
    "educap.org",
    "educap.people",
    "educap.accounts",
    "educap.frameworks",
    "educap.assessments",
    "educap.gaps",
    "educap.training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "educap.audit.context.RequestOriginMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "educap.accounts.middleware.SecondFactorRequiredMiddleware",
    "educap.core.middleware.NoStoreForPersonalDataMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "csp.context_processors.nonce",
                "educap.core.context_processors.shell",
            ],
        },
    },
]

# Database: SQLite under var/ by default, PostgreSQL (psycopg 3) via DATABASE_URL.
(BASE_DIR / "var" / "static").mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'educap.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the task worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("EDUCAP_DB_CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# NIST SP 800-63B: long passphrases welcome, no composition rules, no forced rotation.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Failed-login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("EDUCAP_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("EDUCAP_LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env.bool("EDUCAP_LOGIN_THROTTLING", default=True)
OTP_TOTP_ISSUER = env.str("EDUCAP_OTP_ISSUER", default="EduCap")
# Second factor: required for grants above staff/supervisor unless switched off (demo only).
EDUCAP_REQUIRE_2FA = env.bool("EDUCAP_REQUIRE_2FA", default=PRODUCTION)

LANGUAGE_CODE = env.str("EDUCAP_LANGUAGE_CODE", default="en")
LANGUAGES = [
    ("en", _("English")),
    ("ar", _("Arabic")),
    ("fr", _("French")),
    ("lo", _("Lao")),
]
# Lao is not in Django's own language list.
LANG_INFO.setdefault("lo", {"bidi": False, "code": "lo", "name": "Lao", "name_local": "ລາວ"})
LOCALE_PATHS = [BASE_DIR / "locale"]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
TIME_ZONE = env.str("EDUCAP_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("EDUCAP_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
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
# Uploads: imports are size-limited before parsing.
EDUCAP_MAX_UPLOAD_MB = env.int("EDUCAP_MAX_UPLOAD_MB", default=20)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Background tasks (Django task API through the django-tasks backport).
TASKS = {
    "default": {
        "BACKEND": env.str("EDUCAP_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

EMAIL_BACKEND = env.str(
    "EDUCAP_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env.str("EDUCAP_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EDUCAP_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EDUCAP_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EDUCAP_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EDUCAP_EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("EDUCAP_DEFAULT_FROM_EMAIL", default="educap@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "educap.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "educap.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "1200/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "EduCap API",
    "DESCRIPTION": "Capacity development for EMIS staff: org units, people, roles, assignments.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets whose field names ("kind", "status") are shared by several models.
    "ENUM_NAME_OVERRIDES": {
        "AssignmentKindEnum": "educap.assessments.models.campaigns.AssignmentKind",
        "AssignmentStatusEnum": "educap.assessments.models.campaigns.AssignmentStatus",
        "CampaignStatusEnum": "educap.assessments.models.campaigns.CampaignStatus",
        "CpdKindEnum": "educap.training.models.cpd.CpdKind",
        "CpdStatusEnum": "educap.training.models.cpd.CpdStatus",
        "EnrolmentStatusEnum": "educap.training.models.sessions.EnrolmentStatus",
        "FrameworkStatusEnum": "educap.frameworks.models.FrameworkStatus",
        "GrantKindEnum": "educap.accounts.models.GrantKind",
        "ItemKindEnum": "educap.frameworks.models.ItemKind",
        "RelationKindEnum": "educap.frameworks.models.RelationKind",
        "SessionStatusEnum": "educap.training.models.sessions.SessionStatus",
    },
}

# Security headers and cookies.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("EDUCAP_SESSION_AGE_SECONDS", default=8 * 3600)
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("EDUCAP_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("EDUCAP_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("EDUCAP_HSTS_PRELOAD", default=False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("EDUCAP_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Partner viewers never see a cell smaller than this.
EDUCAP_SMALL_CELL_THRESHOLD = env.int("EDUCAP_SMALL_CELL_THRESHOLD", default=5)
EDUCAP_DEMO_PASSWORD = env.str("EDUCAP_DEMO_PASSWORD", default="educap-demo-2026")

# Which rating sources set a person's current level, in tiers: the first tier with valid
# evidence wins, the latest rating within it counts (docs/assessments.md).
EDUCAP_CURRENT_LEVEL_TIERS = env.str(
    "EDUCAP_CURRENT_LEVEL_TIERS", default="supervisor,test,training,external;self"
)

# Training certificates (docs/training.md). The public address of this installation, used
# in certificate QR codes, credential issuer ids and key URLs; empty: the request's own.
EDUCAP_PUBLIC_URL = env.str("EDUCAP_PUBLIC_URL", default="")
# The issuer named on certificates and credentials (default: "Ministry of Education").
EDUCAP_CERTIFICATE_ISSUER = env.str("EDUCAP_CERTIFICATE_ISSUER", default="")
# Credentials are signed with EdDSA (Ed25519) or RS256; the key is created on first use
# and kept in the database, unless EDUCAP_SIGNING_KEY_FILE names a PEM private key.
EDUCAP_SIGNING_ALGORITHM = env.str("EDUCAP_SIGNING_ALGORITHM", default="EdDSA")
EDUCAP_SIGNING_KEY_FILE = env.str("EDUCAP_SIGNING_KEY_FILE", default="")

# xAPI statement endpoint (/xapi/): largest request body accepted, and the home page used
# for actor accounts and as the statements' authority (empty: the request's own address).
EDUCAP_XAPI_MAX_BODY_MB = env.int("EDUCAP_XAPI_MAX_BODY_MB", default=5)
EDUCAP_XAPI_HOMEPAGE = env.str("EDUCAP_XAPI_HOMEPAGE", default="")
