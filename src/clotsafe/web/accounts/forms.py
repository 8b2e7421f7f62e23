"""Forms of the account pages: Django's password forms with plain labels, e-mail, codes."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest
from django.template import loader

from clotsafe.web.accounts import resetlimit, services
from clotsafe.web.audit.services import client_ip

logger = logging.getLogger(__name__)
PASSWORD_HINT = "At least 10 characters. Not like your username or name, not a common password."


class _PlainPasswordLabels:
    """Django's password fields, labelled and explained in plain words (no HTML help)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, forms.Field] = self.fields  # type: ignore[attr-defined]
        fields["new_password1"].label = "New password"
        fields["new_password1"].help_text = PASSWORD_HINT
        fields["new_password2"].label = "New password again"
        if "old_password" in fields:
            fields["old_password"].label = "Current password"


class NewPasswordForm(_PlainPasswordLabels, auth_forms.SetPasswordForm):  # type: ignore[misc]
    """Set a password from a reset link (Django validates it against this user)."""


class ChangePasswordForm(_PlainPasswordLabels, auth_forms.PasswordChangeForm):  # type: ignore[misc]
    """Change one's own password (Django validates it against this user)."""


class ResetRequestForm(auth_forms.PasswordResetForm):
    """Ask for a reset link. The page afterwards is the same whether or not an account has
    this address, and so is the time it takes: the mail is sent in the background, because
    talking to the mail server takes long enough to be measured. Django sends only to active
    accounts with that address; :mod:`~clotsafe.web.accounts.resetlimit` holds back a mail over
    the hourly limits (the page stays the same)."""

    _request: HttpRequest | None = None

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._request = kwargs.get("request")  # the asking address, for the limit and the log
        super().save(*args, **kwargs)

    email = forms.EmailField(label="E-mail", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))  # fmt: skip

    def send_mail(self, subject_template_name: str, email_template_name: str,
                  context: dict[str, Any], from_email: str | None, to_email: str,
                  html_email_template_name: str | None = None) -> None:  # fmt: skip
        user: User = context["user"]
        if not resetlimit.allowed(user, client_ip(self._request) if self._request else None):
            services.reset_mail_held_back(user, self._request)
            return
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(subject, body, from_email, [to_email])
        threading.Thread(target=_send, args=(message,), daemon=True).start()
        services.reset_mail_sent(user, self._request)


def _send(message: EmailMultiAlternatives) -> None:
    try:
        message.send()
    except OSError as error:  # smtplib's errors too; no caller left to tell: log, never crash
        logger.warning("password reset e-mail could not be sent: %s", type(error).__name__)


class EmailForm(forms.Form):
    """The address password reset links go to; the current password confirms the change."""

    email = forms.EmailField(label="E-mail for password resets", max_length=254, required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))  # fmt: skip
    password = forms.CharField(label="Current password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete":
                                                                 "current-password"}))  # fmt: skip

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("This is not your current password.")
        return password


class CodeForm(forms.Form):
    """A six-digit code from the authenticator app."""

    code = forms.CharField(label="Code from your authenticator app", max_length=12,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))  # fmt: skip

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the 6 digits the app shows.")
        return code
