"""``clotsafe serve``: migrate, create the demo clinic, print the URL and login, and serve.

The server is waitress: a production-quality pure-Python WSGI server that runs the same on
every platform, serves static files through WhiteNoise, and needs no reloader (docs/web.md).
``--no-demo`` (a real deployment) skips the demo clinic; ``clotsafe createclinic`` makes the
first clinic and lead with the same settings (data dir, database) through ``prepare``.
"""

from __future__ import annotations

import os


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
    import django

    django.setup()


def prepare() -> None:
    """Django set up and the database migrated (idempotent): what every web command needs."""
    setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def run(port: int = 8000, host: str = "127.0.0.1", *, demo: bool = True) -> None:
    prepare()
    from waitress import serve

    from clotsafe.web.wsgi import application

    shown_host = f"[{host}]" if ":" in host else host
    login = _demo_login() if demo else _real_login()
    print(f"clotsafe is running at http://{shown_host}:{port}/", flush=True)
    print(login, flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    serve(application, host=host, port=port, threads=8, ident="clotsafe")


def _demo_login() -> str:
    from clotsafe.web.demo import ensure_demo

    username, password = ensure_demo()
    return f"Log in as {username!r} with password {password!r} (demo clinic lead)."


def _real_login() -> str:
    from clotsafe.web.clinics.models import Clinic

    if not Clinic.objects.exists():
        return ("There is no clinic yet: create one and its lead with "
                "`clotsafe createclinic NAME --lead USERNAME`.")  # fmt: skip
    return "Log in with your clinic account (no demo clinic)."


if __name__ == "__main__":
    run()
