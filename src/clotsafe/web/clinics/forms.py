from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User

from clotsafe.web.accounts.forms import PASSWORD_HINT
from clotsafe.web.accounts.validation import USERNAME, check_new_password
from clotsafe.web.clinics.models import Membership


class MemberForm(forms.Form):
    username = forms.CharField(
        max_length=30, validators=[USERNAME], help_text="Letters (a-z), digits, . - _"
    )
    full_name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(label="E-mail (for password resets)", required=False, max_length=254)
    password = forms.CharField(widget=forms.PasswordInput, min_length=10, strip=False,
                               help_text=PASSWORD_HINT)  # fmt: skip
    role = forms.ChoiceField(choices=Membership.Role.choices)

    def clean_username(self) -> str:
        name: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=name).exists():
            raise forms.ValidationError("This username is taken.")
        return name

    def clean(self) -> dict[str, Any]:
        """The password is checked against the new account's username, name and e-mail (so
        ``simuser_zz1`` is refused for ``simuser_zz``)."""
        data = super().clean() or {}
        if "password" in data and "username" in data:
            try:
                check_new_password(data["password"], username=data["username"],
                                   full_name=data.get("full_name", ""),
                                   email=data.get("email", ""))  # fmt: skip
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data


class MemberEmailForm(forms.Form):
    """The lead sets the address a member's password reset links go to (empty: none)."""

    email = forms.EmailField(label="E-mail for password resets", required=False, max_length=254)
