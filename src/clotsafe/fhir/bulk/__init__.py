"""FHIR Bulk Data Access client: SMART Backend Services auth, kick-off, polling, download.

``run_export(ExportOptions(...), http=..., clock=..., reporter=...)`` is the whole export; the
HTTP client, the clock and the progress reporter are passed in (tests use a fake server and a
fake clock). docs/bulk.md describes the command, what lands in DIR and the security readings.
"""

from clotsafe.fhir.bulk.errors import BULK_ERROR_CODES, BulkError
from clotsafe.fhir.bulk.export import ExportOptions, ExportResult, run_export
from clotsafe.fhir.bulk.kickoff import ExportRequest
from clotsafe.fhir.bulk.progress import Reporter
from clotsafe.fhir.bulk.timing import Clock, SystemClock

__all__ = [
    "BULK_ERROR_CODES",
    "BulkError",
    "Clock",
    "ExportOptions",
    "ExportRequest",
    "ExportResult",
    "Reporter",
    "SystemClock",
    "run_export",
]
