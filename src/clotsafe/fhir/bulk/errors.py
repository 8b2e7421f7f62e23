"""Errors of the bulk export client: a stable code (docs/errors.md, "Bulk export") and a message.

Messages never carry a token, a client assertion or a file URL's query string.
"""

from __future__ import annotations

import unicodedata

#: every code ``clotsafe bulk export`` reports; each has a row in docs/errors.md
BULK_ERROR_CODES: dict[str, str] = {
    "bulk_bad_key": "the private key file cannot be used to sign a client assertion",
    "bulk_bad_option": "an option value that cannot be right (a URL, an instant, a type)",
    "bulk_insecure_url": "a plain-http URL to a host that is not this machine",
    "bulk_discovery_failed": "the server's .well-known/smart-configuration is missing or unusable",
    "bulk_token_refused": "the token endpoint refused the assertion, or the server the token",
    "bulk_kickoff_failed": "the server refused to start the export",
    "bulk_post_unsupported": "POST kick-off refused (405) and patient references need POST",
    "bulk_off_origin": "the status URL is not on the FHIR server's origin (the token stays home)",
    "bulk_export_failed": "the export ended in an error (the status URL answered 4xx)",
    "bulk_gave_up": "the server kept failing (429/5xx/network) or the export took too long",
    "bulk_bad_manifest": "the completion manifest is not what the Bulk Data specification says",
    "bulk_resume_mismatch": "--resume points at another export than the one already in DIR",
    "bulk_download_failed": "a file could not be downloaded (the rest stay; --resume retries it)",
    "bulk_count_mismatch": "a file's line count differs from the manifest's count",
    "bulk_io_error": "DIR or a file in it cannot be written",
    "bulk_input_changed": "an export file changed while bulk screen read it",
    "bulk_input_damaged": "a gzip export file is cut short, not gzip, or fails its CRC-32",
}

#: process exit status per code; 1 is bad local input, 3 the server, 4 the data on disk
EXIT_CODES: dict[str, int] = {
    "bulk_bad_key": 1,
    "bulk_bad_option": 1,
    "bulk_insecure_url": 1,
    "bulk_io_error": 1,
    "bulk_resume_mismatch": 1,
    "bulk_count_mismatch": 4,
    "bulk_input_changed": 4,
    "bulk_input_damaged": 4,
}
SERVER_EXIT = 3


class BulkError(Exception):
    """A bulk export problem: ``code`` (BULK_ERROR_CODES) and a message that says what to do."""

    def __init__(self, code: str, message: str) -> None:
        if code not in BULK_ERROR_CODES:
            raise ValueError(f"undocumented bulk error code {code!r}")
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.code, SERVER_EXIT)

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


def damaged(file_and_how: str) -> BulkError:
    """``bulk_input_damaged`` for an export file that cannot be read whole ("Condition.1.ndjson.gz
    is cut short: ..."): nothing is screened, as what is missing could be anyone's DVT."""
    return BulkError("bulk_input_damaged", f"{file_and_how}. Nothing was screened: a file that "
                     "cannot be read whole may hide any patient's resources. Download it again "
                     "and screen the export again")  # fmt: skip


def clean(text: object, limit: int = 200) -> str:
    """Server-supplied text made safe for a terminal: no control characters, at most ``limit``."""
    out = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in str(text))
    out = " ".join(out.split())
    return out if len(out) <= limit else out[: limit - 1] + "…"
