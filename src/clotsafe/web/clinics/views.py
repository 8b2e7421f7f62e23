"""Clinic lead pages: therapists, stricter settings and emergency number, audit export."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clotsafe.web.access import ClinicDeactivated, ClinicRequest, clinic_view, lead_view
from clotsafe.web.audit.services import export_rows, log
from clotsafe.web.clinics import services
from clotsafe.web.clinics.forms import MemberEmailForm, MemberForm
from clotsafe.web.clinics.models import Membership
from clotsafe.web.clinics.settings_form import ClinicSettingsForm, initial_from


@lead_view
def team(request: ClinicRequest) -> HttpResponse:
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        services.add_member(request.clinic, d["username"], d["password"], role=d["role"],
                            full_name=d["full_name"], email=d["email"],
                            by=request.user)  # fmt: skip
        messages.success(request, f"Added {d['username']}.")
        return redirect("team")
    return _team_page(request, form)


def _team_page(request: ClinicRequest, form: MemberForm, status: int = 200) -> HttpResponse:
    return render(request, "clotsafe/team.html",
                  {"form": form, "rows": services.team_rows(request.clinic)},
                  status=status)  # fmt: skip


def _other_member(request: ClinicRequest, pk: int) -> Membership:
    """A member of the lead's own clinic (404 for any other clinic's), not the lead."""
    member = get_object_or_404(Membership.objects.select_related("user", "clinic"), pk=pk,
                               clinic=request.clinic)  # fmt: skip
    if member.user_id == request.user.pk:
        raise PermissionDenied("Change your own e-mail on your account page.")
    return member


@lead_view
@require_POST
def team_email(request: ClinicRequest, pk: int) -> HttpResponse:
    """The lead sets where a member's password reset links go (e.g. one added without)."""
    member = _other_member(request, pk)
    form = MemberEmailForm(request.POST)
    if not form.is_valid():
        for error in form.errors["email"]:
            messages.error(request, f"E-mail for {member.user.get_username()}: {error}")
        return _team_page(request, MemberForm(), status=400)
    services.set_reset_email(member, form.cleaned_data["email"], by=request.user,
                             request=request)  # fmt: skip
    messages.success(request, f"Saved the e-mail of {member.user.get_username()}.")
    return redirect("team")


@lead_view
@require_POST
def team_active(request: ClinicRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(Membership.objects.select_related("user", "clinic"), pk=pk,
                               clinic=request.clinic)  # fmt: skip
    if member.user_id != request.user.pk:
        services.set_active(member, request.POST.get("active") == "1", by=request.user)
    return redirect("team")


@lead_view
def clinic_settings(request: ClinicRequest) -> HttpResponse:
    """The common stricter settings as fields, the rest as TOML; checked by the engine."""
    clinic = request.clinic
    form = ClinicSettingsForm(request.POST or None, initial=initial_from(clinic))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        errors = services.update_settings(clinic, settings_toml=form.to_toml(),
                                          emergency_number=d["emergency_number"],
                                          units=d["units"], by=request.user)  # fmt: skip
        if not errors:
            messages.success(request, "Saved. New screenings use these settings.")
            return redirect("clinic_settings")
        form.show_errors(errors)
    return render(request, "clotsafe/clinic_settings.html",
                  {"form": form, "stored": clinic.settings_toml})  # fmt: skip


@lead_view
def audit_csv(request: ClinicRequest) -> StreamingHttpResponse:
    log(request.clinic, request.user, "export", target_type="audit_log", detail="audit CSV")
    response = StreamingHttpResponse(export_rows(request.clinic), content_type="text/csv")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="clotsafe-audit-{stamp}.csv"'
    return response


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page, inside the app's layout and navigation, saying why."""
    reason = str(exception) if exception and str(exception) else "You cannot open this page."
    context = {"reason": reason, "deactivated": isinstance(exception, ClinicDeactivated)}
    return render(request, "clotsafe/403.html", context, status=403)


@clinic_view
def settings_help(request: ClinicRequest) -> HttpResponse:
    """The settings documentation (docs/settings.md) in the app, with every window and rule."""
    return render(request, "clotsafe/settings_help.html", services.settings_reference())
