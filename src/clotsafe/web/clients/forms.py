from __future__ import annotations

from django import forms

from clotsafe.web.clients.models import Client


class ClientForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Client
        fields = ["name", "reference"]
        labels = {"name": "Client name", "reference": "Your reference (optional)"}
