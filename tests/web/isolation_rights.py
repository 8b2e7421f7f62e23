"""Therapist URLs of the data-rights work that take an id (the cross-clinic guard in test_security).

Each entry: URL name -> (method, how to fill its ids from a clinic's objects). `extra_objects`
adds the objects those URLs need to the dict the guard builds for each clinic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ID_URLS: dict[str, tuple[str, Callable[[dict[str, Any]], list[Any]]]] = {
    "client_export_json": ("get", lambda o: [o["client"].pk]),
    "client_export_pdf": ("get", lambda o: [o["client"].pk]),
    "client_erase": ("post", lambda o: [o["client"].pk]),
}
PUBLIC: set[str] = set()


def extra_objects(clinic: Any, objects: dict[str, Any]) -> dict[str, Any]:
    return {}
