"""Django settings for the clotsafe web app, read from the environment with safe defaults.

Environment (all optional; docs/web.md):
  CLOTSAFE_DATA_DIR        where the SQLite file and the generated secret key live
                           (default: $XDG_DATA_HOME/clotsafe or ~/.local/share/clotsafe)
  CLOTSAFE_DATABASE_URL    e.g. postgres://user@host:5432/db (default: SQLite in the data dir)
  CLOTSAFE_SECRET_KEY      (default: a random key generated once into the data dir, mode 0600)
  CLOTSAFE_DEBUG           "1" to turn debug on (default off)
  CLOTSAFE_ALLOWED_HOSTS   comma-separated (default: localhost,127.0.0.1,[::1])
  CLOTSAFE_HTTPS           "1" behind TLS: secure cookies, HSTS, redirect to https
  CLOTSAFE_SESSION_IDLE_MINUTES   idle session expiry (default 30)
  CLOTSAFE_INTAKE_LINK_DAYS       intake link lifetime (default 14)
  CLOTSAFE_TRUSTED_PROXIES        reverse proxies in front of the app that add X-Forwarded-For
                                  (default 0; docs/accounts.md)
  CLOTSAFE_PASSWORD_RESET_MINUTES how long a password reset link works (default 60)
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def data_dir() -> Path:
    explicit = os.environ.get("CLOTSAFE_DATA_DIR")
    if explicit:
        path = Path(explicit)
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(xdg) / "clotsafe"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # the database, its WAL and the secret key live here: owner only
    return path


def _secret_key() -> str:
    key = os.environ.get("CLOTSAFE_SECRET_KEY")
    if key:
        return key
    path = data_dir() / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


DATA_DIR = data_dir()
SECRET_KEY = _secret_key()
DEBUG = _env_flag("CLOTSAFE_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("CLOTSAFE_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
HTTPS = _env_flag("CLOTSAFE_HTTPS")

INSTALLED_APPS = [
    "django.contrib.admin",  # for the operator only: scoped and audited (docs/operations.md)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "clotsafe.web.clinics",
    "clotsafe.web.clients",
    "clotsafe.web.screenings",
    "clotsafe.web.clearances",
    "clotsafe.web.audit",
    "clotsafe.web.intake",
    "clotsafe.web.accounts",
    "clotsafe.web.api",
]


def _has_cds_app() -> bool:
    """The CDS Hooks app (clotsafe.web.cds) is written by another engineer; mount it if present."""
    return (BASE_DIR / "cds" / "__init__.py").exists() and (BASE_DIR / "cds" / "urls.py").exists()


HAS_CDS = _has_cds_app()
if HAS_CDS:
    INSTALLED_APPS.append("clotsafe.web.cds")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clotsafe.web.accounts.middleware.AccountGateMiddleware",  # two-factor, temporary password
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clotsafe.web.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
    "clotsafe.web.audit.middleware.AuditViewMiddleware",
]

ROOT_URLCONF = "clotsafe.web.urls"
WSGI_APPLICATION = "clotsafe.web.wsgi.application"

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
                "clotsafe.web.clinics.context.clinic",
            ],
        },
    },
]

_db_url = os.environ.get("CLOTSAFE_DATABASE_URL")
if _db_url:
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "clotsafe.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and sessions ---------------------------------------------------------------
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]  # fmt: skip
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "client_list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = int(os.environ.get("CLOTSAFE_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True  # idle expiry: each request extends the session
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

PASSWORD_RESET_TIMEOUT = int(os.environ.get("CLOTSAFE_PASSWORD_RESET_MINUTES", "60")) * 60

# The client's address: behind CLOTSAFE_TRUSTED_PROXIES reverse proxies (default 0: none), the
# address the outermost trusted proxy saw, from X-Forwarded-For (docs/accounts.md).
TRUSTED_PROXIES = int(os.environ.get("CLOTSAFE_TRUSTED_PROXIES", "0"))

# django-axes: 5 failures lock one username from one address (never the user everywhere), and
# 30 failures from one address across any usernames lock that address (password spraying).
AXES_FAILURE_LIMIT = 5
LOCKOUT_ADDRESS_FAILURE_LIMIT = 30
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "clotsafe.web.accounts.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "clotsafe.web.accounts.clientip.client_ip"
AXES_USERNAME_CALLABLE = "clotsafe.web.accounts.username.attempted_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "clotsafe/locked_out.html"
AXES_VERBOSE = False
OTP_TOTP_ISSUER = "clotsafe"

# --- security headers ---------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # intake links carry a token: never sent elsewhere
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS if not h.startswith("[")]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- static files: every asset is served by the app (no CDN) --------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("CLOTSAFE_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

INTAKE_LINK_DAYS = int(os.environ.get("CLOTSAFE_INTAKE_LINK_DAYS", "14"))

# --- e-mail (intake links, reminders) --------------------------------------------------------
# With CLOTSAFE_SMTP_HOST set, mail goes out through that SMTP server; without it (the embedded
# default) each mail is written as a file under <data dir>/mail, and the page says so.
EMAIL_HOST = os.environ.get("CLOTSAFE_SMTP_HOST", "")
EMAIL_PORT = int(os.environ.get("CLOTSAFE_SMTP_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("CLOTSAFE_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("CLOTSAFE_SMTP_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("CLOTSAFE_SMTP_TLS", "starttls") == "starttls"
EMAIL_USE_SSL = os.environ.get("CLOTSAFE_SMTP_TLS", "starttls") == "ssl"
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("CLOTSAFE_MAIL_FROM", "clotsafe <no-reply@localhost>")
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                 else "django.core.mail.backends.filebased.EmailBackend")  # fmt: skip

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # no intake token (or any other secret in a URL) ever reaches a log line
    "filters": {"redact": {"()": "clotsafe.web.logfilters.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"},
                "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}  # fmt: skip
