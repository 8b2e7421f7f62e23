"""Account pages: password change and reset, unlock, temporary passwords, two-factor, and the
lead's change of a member's reset e-mail (its view is on the Team page's, in clinics)."""

from __future__ import annotations

from django.urls import URLPattern, path

from clotsafe.web.accounts import views
from clotsafe.web.clinics import views as clinics

urlpatterns: list[URLPattern] = [
    path("account/", views.account, name="account"),
    path("account/password/", views.PasswordChange.as_view(), name="password_change"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("account/two-factor/off/", views.two_factor_off, name="two_factor_off"),
    path("account/two-factor/check/", views.two_factor_verify, name="two_factor_verify"),
    path("password-reset/", views.PasswordReset.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetSent.as_view(), name="password_reset_done"),
    path("password-reset/done/", views.PasswordResetComplete.as_view(),
         name="password_reset_complete"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirm.as_view(),
         name="password_reset_confirm"),
    path("clinic/team/<int:pk>/unlock/", views.team_unlock, name="team_unlock"),
    path("clinic/team/<int:pk>/password/", views.team_password, name="team_password"),
    path("clinic/team/<int:pk>/email/", clinics.team_email, name="team_email"),
]  # fmt: skip
