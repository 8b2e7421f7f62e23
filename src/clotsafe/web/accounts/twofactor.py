"""Optional TOTP two-factor for clinic leads (django-otp): set up, check, turn off.

One device per user, named ``default``. Setting up makes an unconfirmed device whose key is
shown as a QR code; the first correct code confirms it. From then on a session is only let
through (middleware.AccountGateMiddleware) once a code has been checked in it.
"""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib.auth.models import User
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from clotsafe.web.audit.services import log
from clotsafe.web.audit.signals import clinic_of

DEVICE_NAME = "default"


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device being set up (a fresh key each time setup starts over)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def restart_setup(user: User) -> TOTPDevice:
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return pending_device(user)


def key_text(device: TOTPDevice) -> str:
    """The key as an authenticator app asks for it when typed in: base32, in groups of four."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (made here: the key never leaves the app)."""
    qr = segno.make(device.config_url, error="m")
    svg: str = qr.svg_inline(scale=4, title="QR code for your authenticator app")
    return svg


def clean_code(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace())


WAIT = "Too many wrong codes. Wait a minute, then try the newest code."
WRONG = "That code is not right. Check the time on your phone and try the newest code."


def code_error(device: TOTPDevice, code: str) -> str | None:
    """None when the code is right; otherwise what to tell the user. After wrong codes
    django-otp refuses even a right one for a growing while (throttling): say so."""
    if throttled(device):
        return WAIT
    return None if device.verify_token(clean_code(code)) else WRONG


def confirm(request: HttpRequest, device: TOTPDevice, code: str) -> str | None:
    """The first correct code turns two-factor on and counts for this session."""
    error = code_error(device, code)
    if error:
        return error
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    _log(request, device.user, "two-factor turned on")
    return None


def verify(request: HttpRequest, device: TOTPDevice, code: str) -> str | None:
    """The code at log-in."""
    error = code_error(device, code)
    if error:
        _log(request, device.user, "two-factor code refused")
        return error
    otp_login(request, device)
    _log(request, device.user, "two-factor code accepted")
    return None


def turn_off(request: HttpRequest, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    _log(request, user, "two-factor turned off")


def _log(request: HttpRequest, user: User, detail: str) -> None:
    log(clinic_of(user), user, "change", user, target_type="account", request=request,
        detail=detail)  # fmt: skip


def throttled(device: TOTPDevice) -> bool:
    """True while django-otp refuses codes after repeated wrong ones."""
    allowed, _ = device.verify_is_allowed()
    return not allowed
