"""What the export tells its user while it runs; the CLI draws it (rich or plain lines)."""

from __future__ import annotations


class Reporter:
    """Progress events. This base class ignores them all (library use, tests)."""

    def kicked_off(self, status_url: str) -> None:
        """The export started (or is resumed) at ``status_url``."""

    def waiting(self, status: int, progress: str | None, seconds: float) -> None:
        """The status URL answered ``status`` (202, 429, 5xx); next check in ``seconds``."""

    def manifest(self, files: int) -> None:
        """The export is complete: ``files`` files to fetch."""

    def file_started(self, name: str, size: int | None) -> None:
        """Downloading ``name`` (``size`` bytes when the server says)."""

    def file_bytes(self, name: str, received: int) -> None:
        """``received`` more bytes of ``name``."""

    def file_done(self, name: str, lines: int, skipped: bool) -> None:
        """``name`` is safe on disk (``skipped``: it already was, from an earlier run)."""

    def file_failed(self, name: str, message: str) -> None:
        """``name`` could not be completed (left as ``.part``)."""

    def note(self, message: str) -> None:
        """Anything else worth one line."""
