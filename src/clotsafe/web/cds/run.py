"""Run the CDS service alone: ``python -m clotsafe.web.cds.run --port 8765``.

Uses the standalone settings unless DJANGO_SETTINGS_MODULE says otherwise, migrates its SQLite
database, then serves with waitress (threads) on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clotsafe.web.cds.standalone_settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from waitress import serve  # type: ignore[import-untyped, unused-ignore]

    call_command("migrate", interactive=False, verbosity=0)
    print(f"clotsafe CDS service on http://{args.host}:{args.port}/cds-services", flush=True)
    serve(get_wsgi_application(), host=args.host, port=args.port, threads=args.threads,
          ident="clotsafe-cds")  # fmt: skip


if __name__ == "__main__":
    main()
