"""Parsing of the field-encryption key list (FIELD_ENCRYPTION_KEYS).

Format: comma-separated ``key_id:base64url(32 random bytes)``, newest first. The
newest key encrypts; every listed key can decrypt, which is what lets
``rotate_encryption_keys`` (cases issue) move old values forward while the site
keeps serving. See docs/decisions/0003-secrets-and-field-keys.md.
"""

from __future__ import annotations

import base64
import binascii
import re

from django.core.exceptions import ImproperlyConfigured

KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def parse_field_keys(raw: str) -> dict[str, bytes]:
    """Return an ordered ``{key_id: key}`` mapping (newest first) or raise.

    Error messages name the position and key id, never key material.
    """
    keys: dict[str, bytes] = {}
    for position, item in enumerate(p.strip() for p in raw.split(",") if p.strip()):
        key_id, sep, encoded = item.partition(":")
        if not sep or not KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entry {position + 1} must look like 'keyid:base64key'."
            )
        try:
            key = base64.urlsafe_b64decode(encoded.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS key '{key_id}' is not valid base64."
            ) from None
        if len(key) != 32:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS key '{key_id}' must be 32 bytes (256 bits)."
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS repeats key id '{key_id}'.")
        keys[key_id] = key
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must list at least one key.")
    return keys
