"""The client's data rights: whole-record export and erasure (clinic lead only)."""

from __future__ import annotations

from django.urls import URLPattern, path

from clotsafe.web.clients import rights

urlpatterns: list[URLPattern] = [
    path("clients/<int:pk>/record.json", rights.export_json, name="client_export_json"),
    path("clients/<int:pk>/record.pdf", rights.export_pdf, name="client_export_pdf"),
    path("clients/<int:pk>/erase/", rights.erase, name="client_erase"),
]
