"""What the intake keeps besides the draft answers on the link (issue 8 §1–§2).

- :class:`DraftState`: per field, the sequence number of the last save applied (saves apply in
  the order the client made them and never overwrite a newer answer), and what the client typed
  that cannot be stored as an answer yet (never empty a field the client filled).
- :class:`RedFlagReport`: every time the client answered yes or unsure to a red-flag question,
  when, what they were shown, and whether and when they changed it (a retracted red flag).
- :class:`Consent`: the client confirms the answers are theirs and true (typed name, time).
- :class:`OtherMedicine`: the words typed beside "Another one" of a medicine list.

The therapist side reads these through :mod:`clotsafe.web.intake.history`, not the models.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from clotsafe.web.clients.models import IntakeLink


class DraftState(models.Model):
    link = models.OneToOneField(IntakeLink, on_delete=models.CASCADE, related_name="draft_state")
    #: question id -> sequence number of the newest save applied to it
    seqs: models.JSONField[Any] = models.JSONField(default=dict, blank=True)
    #: field key ("surgery_on", "clots-0-diagnosed_on") -> what the client typed, kept (with an
    #: error) when it cannot be stored as an answer
    raw: models.JSONField[Any] = models.JSONField(default=dict, blank=True)
    #: clot records being filled in that have no kind yet (kept so nothing typed is lost)
    clot_drafts: models.JSONField[Any] = models.JSONField(default=dict, blank=True)
    #: date field key -> the "about how long ago" choice the stored date was computed from
    approx: models.JSONField[Any] = models.JSONField(default=dict, blank=True)
    #: when the client first opened the link (that first view is audited)
    opened_at = models.DateTimeField(null=True, blank=True)


class RedFlagReport(models.Model):
    """One yes/unsure answer to a red-flag question; ``changed_at`` is set when the client
    changed it to no (or it was cleared): a retracted red flag the therapist must see."""

    link = models.ForeignKey(IntakeLink, on_delete=models.CASCADE, related_name="red_flags")
    question_id = models.CharField(max_length=40)
    answer = models.CharField(max_length=10)
    answered_at = models.DateTimeField()
    #: the level of the screen the client was sent to because of it ("" until one was shown)
    shown_level = models.CharField(max_length=30, blank=True)
    #: the words of that screen's heading, as the client saw them
    shown_text = models.TextField(blank=True)
    #: the new answer ("no"; "" when the answer was cleared or no longer asked)
    changed_to = models.CharField(max_length=10, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["answered_at", "id"]
        indexes = [models.Index(fields=["link", "changed_at"])]


class Consent(models.Model):
    link = models.OneToOneField(IntakeLink, on_delete=models.CASCADE, related_name="consent")
    name = models.CharField(max_length=200)
    #: the statement the client confirmed, as shown
    statement = models.TextField()
    confirmed_at = models.DateTimeField()


class OtherMedicine(models.Model):
    link = models.ForeignKey(IntakeLink, on_delete=models.CASCADE, related_name="other_medicines")
    #: anticoagulant_names or antiplatelet_names
    question_id = models.CharField(max_length=40)
    text = models.CharField(max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "question_id"], name="one_other_per_list")
        ]
