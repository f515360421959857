"""Synthetic demo staff, one or more of every role. Never used in production."""

DEMO_PASSWORD = "demo-Safe-Access-2026"  # noqa: S105 - a published demo password, not a secret

DEMO_STAFF = [
    # username, role, first name, last name, Django-admin access
    ("caseworker", "caseworker", "Casey", "Demo-Worker", False),
    ("caseworker2", "caseworker", "Jordan", "Demo-Worker", False),
    ("supervisor", "supervisor", "Sam", "Demo-Supervisor", False),
    ("admin", "administrator", "Alex", "Demo-Admin", True),
    ("auditor", "auditor", "Avery", "Demo-Auditor", False),
]
