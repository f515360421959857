"""Sign-in: password, then a TOTP code (or enrolment of a first device), sign-out.

Messages never say whether a username exists: a wrong password, an unknown
username and an inactive account all get the same words, and lockout applies to
any username after the same number of failures.
"""

from __future__ import annotations

import io
import logging
from base64 import b64encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import services
from accounts.access import PASSWORD_STEP, PUBLIC, access
from accounts.audit import Kind as AuditKind
from accounts.audit import audit_record
from accounts.forms import OneTimeCodeForm, SignInForm
from accounts.middleware import SESSION_EXPIRED_FLAG

log = logging.getLogger(__name__)

OTP_FAILURES = "sa_otp_failures"
ENROLMENT_DEVICE = "sa_enrolment_device"


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def _with_next(url: str, nxt: str) -> str:
    """``url`` carrying ``next`` along, unless next is just the home page."""
    return url if nxt == reverse("home") else f"{url}?{urlencode({'next': nxt})}"


def _wrong_credentials_message() -> str:
    return _("The username or password is not correct. Check them and try again.")


def _locked_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return ngettext(
        "Too many failed sign-in attempts. For your security, sign-in for this username "
        "is paused for %(minutes)d minute. If you need help sooner, contact your "
        "supervisor or the help desk.",
        "Too many failed sign-in attempts. For your security, sign-in for this username "
        "is paused for %(minutes)d minutes. If you need help sooner, contact your "
        "supervisor or the help desk.",
        minutes,
    ) % {"minutes": minutes}


def _render_sign_in(request, form, status=200):
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )


def _known_user(username: str):
    """The account a failed sign-in named, for the audit record (never shown)."""
    from accounts.models import User

    return User.objects.filter(username__iexact=(username or "").strip()).first()


def lockout_response(request, original_response=None, credentials=None):
    """django-axes calls this when a locked username tries to sign in."""
    form = SignInForm(data=request.POST or None)
    form.is_valid()
    known = _known_user(form.cleaned_data.get("username", ""))
    audit_record(kind=AuditKind.SIGN_IN_LOCKED, actor=known, known_user=bool(known))
    form.add_error(None, _locked_message())
    return _render_sign_in(request, form, status=403)


@access(PUBLIC)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("password")
def sign_in(request):
    if request.user.is_authenticated and request.user.is_verified():
        return redirect(_next_url(request))
    if request.session.pop(SESSION_EXPIRED_FLAG, False):
        messages.warning(request, _("Your session has expired. Sign in again to continue."))
    form = SignInForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if user is not None:
            # Django's login() gives the session a new id (no fixation).
            login(request, user)
            audit_record(kind=AuditKind.SIGN_IN_FIRST_STEP, actor=user)
            log.info("password step passed for user %s", user.pk)
            return redirect(_with_next(reverse("accounts:otp"), _next_url(request)))
        known = _known_user(form.cleaned_data["username"])
        if getattr(request, "axes_locked_out", False):
            audit_record(kind=AuditKind.SIGN_IN_LOCKED, actor=known, known_user=bool(known))
            form.add_error(None, _locked_message())
            return _render_sign_in(request, form, status=403)
        audit_record(kind=AuditKind.SIGN_IN_FAILED, actor=known, known_user=bool(known))
        form.add_error(None, _wrong_credentials_message())
    return _render_sign_in(request, form)


def _otp_failed(request) -> bool:
    """Count a failed code; True when the session has used up its attempts."""
    failures = request.session.get(OTP_FAILURES, 0) + 1
    request.session[OTP_FAILURES] = failures
    log.info("one-time code rejected for user %s (%d)", request.user.pk, failures)
    return failures >= settings.OTP_FAILURE_LIMIT


def _otp_succeeded(request, device):
    otp_login(request, device)
    # A new session id once the second factor is passed, as after the password.
    request.session.cycle_key()
    request.session.pop(OTP_FAILURES, None)
    request.session.pop(ENROLMENT_DEVICE, None)
    audit_record(kind=AuditKind.SIGN_IN_VERIFIED, actor=request.user)
    log.info("second factor passed for user %s", request.user.pk)


def _too_many_codes(request):
    logout(request)
    messages.error(
        request,
        _(
            "Too many incorrect codes. For your security, you have been signed out. "
            "Sign in again to continue."
        ),
    )
    return redirect("accounts:login")


@access(PASSWORD_STEP)
@require_http_methods(["GET", "POST"])
def one_time_code(request):
    if request.user.is_verified():
        return redirect(_next_url(request))
    device = services.totp_device_confirmed(user=request.user)
    if device is None:
        return redirect(_with_next(reverse("accounts:enrol"), _next_url(request)))
    form = OneTimeCodeForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        result, device = services.totp_code_check(user=request.user, code=form.cleaned_data["code"])
        if result is services.CodeCheck.ACCEPTED:
            _otp_succeeded(request, device)
            return redirect(_next_url(request))
        if _otp_failed(request):
            return _too_many_codes(request)
        if result is services.CodeCheck.THROTTLED:
            form.add_error(
                "code",
                _(
                    "Too many incorrect codes in a row. Wait a minute, then enter the "
                    "current code from your authenticator app."
                ),
            )
        else:
            form.add_error(
                "code",
                _(
                    "That code is not valid or has already been used. Enter the current "
                    "code from your authenticator app."
                ),
            )
    return render(request, "accounts/otp.html", {"form": form, "next": _next_url(request)})


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + b64encode(buffer.getvalue()).decode("ascii")


@access(PASSWORD_STEP)
@require_http_methods(["GET", "POST"])
def enrol(request):
    if request.user.is_verified():
        return redirect(_next_url(request))
    try:
        device = services.totp_device_start_enrolment(
            user=request.user, pending_id=request.session.get(ENROLMENT_DEVICE)
        )
    except PermissionError:
        return redirect("accounts:otp")
    if request.method == "POST" and request.session.get(ENROLMENT_DEVICE) != device.pk:
        # The key this session showed is gone (set-up restarted elsewhere): show
        # the new key rather than check a code against a key the user never saw.
        request.session[ENROLMENT_DEVICE] = device.pk
        messages.warning(
            request,
            _("Setup was restarted. Add the new key below to your app, then enter its code."),
        )
        return redirect(_with_next(reverse("accounts:enrol"), _next_url(request)))
    request.session[ENROLMENT_DEVICE] = device.pk
    form = OneTimeCodeForm(data=request.POST or None, submit_label=_("Finish setup"))
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(
            user=request.user, device=device, code=form.cleaned_data["code"]
        ):
            device.refresh_from_db()
            _otp_succeeded(request, device)
            messages.success(request, _("Two-step sign-in is set up for your account."))
            return redirect(_next_url(request))
        if _otp_failed(request):
            return _too_many_codes(request)
        form.add_error(
            "code",
            _(
                "That code does not match the setup key. Check that the time on your "
                "phone is correct, then enter the current code."
            ),
        )
    secret = services.totp_secret_base32(device)
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "next": _next_url(request),
            "qr_data_uri": _qr_data_uri(device.config_url),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        },
    )


@access(PASSWORD_STEP)
@require_POST
def sign_out(request):
    audit_record(kind=AuditKind.SIGN_OUT, actor=request.user)
    logout(request)  # flushes the server-side session
    messages.success(request, _("You have signed out."))
    return redirect("accounts:login")
