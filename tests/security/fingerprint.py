"""One fingerprint of the whole database, to prove a request changed nothing."""

from __future__ import annotations

from django.db import connection

# Tables a refused request may legitimately add to or change: the audit trail
# (failed sign-ins and codes are recorded), sign-in throttling, sessions.
NOT_STATE = (
    "accounts_auditevent",
    "axes_accessattempt",
    "axes_accessfailurelog",
    "axes_accesslog",
    "django_session",
    "otp_totp_totpdevice",
)


def database_fingerprint() -> str:
    """An md5 of every row of every table but NOT_STATE, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
            "AND NOT (table_name = ANY(%s)) ORDER BY table_name",
            [list(NOT_STATE)],
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT '{t}', md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) "  # noqa: S608 (catalogue names)
                f'FROM "{t}" x'
                for t in tables
            )
        )
        return repr(sorted(cursor.fetchall()))
