"""Field-level encryption of protected values: address lines, phones, emails,
employers, SSNs (safety invariant 2). See docs/decisions/0006-field-encryption.md.

- AES-256-GCM with a random 96-bit nonce per value. The stored token is
  ``sa1.<key id>.<base64url(nonce || ciphertext || tag)>``: every token names the
  key that sealed it, so older keys keep decrypting during rotation.
- The row identity is bound in as associated data (``table.column.primary key``):
  a token copied into another row or column fails to open.
- A model stores a protected value in a ``ProtectedField``, which holds a
  ``Sealed`` token, never plaintext: assigning a plain string raises, and a Sealed
  value prints as a mask. Plaintext exists only between ``seal()`` and
  ``reveal()``, which callers use deliberately (the reveal service records who).
- Anything wrong on the way out (unknown key id, tampered token, wrong row)
  raises ``ProtectedValueError`` and logs ids only, never the value.
- Exact lookup without decryption (SSN) uses a keyed blind index: HMAC-SHA256
  under a key derived from each field key, so rotation recomputes it too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.views.decorators.debug import sensitive_variables

log = logging.getLogger(__name__)

PREFIX = "sa1"
MASK = "••••••"
_NONCE_BYTES = 12


class ProtectedValueError(Exception):
    """A protected value could not be opened. The message carries ids only."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """An encrypted value as stored. Printing it shows a mask, never the value."""

    token: str

    @property
    def key_id(self) -> str:
        return self.token.split(".", 2)[1]

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"<Sealed key={self.key_id}>"


def _keys() -> dict[str, bytes]:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is not set.")
    return keys


def newest_key_id() -> str:
    return next(iter(_keys()))


def _context(instance: models.Model, field_name: str) -> bytes:
    if instance.pk is None:
        raise ProtectedValueError(
            f"{type(instance).__name__}.{field_name}: the row needs its id before sealing"
        )
    column = instance._meta.get_field(field_name).column
    return f"{instance._meta.db_table}.{column}.{instance.pk}".encode()


@sensitive_variables()
def seal_text(plaintext: str, context: bytes) -> Sealed:
    key_id = newest_key_id()
    nonce = os.urandom(_NONCE_BYTES)
    body = AESGCM(_keys()[key_id]).encrypt(nonce, plaintext.encode("utf-8"), context)
    encoded = base64.urlsafe_b64encode(nonce + body).rstrip(b"=").decode("ascii")
    return Sealed(f"{PREFIX}.{key_id}.{encoded}")


@sensitive_variables()
def open_text(sealed: Sealed, context: bytes) -> str:
    where = context.decode(errors="replace")
    try:
        prefix, key_id, encoded = sealed.token.split(".", 2)
        if prefix != PREFIX:
            raise ValueError("unknown format")
        key = _keys().get(key_id)
        if key is None:
            raise ProtectedValueError(f"{where}: sealed with unknown key id {key_id!r}")
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context)
        return plain.decode("utf-8")
    except ProtectedValueError:
        log.warning("protected value at %s: unknown key id", where)
        raise
    except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
        # Tampered, truncated, or moved from another row or column.
        log.warning("protected value at %s failed to open", where)
        raise ProtectedValueError(f"{where}: the protected value failed to open") from None


@sensitive_variables()
def seal(instance: models.Model, field_name: str, plaintext: str | None) -> None:
    """Encrypt ``plaintext`` into ``instance.<field_name>`` (blank stores NULL),
    and update the field's blind index if it has one."""
    field = instance._meta.get_field(field_name)
    if plaintext is None or plaintext == "":
        setattr(instance, field.attname, None)
        if field.blind_index:
            setattr(instance, field.blind_index, None)
        return
    setattr(instance, field.attname, seal_text(plaintext, _context(instance, field_name)))
    if field.blind_index:
        setattr(instance, field.blind_index, blind_index(field.normalize(plaintext)))


@sensitive_variables()
def reveal(instance: models.Model, field_name: str) -> str | None:
    """The plaintext of a protected field. Callers that show it to a person go
    through the reveal service, which records the access."""
    sealed = getattr(instance, instance._meta.get_field(field_name).attname)
    if sealed is None:
        return None
    return open_text(sealed, _context(instance, field_name))


@sensitive_variables()
def _index_key(field_key: bytes) -> bytes:
    return hmac.new(field_key, b"safe-access blind index v1", hashlib.sha256).digest()


@sensitive_variables()
def blind_index(normalized: str, key_id: str | None = None) -> str:
    """The keyed blind index of a normalized value under one key (the newest by default)."""
    key_id = key_id or newest_key_id()
    digest = hmac.new(_index_key(_keys()[key_id]), normalized.encode(), hashlib.sha256)
    return f"{key_id}:{digest.hexdigest()[:40]}"


def blind_index_candidates(normalized: str) -> list[str]:
    """The index values a stored row may carry (one per key still listed)."""
    return [blind_index(normalized, key_id) for key_id in _keys()]


def _as_sealed(value):
    if value is None or isinstance(value, Sealed):
        return value
    if isinstance(value, str) and value.startswith(PREFIX + "."):
        return Sealed(value)  # a stored token (fixtures, serialized test data)
    # Never let plaintext into a protected attribute, let alone the database.
    raise TypeError("protected fields hold sealed values; use safety.protected.seal()")


class _SealedOnlyAttribute:
    """Refuses plaintext at assignment, so a mistake fails where it is made."""

    def __init__(self, field):
        self.field = field

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return instance.__dict__.get(self.field.attname)

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = _as_sealed(value)


class ProtectedField(models.TextField):
    """A column holding a sealed token. Assign with ``seal()``; read with ``reveal()``."""

    description = "Encrypted protected value"

    def __init__(
        self,
        *args,
        blind_index: str | None = None,
        normalize: Callable[[str], str] | None = None,
        **kwargs,
    ):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        self.blind_index = blind_index
        self.normalize = normalize or (lambda value: value)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.blind_index:
            kwargs["blind_index"] = self.blind_index
        for key, default in (("null", True), ("blank", True), ("editable", False)):
            if kwargs.get(key, not default) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only)
        setattr(cls, self.attname, _SealedOnlyAttribute(self))

    def from_db_value(self, value, expression, connection):
        return None if value is None else Sealed(value)

    def to_python(self, value):
        return _as_sealed(value)

    def get_prep_value(self, value):
        sealed = _as_sealed(value)
        return None if sealed is None else sealed.token

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else value.token


def protected_fields(model: type[models.Model]) -> list[ProtectedField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, ProtectedField)]
