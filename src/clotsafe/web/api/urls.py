"""The JSON API for integrators, under /api/v1/ (docs/api.md)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
