"""Minimal settings to run the CDS service alone (tests, the benchmark, a quick local try).

The full web app mounts this same app through ``clotsafe.web.settings``; this file is not used
there. Database: SQLite at ``CLOTSAFE_CDS_DB`` (default: a file in the temp directory).
"""

from __future__ import annotations

import os
import secrets
import tempfile

DEBUG = os.environ.get("CLOTSAFE_DEBUG", "") == "1"
SECRET_KEY = os.environ.get("CLOTSAFE_SECRET_KEY") or secrets.token_urlsafe(40)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
INSTALLED_APPS = ["clotsafe.web.cds"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "clotsafe.web.cds.urls"
# the consultation letter's template is the web app's (one template for both letters)
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates")],
        "APP_DIRS": False,
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("CLOTSAFE_CDS_DB")
        or os.path.join(tempfile.gettempdir(), "clotsafe-cds.sqlite3"),
        "CONN_MAX_AGE": 600,
        # concurrent hook calls each record a jti: wait for the lock instead of failing
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# the CDS body limit is the smaller of this and CLOTSAFE_CDS_MAX_BYTES (5 MB): let the service
# alone take the documented 5 MB (the full web app keeps Django's 2.5 MB for every form)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
