"""Account pages: the user's own account, password change and reset (Django's views with the
app's templates), the clinic lead's unlock and temporary password, two-factor."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from clotsafe.web.access import ClinicRequest, clinic_view, lead_view, refuse_if_deactivated
from clotsafe.web.accounts import services, twofactor
from clotsafe.web.accounts.forms import (
    ChangePasswordForm,
    CodeForm,
    EmailForm,
    NewPasswordForm,
    ResetRequestForm,
)
from clotsafe.web.clinics.models import Membership

# --- the user's own account --------------------------------------------------------------


@clinic_view
def account(request: ClinicRequest) -> HttpResponse:
    form = EmailForm(request.user, request.POST or None, initial={"email": request.user.email})
    if request.method == "POST" and form.is_valid():
        request.user.email = form.cleaned_data["email"]
        request.user.save(update_fields=["email"])
        services.email_changed(request.user, request)
        messages.success(request, "Saved.")
        return redirect("account")
    device = twofactor.confirmed_device(request.user)
    return render(request, "accounts/account.html",
                  {"form": form, "two_factor_on": device is not None})  # fmt: skip


class PasswordChange(auth_views.PasswordChangeView):
    form_class = ChangePasswordForm
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("account")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        refuse_if_deactivated(cast(User, request.user))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["must_change"] = services.must_change_password(cast(User, self.request.user))
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(form.user, how="changed", request=self.request)
        messages.success(self.request, "Your password is changed.")
        return response


# --- password reset by e-mail (public) --------------------------------------------------------


def reset_link_minutes() -> int:
    return int(settings.PASSWORD_RESET_TIMEOUT) // 60


class PasswordReset(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    @property
    def extra_email_context(self) -> dict[str, Any]:  # type: ignore[override]
        return {"timeout_minutes": reset_link_minutes()}


class PasswordResetSent(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"
    extra_context = {"timeout_minutes": reset_link_minutes}


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(form.user, how="reset by e-mail", request=self.request)
        return response


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


# --- the clinic lead, for a member of the team -------------------------------------------


def _member(request: ClinicRequest, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user", "clinic"), pk=pk,
                             clinic=request.clinic)  # fmt: skip


@lead_view
@require_POST
def team_unlock(request: ClinicRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    services.unlock_member(member, by=request.user, request=request)
    messages.success(request, f"{member.user.get_username()} can log in again.")
    return redirect("team")


@lead_view
@require_POST
def team_password(request: ClinicRequest, pk: int) -> HttpResponse:
    """A temporary password, shown once; the member must replace it at the next log-in."""
    member = _member(request, pk)
    if member.user_id == request.user.pk:
        raise PermissionDenied("Change your own password on your account page.")
    password = services.set_temporary_password(member, by=request.user, request=request)
    return render(request, "accounts/temporary_password.html",
                  {"member": member, "password": password})  # fmt: skip


# --- two-factor ----------------------------------------------------------------------------


@lead_view
def two_factor(request: ClinicRequest) -> HttpResponse:
    """Set up: scan the QR code, type the code the app shows. Turned on by the first code."""
    if twofactor.confirmed_device(request.user) is not None:
        return render(request, "accounts/two_factor.html", {"on": True, "form": CodeForm()})
    if request.method == "GET":
        device = twofactor.restart_setup(request.user)  # a fresh key each time the page opens
    else:
        device = twofactor.pending_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        error = twofactor.confirm(request, device, form.cleaned_data["code"])
        if error is None:
            messages.success(request, "Two-factor is on. You will need a code at each log-in.")
            return redirect("account")
        form.add_error("code", error)
    return render(request, "accounts/two_factor.html",
                  {"on": False, "form": form, "qr": twofactor.qr_svg(device),
                   "key": twofactor.key_text(device)})  # fmt: skip


@lead_view
@require_POST
def two_factor_off(request: ClinicRequest) -> HttpResponse:
    """Turning it off needs a current code, so an open session alone cannot do it."""
    device = twofactor.confirmed_device(request.user)
    if device is None:
        return redirect("account")
    form = CodeForm(request.POST)
    if form.is_valid():
        error = twofactor.code_error(device, form.cleaned_data["code"])
        if error is None:
            twofactor.turn_off(request, request.user)
            messages.success(request, "Two-factor is off.")
            return redirect("account")
        form.add_error("code", error)
    return render(request, "accounts/two_factor.html", {"on": True, "form": form}, status=400)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The step after the password when the account has two-factor on."""
    user = cast(User, request.user)
    refuse_if_deactivated(user)
    device = twofactor.confirmed_device(user)
    if device is None or getattr(user, "is_verified", lambda: False)():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        error = twofactor.verify(request, device, form.cleaned_data["code"])
        if error is None:
            return redirect(_next(request))
        form.add_error("code", error)
    return render(request, "accounts/two_factor_verify.html",
                  {"form": form, "next": _next(request)})  # fmt: skip


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):  # fmt: skip
        return target
    return reverse("client_list")
