from __future__ import annotations

from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password

from clotsafe.web.clinics.models import EMERGENCY_NUMBER, Membership


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    full_name = forms.CharField(max_length=200, required=False)
    password = forms.CharField(widget=forms.PasswordInput, min_length=10)
    role = forms.ChoiceField(choices=Membership.Role.choices)

    def clean_username(self) -> str:
        name: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=name).exists():
            raise forms.ValidationError("This username is taken.")
        return name

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        validate_password(password)
        return password


class SettingsForm(forms.Form):
    emergency_number = forms.CharField(max_length=6, validators=[EMERGENCY_NUMBER],
                                       help_text="Shown to clients on the emergency screen "
                                                 "(911, 999, 112 ...).")  # fmt: skip
    settings_toml = forms.CharField(
        required=False,
        label="Stricter settings (TOML)",
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
    )
