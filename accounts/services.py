"""Writes for staff accounts: MFA devices and demo staff."""

from __future__ import annotations

import enum
import logging
from base64 import b32encode
from binascii import unhexlify

from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.audit import Kind as AuditKind
from accounts.audit import audit_record
from accounts.models import User

log = logging.getLogger(__name__)

DEVICE_NAME = "Authenticator app"


def totp_device_confirmed(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def totp_device_start_enrolment(*, user: User, pending_id: int | None) -> TOTPDevice:
    """The pending (unconfirmed) device for this set-up, with a key only this
    session has seen.

    ``pending_id`` is the device this session started (kept in the session). Any
    other pending device of the user is deleted and a new one made with a fresh
    key, so a key someone else saw on the set-up page (say, whoever knew the first
    password) is never the one the owner confirms.

    Only a user with no confirmed device may enrol; replacing a device is an
    administrator's action (delete it in the admin), so a stolen password alone
    cannot swap in the attacker's authenticator.
    """
    if totp_device_confirmed(user=user) is not None:
        raise PermissionError("user already has a confirmed device")
    with transaction.atomic():
        # Lock the user's row: two first visits at once make one device, not two.
        User.objects.select_for_update().get(pk=user.pk)
        pending = TOTPDevice.objects.filter(user=user, confirmed=False)
        device = pending.filter(pk=pending_id).first() if pending_id else None
        if device is None:
            pending.delete()
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
            log.info("TOTP enrolment started for user %s (device %s)", user.pk, device.pk)
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


class CodeCheck(enum.Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    THROTTLED = "throttled"  # too many wrong codes in a row for the device


def totp_code_check(*, user: User, code: str) -> tuple[CodeCheck, TOTPDevice | None]:
    """Check a sign-in code against the user's confirmed device.

    The device row is locked for the check, so two attempts at once cannot both
    use one code (django-otp records the last code used on the row) and a failed
    attempt cannot write back a stale "last used" value.
    """
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("id")
            .first()
        )
        if device is None:
            result = CodeCheck.REJECTED
        elif not device.verify_is_allowed()[0]:
            result = CodeCheck.THROTTLED
        elif device.verify_token(code):
            return CodeCheck.ACCEPTED, device
        else:
            result = CodeCheck.REJECTED
        # Committed with the device's failure count, whatever the caller does next.
        audit_record(kind=AuditKind.OTP_FAILED, actor=user, result=result.name.lower())
    return result, device


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
    with transaction.atomic():
        user.save()
        user.groups.add(Group.objects.get(name=role))
        audit_record(kind="staff_created", staff=user.pk, roles_added=[role], is_staff=is_staff)
    return user


def totp_device_register(*, user: User) -> TOTPDevice:
    """Register a confirmed device directly (demo data and administrators' tooling)."""
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
