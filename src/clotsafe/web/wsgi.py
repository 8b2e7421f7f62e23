"""WSGI entry point: ``waitress-serve clotsafe.web.wsgi:application`` or gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
application = get_wsgi_application()
