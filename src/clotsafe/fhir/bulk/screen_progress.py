"""Progress of ``bulk screen`` on standard error (never standard output).

``--progress auto`` (the default): a rich bar on a terminal, JSON lines otherwise;
``--progress json``: one JSON object per line, ``{"event": "stage", "stage": "views", ...}``,
``{"event": "patients", "done": 20000, "total": 100000}``; ``--progress none``: nothing.
"""

from __future__ import annotations

import time
from typing import IO, Any

import orjson

PATIENT_STEP = 5_000


class Progress:
    """Silent; the base of the others."""

    def stage(self, name: str, **info: Any) -> None:
        """A stage begins (``views``, ``screen``, ``outputs``) or ends (``done``)."""

    def patients(self, done: int, total: int) -> None:
        """Patients screened so far (called often; implementations thin it out)."""

    def warn(self, message: str) -> None:
        """A problem that does not stop the screening (an unreadable line)."""

    def close(self) -> None:
        pass


class JsonProgress(Progress):
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.start = time.perf_counter()
        self.last = -PATIENT_STEP

    def _emit(self, obj: dict[str, Any]) -> None:
        obj["seconds"] = round(time.perf_counter() - self.start, 3)
        self.stream.write(orjson.dumps(obj).decode() + "\n")
        self.stream.flush()

    def stage(self, name: str, **info: Any) -> None:
        self._emit({"event": "stage", "stage": name, **info})

    def patients(self, done: int, total: int) -> None:
        if done - self.last >= PATIENT_STEP or done == total:
            self.last = done
            self._emit({"event": "patients", "done": done, "total": total})

    def warn(self, message: str) -> None:
        self._emit({"event": "warning", "message": message})


class RichProgress(Progress):
    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                            MofNCompleteColumn(), console=Console(file=stream),
                            transient=True)  # fmt: skip
        self.bar.start()
        self.task = self.bar.add_task("reading the export", total=None)

    def stage(self, name: str, **info: Any) -> None:
        self.bar.update(self.task, description=f"bulk screen: {name}")

    def patients(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def warn(self, message: str) -> None:
        self.bar.console.print(f"bulk screen: {message}", markup=False, highlight=False)

    def close(self) -> None:
        self.bar.stop()


def progress_for(mode: str, stream: IO[str]) -> Progress:
    """``auto``: rich on a terminal, JSON lines otherwise; ``json``; ``none``."""
    if mode == "none":
        return Progress()
    if mode == "auto" and stream.isatty():
        return RichProgress(stream)
    return JsonProgress(stream)
