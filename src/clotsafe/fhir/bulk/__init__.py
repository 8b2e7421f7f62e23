"""FHIR Bulk Data Access client: SMART Backend Services auth, kick-off, polling, download.

``export.run_export(ExportOptions(...), http=..., clock=..., reporter=...)`` is the whole export;
the HTTP client, the clock and the progress reporter are passed in (tests use a fake server and
a fake clock). docs/bulk.md describes the command, what lands in DIR and the security readings.

Modules: ``errors`` (codes), ``timing`` (clock, Retry-After, back-off), ``session`` (origins,
retries, the token only home), ``smart`` (key, discovery, client assertion, token refresh),
``kickoff``, ``poll``, ``manifest``, ``download``, ``export``, ``summary``, ``progress``. This
file imports nothing, so the CLI can use ``progress`` and ``errors`` without loading httpx.
"""
