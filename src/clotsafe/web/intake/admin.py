"""What the intake keeps beside the answers, in the operator's admin: never added or changed
there (it is the client's own record of what they answered and confirmed); deleted with its
client, link or clinic (the admin checks the permission to delete each related object)."""

from __future__ import annotations

from django.contrib import admin

from clotsafe.web.audit.adminlog import NoEditAdmin
from clotsafe.web.intake.models import Consent, RedFlagReport


@admin.register(RedFlagReport)
class RedFlagReportAdmin(NoEditAdmin):
    list_display = ("id", "link", "question_id", "answer", "answered_at", "changed_at")


@admin.register(Consent)
class ConsentAdmin(NoEditAdmin):
    list_display = ("id", "link", "name", "confirmed_at")
