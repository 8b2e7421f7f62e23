"""Usernames and passwords: the rules every form applies (the team page, reset, change)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.validators import RegexValidator

#: ASCII letters, digits, dot, dash and underscore; starts with a letter or digit; 3 to 30
#: characters. No look-alike letters from other alphabets, no spaces, nothing a log line or an
#: e-mail could misread.
USERNAME = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{2,29}\Z",
    "Use 3 to 30 letters (a-z), digits, dots, dashes or underscores, starting with a letter "
    "or digit.",
)


def check_new_password(password: str, *, username: str, full_name: str = "",
                       email: str = "") -> None:  # fmt: skip
    """Django's validators, compared with the account's own name and e-mail (raises
    ValidationError). A password that is the username plus a digit is refused."""
    first, _, last = full_name.partition(" ")
    validate_password(password, User(username=username, first_name=first, last_name=last,
                                     email=email))  # fmt: skip
