"""Account pages: password change and reset, unlock, temporary passwords, two-factor."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
