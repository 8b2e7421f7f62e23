from __future__ import annotations

from django.urls import URLPattern, path

from clotsafe.web.cds import views

app_name = "cds"
urlpatterns: list[URLPattern] = [
    path("cds-services", views.discovery, name="discovery"),
    path("cds-services/letters/<str:token>.pdf", views.letter_pdf, name="letter"),
    path("cds-services/<str:service_id>", views.call, name="call"),
    path("cds-services/<str:service_id>/feedback", views.feedback, name="feedback"),
]
