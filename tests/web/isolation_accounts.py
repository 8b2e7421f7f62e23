"""Therapist URLs of the accounts work that take an id (the cross-clinic guard in test_security).

Each entry: URL name -> (method, how to fill its ids from a clinic's objects). `extra_objects`
adds the objects those URLs need to the dict the guard builds for each clinic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ID_URLS: dict[str, tuple[str, Callable[[dict[str, Any]], list[Any]]]] = {
    "team_unlock": ("post", lambda o: [o["membership"].pk]),
    "team_password": ("post", lambda o: [o["membership"].pk]),
    "team_email": ("post", lambda o: [o["membership"].pk]),
}
#: the password reset pages are for people who cannot log in
PUBLIC: set[str] = {
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


def extra_objects(clinic: Any, objects: dict[str, Any]) -> dict[str, Any]:
    return {}
