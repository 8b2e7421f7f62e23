"""``clotsafe serve``: migrate, create the demo clinic, print the URL and login, and serve.

The server is waitress: a production-quality pure-Python WSGI server that runs the same on
every platform, serves static files through WhiteNoise, and needs no reloader (docs/web.md).
"""

from __future__ import annotations

import os


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.settings")
    import django

    django.setup()


def run(port: int = 8000, host: str = "127.0.0.1") -> None:
    setup()
    from django.core.management import call_command
    from waitress import serve

    from clotsafe.web.demo import ensure_demo
    from clotsafe.web.wsgi import application

    call_command("migrate", interactive=False, verbosity=0)
    username, password = ensure_demo()
    shown_host = f"[{host}]" if ":" in host else host
    print(f"clotsafe is running at http://{shown_host}:{port}/", flush=True)
    print(f"Log in as {username!r} with password {password!r} (demo clinic lead).", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    serve(application, host=host, port=port, threads=8, ident="clotsafe")


if __name__ == "__main__":
    run()
