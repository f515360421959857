"""Staff roles. Each role is a Django group created by a data migration.

What each role may do is in PRODUCT.md ("Users"); the access rules in
accounts/access.py name these constants, never raw strings.
"""

from django.utils.translation import gettext_lazy as _

CASEWORKER = "caseworker"
SUPERVISOR = "supervisor"
ADMINISTRATOR = "administrator"
AUDITOR = "auditor"

ALL_ROLES = (CASEWORKER, SUPERVISOR, ADMINISTRATOR, AUDITOR)

LABELS = {
    CASEWORKER: _("Caseworker"),
    SUPERVISOR: _("Supervisor"),
    ADMINISTRATOR: _("Administrator"),
    AUDITOR: _("Auditor"),
}
