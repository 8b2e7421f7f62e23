"""Forms of the client pages: the client's own data, and an address to e-mail a link to."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone

from clotsafe.web.clients.models import Client

#: the earliest birth date accepted (a typo such as 0002-11-09 is refused with a message)
EARLIEST_BIRTH = date(1900, 1, 1)


class ClientForm(forms.ModelForm):  # type: ignore[type-arg]
    """Name, reference, date of birth and contact details; every text field has its limit."""

    class Meta:
        model = Client
        fields = ["name", "reference", "date_of_birth", "email", "phone"]
        labels = {"name": "Client name", "reference": "Your reference (optional)",
                  "date_of_birth": "Date of birth (optional)", "email": "E-mail (optional)",
                  "phone": "Phone (optional)"}  # fmt: skip
        help_texts = {"date_of_birth": "Identifies the client on the consultation letter."}
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        }

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter the client's name.")
        return name

    def clean_date_of_birth(self) -> date | None:
        born: date | None = self.cleaned_data.get("date_of_birth")
        if born is None:
            return None
        if born > timezone.localdate():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if born < EARLIEST_BIRTH:
            raise forms.ValidationError("Check the year: the date of birth is before 1900.")
        return born


class EmailForm(forms.Form):
    email = forms.EmailField(max_length=254)
