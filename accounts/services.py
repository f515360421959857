"""Writes for staff accounts: MFA devices and demo staff."""

from __future__ import annotations

import logging
from base64 import b32encode
from binascii import unhexlify

from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.models import User

log = logging.getLogger(__name__)

DEVICE_NAME = "Authenticator app"


def totp_device_confirmed(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def totp_device_start_enrolment(*, user: User) -> TOTPDevice:
    """Return the user's pending (unconfirmed) device, creating one if needed.

    Only a user with no confirmed device may enrol; replacing a device is an
    administrator's action (delete it in the admin), so a stolen password alone
    cannot swap in the attacker's authenticator.
    """
    if totp_device_confirmed(user=user) is not None:
        raise PermissionError("user already has a confirmed device")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, user: User, device: TOTPDevice, code: str) -> bool:
    """Confirm a pending device if ``code`` is valid for it."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        if device.confirmed or not device.verify_token(code):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    log.info("TOTP device %s confirmed for user %s", device.pk, user.pk)
    return True


def totp_secret_base32(device: TOTPDevice) -> str:
    return b32encode(unhexlify(device.key)).decode("ascii").rstrip("=")


def staff_create(
    *,
    username: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    is_staff: bool = False,
) -> User:
    if role not in roles.ALL_ROLES:
        raise ValueError(f"unknown role {role!r}")
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=is_staff,
    )
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def totp_device_register(*, user: User) -> TOTPDevice:
    """Register a confirmed device directly (demo data and administrators' tooling)."""
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
