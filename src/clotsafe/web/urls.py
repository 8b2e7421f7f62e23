"""Root URLs. Therapist pages need a login; /i/<token>/ is the client's own intake form."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from clotsafe.web.clients import views as clients
from clotsafe.web.clinics import views as clinics
from clotsafe.web.intake import views as intake
from clotsafe.web.screenings import views as screenings

urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", auth_views.LoginView.as_view(template_name="clotsafe/login.html",
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", clients.client_list, name="client_list"),
    path("clients/new/", clients.client_new, name="client_new"),
    path("clients/<int:pk>/", clients.client_detail, name="client_detail"),
    path("clients/<int:pk>/edit/", clients.client_edit, name="client_edit"),
    path("clients/<int:pk>/archive/", clients.client_archive, name="client_archive"),
    path("clients/<int:pk>/links/", clients.link_create, name="link_create"),
    path("clients/<int:pk>/links/<int:link_pk>/email/", clients.link_email, name="link_email"),
    path("clients/<int:pk>/links/<int:link_pk>/remind/", clients.link_remind, name="link_remind"),
    path("clients/<int:pk>/links/<int:link_pk>/revoke/", clients.link_revoke, name="link_revoke"),
    path("clients/<int:pk>/recheck/", screenings.recheck, name="recheck"),
    path("clients/<int:pk>/clearances/new/", screenings.clearance_new, name="clearance_new"),
    path("screenings/<int:pk>/", screenings.screening_detail, name="screening_detail"),
    path("screenings/<int:pk>/answers/", screenings.answers, name="screening_answers"),
    path("screenings/<int:pk>/acknowledge/", screenings.acknowledge,
         name="screening_acknowledge"),
    path("screenings/<int:pk>/decision.json", screenings.screening_json, name="screening_json"),
    path("screenings/<int:pk>/letter.pdf", screenings.letter_pdf, name="letter_pdf"),
    path("clinic/team/", clinics.team, name="team"),
    path("clinic/team/<int:pk>/active/", clinics.team_active, name="team_active"),
    path("clinic/settings/", clinics.clinic_settings, name="clinic_settings"),
    path("clinic/settings/help/", clinics.settings_help, name="settings_help"),
    path("clinic/audit.csv", clinics.audit_csv, name="audit_csv"),
    path("i/<str:token>/", intake.start, name="intake_start"),
    path("i/<str:token>/step/<str:key>/", intake.step, name="intake_step"),
    path("i/<str:token>/step/<str:key>/save/", intake.save, name="intake_save"),
    path("i/<str:token>/emergency/", intake.emergency, name="intake_emergency"),
    path("i/<str:token>/urgent/", intake.urgent, name="intake_urgent"),
    path("i/<str:token>/done/", intake.done, name="intake_done"),
    path("", include("clotsafe.web.clients.urls")),
    path("", include("clotsafe.web.accounts.urls")),
    path("api/v1/", include("clotsafe.web.api.urls")),
    path("admin/", admin.site.urls),
]  # fmt: skip

handler403 = "clotsafe.web.clinics.views.forbidden"

if settings.HAS_CDS:  # the CDS Hooks app, when its engineer has added it
    urlpatterns.append(path("", include("clotsafe.web.cds.urls")))
