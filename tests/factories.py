"""factory-boy factories. Synthetic data only."""

import factory
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

TEST_PASSWORD = "correct-horse-battery-9"  # test-only


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n:04d}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Synthetic{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@test.invalid")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            # get_or_create: a transactional (browser) test empties every table,
            # including the role groups the data migration made.
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])

    @factory.post_generation
    def device(self, create, extracted, **kwargs):
        # A confirmed TOTP device unless device=False.
        if create and extracted is not False:
            TOTPDevice.objects.create(user=self, name="Authenticator app", confirmed=True)


# --- Cases (synthetic people and places only) ------------------------------------
import datetime as _dt  # noqa: E402
from decimal import Decimal  # noqa: E402

from cases import models as case_models  # noqa: E402
from safety import protected  # noqa: E402


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = case_models.Office
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"OF{n:03d}")
    name = factory.Sequence(lambda n: f"Synthetic County Office {n}")
    county = factory.Sequence(lambda n: f"Testshire {n % 3}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = case_models.Unit

    name = factory.Sequence(lambda n: f"Unit {n}")
    office = factory.SubFactory(OfficeFactory)
    supervisor = None


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = case_models.Person
        skip_postgeneration_save = True

    first_name = factory.Sequence(lambda n: f"Testfirst{n}")
    last_name = factory.Sequence(lambda n: f"Testlast{n}")
    date_of_birth = _dt.date(1988, 4, 28)

    @factory.post_generation
    def ssn(self, create, extracted, **kwargs):
        # SSNs only from the never-issued 9xx area.
        if create and extracted:
            protected.seal(self, "ssn", extracted)
            self.save(update_fields=["ssn", "ssn_index"])


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = case_models.Case

    number = factory.Sequence(lambda n: f"TC-{n:06d}")
    unit = factory.SubFactory(UnitFactory)
    office = factory.SelfAttribute("unit.office")
    caseworker = None
    opened_on = _dt.date(2025, 3, 1)
    program_tanf = True


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = case_models.Participant

    case = factory.SubFactory(CaseFactory)
    person = factory.SubFactory(PersonFactory)
    role = case_models.ParticipantRole.CUSTODIAL_PARENT


def contact_point(person, text: str, kind=case_models.ContactKind.RESIDENTIAL, **fields):
    point = case_models.ContactPoint(
        person=person,
        kind=kind,
        **fields,
        valid_from=_dt.date(2026, 1, 1),
        source=case_models.ContactSource.SELF_REPORTED,
    )
    protected.seal(point, "value", text)
    point.save()
    return point


def full_case(
    *,
    caseworker=None,
    unit=None,
    cp_last_name="Testlast",
    address="1 Synthetic Way",
    ssn="900-55-1234",
):
    """A case with a custodial parent (with an address), an NCP, a child, an order
    and two remedies."""
    case = CaseFactory(caseworker=caseworker, **({"unit": unit} if unit else {}))
    cp = PersonFactory(last_name=cp_last_name, ssn=ssn)
    ParticipantFactory(case=case, person=cp, role=case_models.ParticipantRole.CUSTODIAL_PARENT)
    ParticipantFactory(case=case, role=case_models.ParticipantRole.NONCUSTODIAL_PARENT)
    ParticipantFactory(case=case, role=case_models.ParticipantRole.CHILD)
    contact_point(cp, address)
    case_models.SupportOrder.objects.create(
        case=case,
        amount=Decimal("350.00"),
        frequency="monthly",
        arrears=Decimal("1200.00"),
        court="Synthetic County Family Court",
        order_date=_dt.date(2025, 5, 1),
    )
    for kind in ("income_withholding", "passport_denial"):
        case_models.Remedy.objects.create(case=case, kind=kind, status="pending")
    return case
