"""Logging filters: no secret from a URL ever reaches a log line.

A client's intake link (``/i/<token>/``) is the only key to their health answers; a CDS Hooks
letter link (``/cds-services/letters/<token>.pdf``) and a password-reset link
(``/password-reset/<uid>/<token>/``) are keys too. Django logs request paths
(``django.request``: "Not Found: /i/…/", ``django.server``: the request line), so every record
is rendered once, the secrets in it replaced by ``[redacted]``, and the record then carries
only that text.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
#: a path segment or query value that is a secret, and what comes before it (kept)
_SECRET_PARTS = (
    re.compile(r"(/i/)[^/\s?#\"']+"),
    re.compile(r"(/letters/)[^/\s?#\"'.]+"),
    re.compile(r"([/-]reset/[^/\s?#\"']+/)[^/\s?#\"']+"),
    re.compile(r"([?&](?:token|key|code|password|secret|sig|signature)=)[^&\s#\"']+", re.I),
)
#: loggers whose records carry a request path, filtered where they are made (their records
#: reach handlers that settings.LOGGING does not configure, e.g. Django's own runserver one)
REQUEST_LOGGERS = ("django.request", "django.server", "django.security.csrf")


def redact(text: str) -> str:
    """The text with every secret of a URL replaced."""
    for pattern in _SECRET_PARTS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


class RedactSecrets(logging.Filter):
    """Renders the record's message with its arguments, redacted; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep what can be read, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install() -> None:
    """Filter the request loggers at the source too (called once, from the intake app)."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
