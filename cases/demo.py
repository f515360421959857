"""Synthetic demo cases for `manage.py seed_demo` (never for production). Names,
places and numbers are obviously made up; SSNs come only from the never-issued
900-999 area."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from cases import services
from cases.models import Office, Remedy, RemedyKind, RemedyStatus, SupportOrder, Unit

FIRST = ["Alma", "Rosa", "Dana", "Lupe", "Kim", "Tess", "Nora", "Ines", "Mara", "Jo", "Rae", "Liv"]
OTHER = ["Bo", "Cal", "Dev", "Eli", "Gus", "Hal", "Ike", "Jed", "Kit", "Lou", "Max", "Ned"]
CHILD = ["Ari", "Bea", "Cy", "Dot", "Eve", "Fin", "Gil", "Hope", "Ivy", "Jax", "Kai", "Lee"]
LAST = [
    "Sample",
    "Demo-Rodriguez",
    "Example",
    "Testwell",
    "Placeholder",
    "Mockley",
    "Demo-Hernandez",
    "Fictional",
    "Specimen",
    "Dummyfield",
    "Pretendez",
    "Madeup",
]


def load(*, seed: int = 2026) -> int:
    """Create demo offices, a unit and cases for the demo staff. Returns the case count."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    staff = {
        u.username: u
        for u in User.objects.filter(username__in=["caseworker", "caseworker2", "supervisor"])
    }
    with transaction.atomic():
        north = Office.objects.create(
            code="DEMO-N", name="Demo North Office", county="Sample County"
        )
        south = Office.objects.create(
            code="DEMO-S", name="Demo South Office", county="Example County"
        )
        unit_a = Unit.objects.create(
            name="Demo Unit A", office=north, supervisor=staff.get("supervisor")
        )
        unit_b = Unit.objects.create(
            name="Demo Unit B", office=south, supervisor=staff.get("supervisor")
        )
        for unit in (unit_a, unit_b):
            unit.caseworkers.add(*[staff[n] for n in ("caseworker", "caseworker2") if n in staff])
        count = 0
        for i in range(18):
            worker = staff["caseworker"] if i < 12 else staff["caseworker2"]
            unit, office = (unit_a, north) if i % 3 else (unit_b, south)
            last = LAST[i % len(LAST)]
            opened = dt.date(2025, 1, 6) + dt.timedelta(days=17 * i)
            programs = rng.sample(
                ["program_tanf", "program_medicaid", "program_snap", "program_non_assistance"],
                k=rng.randint(1, 2),
            )
            people = [
                {
                    "role": "custodial_parent" if i % 7 else "caretaker",
                    "first_name": FIRST[i % 12],
                    "last_name": last,
                    "date_of_birth": dt.date(1985 + i % 10, 1 + i % 12, 1 + i % 27),
                    "ssn": f"9{i:02d}-{10 + i:02d}-{1000 + 37 * i:04d}",
                    "contacts": [
                        (
                            "residential",
                            f"{100 + i} Example Street\nSampletown, NM 87{i:03d}",
                            "self",
                        ),
                        ("phone", f"555-010-{i:04d}", "self"),
                    ],
                },
                {
                    "role": "noncustodial_parent" if i % 5 else "alleged_father",
                    "first_name": OTHER[i % 12],
                    "last_name": f"{last}son",
                    "date_of_birth": dt.date(1980 + i % 12, 1 + (i + 3) % 12, 1 + (i * 2) % 27),
                    "ssn": f"9{50 + i:02d}-{20 + i:02d}-{2000 + 41 * i:04d}",
                    "contacts": [
                        (
                            "employer",
                            f"Fictional Widgets Inc.\n{200 + i} Industry Way, Demotown, NM 87100",
                            "new_hire",
                        )
                    ],
                },
                {
                    "role": "child",
                    "first_name": CHILD[i % 12],
                    "last_name": last,
                    "date_of_birth": dt.date(2014 + i % 8, 1 + i % 12, 1 + i % 27),
                },
            ]
            case = services.case_open(
                user=worker,
                case_fields={
                    "number": f"DEMO-{2025 + i // 12}-{i + 1:04d}",
                    "office": office,
                    "unit": unit,
                    "opened_on": opened,
                    **{
                        p: p in programs
                        for p in (
                            "program_tanf",
                            "program_medicaid",
                            "program_snap",
                            "program_non_assistance",
                        )
                    },
                },
                people=people,
            )
            SupportOrder.objects.create(
                case=case,
                amount=Decimal(150 + 25 * (i % 9)),
                frequency="monthly",
                arrears=Decimal(300 * (i % 5)),
                court="Sample County District Court",
                order_date=opened + dt.timedelta(days=45),
            )
            for kind in rng.sample(list(RemedyKind.values), k=3):
                Remedy.objects.create(
                    case=case,
                    kind=kind,
                    status=RemedyStatus.PENDING,
                    next_action_on=opened + dt.timedelta(days=120),
                )
            if i % 4 == 0:
                from safety.models import FamilyViolenceIndicator

                FamilyViolenceIndicator.objects.create(
                    person=case.participants.get(role__in=["custodial_parent", "caretaker"]).person,
                    reason="dv_disclosed",
                    note="Synthetic demo flag.",
                    set_by=worker,
                )
            count += 1
        # Generate and gate the notices already due, so the supervisor's held-notice
        # review has real work in it (nothing is sent until a notice cycle runs).
        from safety import notices, pipeline

        pipeline.generate_due()
        notices.gate_pending()
    return count
