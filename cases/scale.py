"""Synthetic cases at state scale, for benchmarks (``manage.py seed_scale``).

Not demo data and never for ``make run`` or production: the command refuses unless
``DEMO_TOOLS`` is on. Everything is synthetic and looks it: SSNs come only from the
never-issued area numbers 900-999, addresses are on "Synthetic Way" in "Testville",
phones are in the 555-0100..0199 range set aside for fiction, emails end in
``.invalid``, employers and courts say "(synthetic)".

Speed: rows are made in Python a chunk of cases at a time and loaded with
PostgreSQL ``COPY`` (psycopg 3), one transaction per chunk, so a million cases
load in minutes and an interrupted run keeps the chunks it finished. With
``pipeline`` (the command's default) a second connection loads one chunk while the
next is made, so Python and PostgreSQL each keep a core busy.

- Persons and contact points have UUID keys made here, so their protected values
  are sealed here too, with the row id bound in exactly as ``safety.protected``
  does (``table.column.pk``); the SSN's blind index likewise.
- Case ids are taken from the table's own sequence (``nextval`` for the chunk),
  because participants, orders, remedies and events point at them. Those other
  tables are loaded without an id and take their sequence default. Either way the
  sequences stay consistent with the rows, and ordinary ORM creates keep working.
- Case numbers are ``SC-`` and nine digits, continuing from the highest ``SC-``
  number already stored; an advisory lock keeps two runs from racing for them.
- ``seed`` makes names, dates, roles and counts reproducible; ids and the sealed
  tokens (random nonces) differ each run.
"""

from __future__ import annotations

import queue
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, models, transaction
from django.db.models import Max
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from psycopg import sql

from accounts import roles, services
from accounts.models import User
from cases.models import (
    Case,
    CaseEvent,
    CaseStatus,
    ContactKind,
    ContactPoint,
    ContactSource,
    Frequency,
    Language,
    Office,
    Participant,
    ParticipantRole,
    Person,
    Remedy,
    RemedyKind,
    RemedyStatus,
    SupportOrder,
    Unit,
)
from safety.protected import blind_index, seal_text

NUMBER_PREFIX = "SC-"
NUMBER_DIGITS = 9
# Slots per case for SSN ordinals: custodial party, noncustodial parent, 3 children.
PERSON_SLOTS = 5
CARETAKER_SHARE = 0.05
# A session-level advisory lock: one seed_scale run at a time per database.
_LOCK_KEY = 0x5CA1E5EED

# --- Staff and offices ------------------------------------------------------

OFFICES = (
    # code, name, county
    ("SCALE-N", "North Synthetic Office", "Northtest County"),
    ("SCALE-S", "South Synthetic Office", "Southtest County"),
    ("SCALE-E", "East Synthetic Office", "Easttest County"),
    ("SCALE-W", "West Synthetic Office", "Westtest County"),
)
UNIT_NAMES = ("Scale Unit A", "Scale Unit B")
DEFAULT_CASEWORKERS = 40

# --- Names ------------------------------------------------------------------

FIRST_NAMES = (
    "Alex", "Avery", "Blake", "Casey", "Dana", "Drew", "Elliot", "Emery", "Finley",
    "Harper", "Hayden", "Jamie", "Jesse", "Jordan", "Kai", "Kendall", "Logan", "Morgan",
    "Parker", "Peyton", "Quinn", "Reese", "Riley", "Rowan", "Sage", "Skyler", "Taylor",
    "Ana", "Carlos", "Diego", "Elena", "Javier", "Lucia", "Mateo", "Maria", "Sofia",
    "Luis", "Camila", "Andres", "Valeria",
)  # fmt: skip
# Common surnames with Spanish roots: name search must handle them (and their typos).
HISPANIC_SURNAMES = (
    "Rodriguez", "Gonzalez", "Hernandez", "Martinez", "Lopez", "Garcia", "Perez",
    "Sanchez", "Ramirez", "Torres", "Flores", "Rivera", "Gomez", "Diaz", "Morales",
    "Gutierrez", "Ortiz", "Jimenez", "Ruiz", "Alvarez", "Castillo", "Vasquez",
)  # fmt: skip
# The first three come up three times as often as the rest, as in real caseloads.
_HISPANIC_WEIGHTS = tuple(3 if i < 3 else 1 for i in range(len(HISPANIC_SURNAMES)))
HISPANIC_SHARE = 0.18
TESTPERSON_SHARE = 0.04
# Made-up surnames from syllables (22 x 7 x 16 = 2,464 of them): a realistic
# spread of near neighbours for trigram search, none of them a real family's.
_SYLLABLES_HEAD = (
    "Ash", "Bram", "Cal", "Dun", "El", "Fen", "Gar", "Hal", "Kel", "Lin", "Mor", "Nor",
    "Os", "Pem", "Quil", "Ros", "Sel", "Thorn", "Ul", "Ver", "Wal", "Yar",
)  # fmt: skip
_SYLLABLES_MID = ("", "a", "en", "er", "i", "o", "ing")
_SYLLABLES_TAIL = (
    "by", "croft", "den", "field", "ford", "gate", "ham", "ley", "more", "ridge",
    "son", "ston", "ton", "well", "wick", "worth",
)  # fmt: skip
SYLLABLE_SURNAMES = tuple(
    (head + mid + tail).capitalize()
    for head in _SYLLABLES_HEAD
    for mid in _SYLLABLES_MID
    for tail in _SYLLABLES_TAIL
)

# --- Contact details (all synthetic) -------------------------------------------

STREETS = (
    "Synthetic Way", "Sample Street", "Placeholder Avenue", "Testing Road",
    "Fixture Lane", "Mock Court", "Example Boulevard", "Dummy Drive",
)  # fmt: skip
EMPLOYERS = (
    "Testco Manufacturing", "Sample Foods", "Example Logistics", "Placeholder Health",
    "Synthetic Retail", "Mockingbird Construction", "Fixture Services", "Demo Warehousing",
)  # fmt: skip
AREA_CODES = ("201", "312", "415", "505", "617", "702", "808", "915")
CONTACT_SOURCES = {
    ContactKind.MAILING: (ContactSource.SELF_REPORTED, ContactSource.OTHER_AGENCY),
    ContactKind.RESIDENTIAL: (
        ContactSource.SELF_REPORTED,
        ContactSource.OTHER_PARENT,
        ContactSource.COURT,
        ContactSource.OTHER_AGENCY,
    ),
    ContactKind.EMPLOYER: (ContactSource.NEW_HIRE, ContactSource.EMPLOYER),
    ContactKind.PHONE: (ContactSource.SELF_REPORTED, ContactSource.OTHER_PARENT),
    ContactKind.EMAIL: (ContactSource.SELF_REPORTED,),
}
# Which contact points a custodial party / noncustodial parent has, and how often.
CUSTODIAL_CONTACTS = (
    (ContactKind.MAILING, 1.0),
    (ContactKind.PHONE, 0.9),
    (ContactKind.EMAIL, 0.7),
)
NONCUSTODIAL_CONTACTS = (
    (ContactKind.RESIDENTIAL, 0.8),
    (ContactKind.PHONE, 0.7),
    (ContactKind.EMPLOYER, 0.6),
)
REMEDY_KINDS = tuple(RemedyKind.values)
FREQUENCIES = tuple(Frequency.values)
_FREQUENCY_WEIGHTS = (15, 20, 10, 55)  # weekly, biweekly, semimonthly, monthly
_SSN_SPACE = 100 * 99 * 9999  # areas 900-999, groups 01-99, serials 0001-9999
_SSN_STRIDE = 7919  # a prime coprime to _SSN_SPACE: ordinal -> SSN is one-to-one


class SeedScaleError(Exception):
    """The scale data cannot be loaded (another run holds the lock, a model changed)."""


@dataclass(frozen=True, slots=True)
class Assignment:
    office_id: int
    unit_id: int
    caseworker_id: int
    county: str


@dataclass
class ScaleResult:
    cases: int = 0
    persons: int = 0
    participants: int = 0
    contact_points: int = 0
    orders: int = 0
    remedies: int = 0
    events: int = 0
    first_number: str = ""
    last_number: str = ""
    generate_seconds: float = 0.0
    load_seconds: float = 0.0
    seconds: float = 0.0  # loading cases, after set-up
    setup_seconds: float = 0.0  # staff and offices (password hashing on the first run)

    @property
    def rate(self) -> float:
        """Cases per second, set-up aside."""
        return self.cases / self.seconds if self.seconds else 0.0


# --- Tables loaded with COPY -------------------------------------------------


@dataclass(frozen=True)
class _Table:
    model: type[models.Model]
    fields: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [self.model._meta.get_field(name).column for name in self.fields]

    def statement(self) -> sql.Composed:
        return sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.model._meta.db_table),
            sql.SQL(", ").join(sql.Identifier(column) for column in self.columns),
        )

    def check(self) -> None:
        """Fail early and by name if the model gained a column this loader would
        leave NULL, rather than midway through a million-case run."""
        given = set(self.columns)
        missing = [
            f.column
            for f in self.model._meta.concrete_fields
            if f.column not in given and not f.null and not f.primary_key and not f.has_db_default()
        ]
        if missing:
            raise SeedScaleError(
                f"{self.model._meta.label} has columns seed_scale does not fill: "
                f"{', '.join(missing)} (update cases/scale.py)"
            )


CASES = _Table(
    Case,
    (
        "id", "number", "office", "unit", "caseworker", "status", "program_tanf",
        "program_medicaid", "program_snap", "program_iv_e", "program_non_assistance",
        "opened_on", "closed_on", "created_at", "updated_at",
    ),
)  # fmt: skip
PERSONS = _Table(
    Person,
    (
        "id", "first_name", "middle_name", "last_name", "date_of_birth", "ssn",
        "ssn_index", "preferred_language", "created_at",
    ),
)  # fmt: skip
PARTICIPANTS = _Table(Participant, ("case", "person", "role", "added_at"))
CONTACT_POINTS = _Table(
    ContactPoint,
    ("id", "person", "kind", "value", "valid_from", "valid_to", "source", "created_by",
     "created_at"),
)  # fmt: skip
ORDERS = _Table(SupportOrder, ("case", "amount", "frequency", "arrears", "court", "order_date"))
REMEDIES = _Table(Remedy, ("case", "kind", "status", "next_action_on"))
EVENTS = _Table(CaseEvent, ("case", "kind", "actor", "detail", "created_at"))
TABLES = (CASES, PERSONS, PARTICIPANTS, CONTACT_POINTS, ORDERS, REMEDIES, EVENTS)


def _context_prefix(model: type[models.Model], field_name: str) -> str:
    # The associated data safety.protected binds in: "table.column." + primary key.
    return f"{model._meta.db_table}.{model._meta.get_field(field_name).column}."


@dataclass
class Chunk:
    """The rows of one chunk of cases, in COPY column order per table."""

    rows: dict[_Table, list[tuple]] = field(default_factory=lambda: {t: [] for t in TABLES})

    def count(self, table: _Table) -> int:
        return len(self.rows[table])


# --- Staff and offices ---------------------------------------------------------


def _scale_user(*, username: str, role: str, last_name: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = services.staff_create(
            username=username,
            password=secrets.token_urlsafe(32),
            role=role,
            first_name="Scale",
            last_name=last_name,
            email=f"{username}@scale.invalid",
        )
        # Nobody signs in as these accounts (no password, no TOTP device).
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def scale_staff_ensure(*, caseworkers: int = DEFAULT_CASEWORKERS) -> list[Assignment]:
    """The synthetic offices, units, supervisors and caseworkers cases go to.

    Made on first use and found again later (by office code, unit name, username),
    so repeated runs share them. Caseworker ``i`` works in unit ``i mod units``.
    """
    if caseworkers < 1:
        raise ValueError("at least one caseworker")
    with transaction.atomic():
        units = []
        for o, (code, name, county) in enumerate(OFFICES):
            office, _ = Office.objects.get_or_create(
                code=code, defaults={"name": name, "county": county}
            )
            for u, unit_name in enumerate(UNIT_NAMES):
                number = o * len(UNIT_NAMES) + u + 1
                supervisor = _scale_user(
                    username=f"scale-sup-{number:02d}",
                    role=roles.SUPERVISOR,
                    last_name=f"Testsupervisor{number:02d}",
                )
                unit, _ = Unit.objects.get_or_create(
                    office=office, name=unit_name, defaults={"supervisor": supervisor}
                )
                units.append((office, unit))
        assignments = []
        for i in range(caseworkers):
            office, unit = units[i % len(units)]
            worker = _scale_user(
                username=f"scale-cw-{i + 1:03d}",
                role=roles.CASEWORKER,
                last_name=f"Testworker{i + 1:03d}",
            )
            unit.caseworkers.add(worker)
            assignments.append(Assignment(office.pk, unit.pk, worker.pk, office.county))
    return assignments


# --- Generation ----------------------------------------------------------------


def case_number(seq: int) -> str:
    return f"{NUMBER_PREFIX}{seq:0{NUMBER_DIGITS}d}"


def synthetic_ssn(ordinal: int) -> str:
    """A never-issued SSN (area 900-999), nine digits, one-to-one in ``ordinal``
    for ordinals below 98,990,100 (so for case numbers below 19.8 million)."""
    index = (ordinal * _SSN_STRIDE) % _SSN_SPACE
    area, rest = divmod(index, 99 * 9999)
    group, serial = divmod(rest, 9999)
    return f"{900 + area}{group + 1:02d}{serial + 1:04d}"


def surname_pick(rng: random.Random) -> str:
    r = rng.random()
    if r < HISPANIC_SHARE:
        return rng.choices(HISPANIC_SURNAMES, weights=_HISPANIC_WEIGHTS)[0]
    if r < HISPANIC_SHARE + TESTPERSON_SHARE:
        return "Testperson"
    return rng.choice(SYLLABLE_SURNAMES)


class _Builder:
    """Makes the rows of a chunk. One per run: holds the per-run constants."""

    def __init__(self, *, rng: random.Random, assignments: Sequence[Assignment], today: date):
        self.rng = rng
        self.assignments = assignments
        self.today = today
        self.ssn_context = _context_prefix(Person, "ssn")
        self.contact_context = _context_prefix(ContactPoint, "value")
        self.normalize_ssn = Person._meta.get_field("ssn").normalize
        self.today_ord = today.toordinal()
        self.now = timezone.now()

    def _date_between(self, start: date, end: date) -> date:
        return date.fromordinal(self.rng.randint(start.toordinal(), end.toordinal()))

    def _years_ago(self, low: int, high: int) -> date:
        return date.fromordinal(self.today_ord - self.rng.randint(low * 365, high * 365))

    def _person(
        self, chunk: Chunk, *, ordinal: int, last_name: str, born: date, ssn_share: float
    ) -> uuid.UUID:
        rng = self.rng
        pid = uuid.uuid4()
        middle = rng.choice(FIRST_NAMES) if rng.random() < 0.3 else ""
        ssn = ssn_index = None
        if rng.random() < ssn_share:
            plain = synthetic_ssn(ordinal)
            ssn = seal_text(plain, f"{self.ssn_context}{pid}".encode()).token
            ssn_index = blind_index(self.normalize_ssn(plain))
        spanish = rng.random() < (0.45 if last_name in HISPANIC_SURNAMES else 0.05)
        language = Language.SPANISH if spanish else Language.ENGLISH
        chunk.rows[PERSONS].append(
            (
                pid,
                rng.choice(FIRST_NAMES),
                middle,
                last_name,
                born,
                ssn,
                ssn_index,
                language,
                self.now,
            )
        )
        return pid

    def _contacts(
        self,
        chunk: Chunk,
        *,
        person: uuid.UUID,
        last_name: str,
        seq: int,
        since: date,
        by: int,
        kinds: Sequence[tuple[str, float]],
    ) -> None:
        rng = self.rng
        for kind, share in kinds:
            if rng.random() >= share:
                continue
            if kind == ContactKind.PHONE:
                value = self._phone()
            elif kind == ContactKind.EMAIL:
                value = f"{last_name.lower()}.{seq}@example.invalid"
            elif kind == ContactKind.EMPLOYER:
                value = self._employer()
            else:
                value = self._address()
            cid = uuid.uuid4()
            token = seal_text(value, f"{self.contact_context}{cid}".encode()).token
            source = rng.choice(CONTACT_SOURCES[kind])
            chunk.rows[CONTACT_POINTS].append(
                (cid, person, kind, token, since, None, source, by, self.now)
            )

    def _address(self) -> str:
        rng = self.rng
        apartment = f", Apt {rng.randint(1, 40)}" if rng.random() < 0.3 else ""
        return (
            f"{rng.randint(1, 9999)} {rng.choice(STREETS)}{apartment}, "
            f"Testville, XX 00{rng.randint(0, 999):03d}"
        )

    def _phone(self) -> str:
        return f"({self.rng.choice(AREA_CODES)}) 555-01{self.rng.randint(0, 99):02d}"

    def _employer(self) -> str:
        rng = self.rng
        return (
            f"{rng.choice(EMPLOYERS)} (synthetic), {rng.randint(1, 999)} Industry Road, Testville"
        )

    def build(self, *, seqs: Sequence[int], case_ids: Sequence[int], now: datetime) -> Chunk:
        rng = self.rng
        self.now = now
        today = self.today
        chunk = Chunk()
        cases, participants = chunk.rows[CASES], chunk.rows[PARTICIPANTS]
        orders, remedies, events = chunk.rows[ORDERS], chunk.rows[REMEDIES], chunk.rows[EVENTS]
        for seq, case_id in zip(seqs, case_ids, strict=True):
            where = rng.choice(self.assignments)
            worker = where.caseworker_id
            opened = self._years_ago(0, 15) - timedelta(days=30)
            roll = rng.random()
            if roll < 0.05:
                status, closed = CaseStatus.CLOSED, self._date_between(opened, today)
            elif roll < 0.08:
                status, closed = CaseStatus.PAUSED, None
            else:
                status, closed = CaseStatus.OPEN, None
            tanf = rng.random() < 0.25
            iv_e = rng.random() < 0.02
            cases.append(
                (
                    case_id,
                    case_number(seq),
                    where.office_id,
                    where.unit_id,
                    worker,
                    status,
                    tanf,
                    rng.random() < 0.5,
                    rng.random() < 0.35,
                    iv_e,
                    not (tanf or iv_e) and rng.random() < 0.7,
                    opened,
                    closed,
                    now,
                    now,
                )
            )

            # People. The first case of each chunk is a Rodriguez family, so a
            # name search for "Rodrigez" always has a true match to find.
            ordinal = seq * PERSON_SLOTS
            family = "Rodriguez" if case_id == case_ids[0] else surname_pick(rng)
            other_family = surname_pick(rng)
            caretaker = rng.random() < CARETAKER_SHARE
            if caretaker:
                custodial_role, custodial_born = ParticipantRole.CARETAKER, self._years_ago(45, 75)
            else:
                custodial_role, custodial_born = (
                    ParticipantRole.CUSTODIAL_PARENT,
                    self._years_ago(19, 50),
                )
            custodial = self._person(
                chunk, ordinal=ordinal, last_name=family, born=custodial_born, ssn_share=0.97
            )
            noncustodial = self._person(
                chunk,
                ordinal=ordinal + 1,
                last_name=other_family,
                born=self._years_ago(19, 55),
                ssn_share=0.9,
            )
            participants.append((case_id, custodial, custodial_role, now))
            participants.append((case_id, noncustodial, ParticipantRole.NONCUSTODIAL_PARENT, now))
            for slot in range(rng.choices((1, 2, 3), weights=(50, 35, 15))[0]):
                child = self._person(
                    chunk,
                    ordinal=ordinal + 2 + slot,
                    last_name=family if rng.random() < 0.7 else other_family,
                    born=self._years_ago(0, 17),
                    ssn_share=0.85,
                )
                participants.append((case_id, child, ParticipantRole.CHILD, now))

            # Where the custodial party and the noncustodial parent can be reached.
            since = opened - timedelta(days=rng.randint(0, 700))
            self._contacts(
                chunk, person=custodial, last_name=family, seq=seq, since=since, by=worker,
                kinds=CUSTODIAL_CONTACTS,
            )  # fmt: skip
            self._contacts(
                chunk, person=noncustodial, last_name=other_family, seq=seq, since=since,
                by=worker, kinds=NONCUSTODIAL_CONTACTS,
            )  # fmt: skip

            # The order, what enforcement is pending, and the timeline's first entry.
            arrears = 0 if rng.random() < 0.3 else rng.randint(1, 2_500_000)
            orders.append(
                (
                    case_id,
                    Decimal(rng.randint(2500, 150_000)).scaleb(-2),
                    rng.choices(FREQUENCIES, weights=_FREQUENCY_WEIGHTS)[0],
                    Decimal(arrears).scaleb(-2),
                    f"{where.county} Family Court (synthetic)",
                    min(opened + timedelta(days=rng.randint(0, 365)), today),
                )
            )
            if status != CaseStatus.CLOSED:
                for kind in rng.sample(REMEDY_KINDS, rng.randint(1, 3)):
                    due = date.fromordinal(self.today_ord + rng.randint(-30, 120))
                    remedies.append((case_id, kind, RemedyStatus.PENDING, due))
            events.append((case_id, CaseEvent.Kind.OPENED, worker, "{}", now))
        return chunk


def chunk_build(
    *,
    rng: random.Random,
    assignments: Sequence[Assignment],
    seqs: Sequence[int],
    case_ids: Sequence[int],
    today: date,
    now: datetime,
) -> Chunk:
    """The rows for cases numbered ``seqs`` with ids ``case_ids`` (no database use)."""
    builder = _Builder(rng=rng, assignments=assignments, today=today)
    return builder.build(seqs=seqs, case_ids=case_ids, now=now)


# --- Loading -------------------------------------------------------------------


def _raw_cursor(cursor):
    return cursor.cursor  # Django's CursorWrapper around the psycopg cursor


def _copy(cursor, table: _Table, rows: list[tuple]) -> None:
    if not rows:
        return
    with _raw_cursor(cursor).copy(table.statement()) as copy:
        write = copy.write_row
        for row in rows:
            write(row)


def _next_case_seq() -> int:
    """One past the highest ``SC-`` number stored (1 on an empty table)."""
    highest = Case.objects.filter(
        number__regex=rf"^{NUMBER_PREFIX}[0-9]{{{NUMBER_DIGITS}}}$"
    ).aggregate(
        highest=Max(Cast(Substr("number", len(NUMBER_PREFIX) + 1), models.BigIntegerField()))
    )["highest"]
    return (highest or 0) + 1


def _case_ids(n: int) -> list[int]:
    """``n`` ids from the case table's own sequence, so the ORM's next id follows them.
    (``nextval`` is not transactional: a chunk that fails leaves a gap, nothing worse.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [Case._meta.db_table, Case._meta.pk.column, n],
        )
        return [row[0] for row in cursor.fetchall()]


def chunk_load(chunk: Chunk) -> None:
    """COPY a chunk's rows in, parents before children, in the caller's transaction."""
    with connection.cursor() as cursor:
        for table in TABLES:
            _copy(cursor, table, chunk.rows[table])


def analyze() -> None:
    """Fresh planner statistics for the loaded tables (benchmarks query at once)."""
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute("ANALYZE " + connection.ops.quote_name(table.model._meta.db_table))


class _Run:
    """Commits chunks and keeps the tally (from the loader thread when pipelined)."""

    def __init__(self, *, total: int, progress: Callable[[ScaleResult, int], None] | None):
        self.result = ScaleResult()
        self.total = total
        self.progress = progress
        self.started = time.perf_counter()

    def commit(self, chunk: Chunk, last_number: str) -> None:
        t0 = time.perf_counter()
        with transaction.atomic():
            chunk_load(chunk)
        result = self.result
        result.load_seconds += time.perf_counter() - t0
        result.cases += chunk.count(CASES)
        result.persons += chunk.count(PERSONS)
        result.participants += chunk.count(PARTICIPANTS)
        result.contact_points += chunk.count(CONTACT_POINTS)
        result.orders += chunk.count(ORDERS)
        result.remedies += chunk.count(REMEDIES)
        result.events += chunk.count(EVENTS)
        result.last_number = last_number
        result.seconds = time.perf_counter() - self.started
        if self.progress is not None:
            self.progress(result, self.total)


class _Loader(threading.Thread):
    """Loads chunks on its own database connection while the next one is made:
    PostgreSQL (index upkeep, foreign-key checks) and Python then use a core each."""

    def __init__(self, run: _Run):
        super().__init__(name="seed-scale-loader", daemon=True)
        self.run_ = run
        self.queue: queue.Queue[tuple[Chunk, str] | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.stopping = False

    def run(self) -> None:
        try:
            while (item := self.queue.get()) is not None:
                if self.error is None and not self.stopping:
                    try:
                        self.run_.commit(*item)
                    except BaseException as exc:  # handed to the main thread
                        self.error = exc
        finally:
            connection.close()  # this thread's own connection

    def submit(self, chunk: Chunk, last_number: str) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((chunk, last_number))

    def finish(self, *, abandon: bool) -> None:
        self.stopping = abandon
        self.queue.put(None)
        self.join()
        if self.error is not None and not abandon:
            raise self.error


def seed_cases(
    *,
    cases: int,
    chunk_size: int = 10_000,
    seed: int | None = None,
    caseworkers: int = DEFAULT_CASEWORKERS,
    pipeline: bool = False,
    progress: Callable[[ScaleResult, int], None] | None = None,
) -> ScaleResult:
    """Load ``cases`` synthetic cases, one transaction per chunk of ``chunk_size``.

    ``pipeline`` loads each chunk on a second connection while the next is made
    (about a third faster on two cores); it needs autocommit, so not inside a
    transaction (nor a test's). ``progress(result_so_far, total)`` is called after
    each chunk commits (from the loader thread when pipelined).
    """
    if cases < 1:
        raise ValueError("cases must be at least 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    if connection.vendor != "postgresql":
        raise SeedScaleError("seed_scale loads with PostgreSQL COPY")
    if pipeline and connection.in_atomic_block:
        # The loader's connection could not see rows this transaction has not committed.
        raise SeedScaleError("pipeline=True needs autocommit (not inside a transaction)")
    for table in TABLES:
        table.check()

    setup_started = time.perf_counter()
    # Not for security: synthetic test data, reproducible from the seed.
    rng = random.Random(seed)  # noqa: S311
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise SeedScaleError("another seed_scale run is loading this database")
    try:
        assignments = scale_staff_ensure(caseworkers=caseworkers)
        builder = _Builder(rng=rng, assignments=assignments, today=timezone.localdate())
        next_seq = _next_case_seq()
        run = _Run(total=cases, progress=progress)  # the rate is of loading, not set-up
        result = run.result
        result.setup_seconds = run.started - setup_started
        result.first_number = case_number(next_seq)
        loader = _Loader(run) if pipeline else None
        if loader is not None:
            loader.start()
        finished = False
        try:
            for start in range(0, cases, chunk_size):
                n = min(chunk_size, cases - start)
                seqs = range(next_seq + start, next_seq + start + n)
                case_ids = _case_ids(n)
                t0 = time.perf_counter()
                chunk = builder.build(seqs=seqs, case_ids=case_ids, now=timezone.now())
                result.generate_seconds += time.perf_counter() - t0
                if loader is not None:
                    loader.submit(chunk, case_number(seqs[-1]))
                else:
                    run.commit(chunk, case_number(seqs[-1]))
            finished = True
        finally:
            if loader is not None:
                # On an error or Ctrl-C here, chunks not yet loaded are dropped.
                loader.finish(abandon=not finished)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
    result.seconds = time.perf_counter() - run.started
    return result


# A deterministic mix of every hold source over a seeded database (benchmarks and
# the fault suite): reviews on 90% of cases (1 in 7 with concerns), FVIs on 1 in
# 20 custodial parents, good-cause claims, court holds, survivor pauses and
# per-remedy plan entries. Cases with no caseworker are left unscreened.
HOLD_MIX = """

INSERT INTO safety_safetyreview (case_id, outcome, reviewed_by_id, reviewed_at)
SELECT c.id, CASE WHEN c.id % 7 = 0 THEN 'concerns' ELSE 'no_concerns' END,
       c.caseworker_id, now()
  FROM cases_case c WHERE c.id % 10 <> 0 AND c.caseworker_id IS NOT NULL;
INSERT INTO safety_familyviolenceindicator (person_id, reason, note, set_by_id, set_at)
SELECT p.person_id, 'dv_disclosed', '', c.caseworker_id, now()
  FROM cases_participant p JOIN cases_case c ON c.id = p.case_id
 WHERE c.id % 20 = 0 AND p.role = 'custodial_parent' AND c.caseworker_id IS NOT NULL;
INSERT INTO safety_goodcauseclaim (case_id, claimant_id, status, filed_at)
SELECT p.case_id, p.person_id, 'pending', now()
  FROM cases_participant p WHERE p.case_id % 50 = 1 AND p.role = 'custodial_parent';
INSERT INTO safety_courtorderhold (case_id, remedy, ordered_on, note, recorded_by_id)
SELECT c.id, '', current_date - 30, '', c.caseworker_id
  FROM cases_case c WHERE c.id % 100 = 2 AND c.caseworker_id IS NOT NULL;
INSERT INTO safety_safetyplan (case_id, pause_requested_at, closure_requested_at,
                               updated_by_id, updated_at)
SELECT c.id, CASE WHEN c.id % 100 = 3 THEN now() END, NULL, c.caseworker_id, now()
  FROM cases_case c WHERE (c.id % 100 = 3 OR c.id % 25 = 4) AND c.caseworker_id IS NOT NULL;
INSERT INTO safety_safetyplanremedy (plan_id, remedy, held, survivor_choice)
SELECT sp.id, 'license_suspension', true, '' FROM safety_safetyplan sp WHERE sp.case_id % 25 = 4;
ANALYZE;
"""
