"""Re-encrypting every protected value under the newest field key (key rotation).

See docs/decisions/0006-field-encryption.md. Rotation runs while the site keeps
serving: every token names its key, so old and new tokens open side by side, and
this module only has to move the old ones forward.

How it works, per model that has ``ProtectedField`` columns:

- Keyset pagination by primary key: each batch selects the next rows (in pk order)
  where some protected column is non-null and does not start with
  ``sa1.<newest key id>.``. A re-run therefore resumes where the last one stopped,
  and a finished rotation finds nothing to do.
- The batch is decrypted and re-sealed in Python outside any transaction (the
  associated data is ``table.column.pk``, exactly as ``safety.protected`` builds
  it), and the blind index is recomputed for fields that have one.
- The batch is written back in one short transaction with one
  ``UPDATE ... FROM (VALUES ...)`` per protected column (one statement per batch
  for a model with one protected column). Each row is compare-and-swapped: it is
  updated only if the column still holds the token that was read. A concurrent
  edit wins; the row is counted as skipped (its new value is already under the
  newest key, or the next run picks it up).
- A value that fails to open (tampered, unknown key, moved from another row) is
  never overwritten: it is counted, logged with table, column and row id only,
  and the run goes on. ``RotationResult.failed`` tells the caller to exit non-zero.

Operational precondition: every process of the site must already run with the new
key listed first in ``FIELD_ENCRYPTION_KEYS`` (so new writes use it) before the
rotation starts, and the old key must stay listed until a run finishes with
nothing stale and nothing failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connections, models, router, transaction

from safety.protected import (
    PREFIX,
    ProtectedField,
    ProtectedValueError,
    Sealed,
    blind_index,
    newest_key_id,
    open_text,
    protected_fields,
    seal_text,
)

log = logging.getLogger(__name__)

MAX_BATCH_SIZE = 10_000  # keeps one statement's parameters well under PostgreSQL's limit
FAILURES_KEPT = 1_000  # ids of failed values kept on the result (all are counted and logged)


@dataclass(frozen=True, slots=True)
class FailedValue:
    """Where a value failed to open. Ids only: never the value or its token."""

    table: str
    column: str
    pk: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column} row {self.pk}"


@dataclass(frozen=True, slots=True)
class BatchProgress:
    """Reported after each batch is written."""

    model: str  # app_label.ModelName
    batch: int  # batches so far in this run, over all models
    rows_done: int  # rows handled so far in this run, over all models
    stale_rows: int  # rows that had a stale value when the run started
    rotated: int  # values re-encrypted so far
    skipped: int  # values left alone because a concurrent edit changed them
    failed: int  # values that failed to open
    seconds: float  # since the run started

    @property
    def rate(self) -> float:
        """Rows per second so far."""
        return self.rows_done / self.seconds if self.seconds > 0 else 0.0


@dataclass(slots=True)
class RotationResult:
    key_id: str  # the newest key, which every value is moved to
    dry_run: bool
    # Stale values (non-null, not under the newest key) per "app.Model.column" at the start.
    stale: dict[str, int] = field(default_factory=dict)
    stale_rows: int = 0  # rows with at least one stale value, at the start
    rows_done: int = 0  # rows read and handled in batches
    rotated: int = 0  # values re-encrypted under the newest key
    skipped: int = 0  # values changed concurrently between read and write: left to the writer
    failed: int = 0  # values that failed to open: left as they were
    failures: list[FailedValue] = field(default_factory=list)  # the first FAILURES_KEPT
    batches: int = 0
    stopped_early: bool = False  # limit_batches reached; run again to continue
    # Values still not under the newest key when the run ended, counted afresh
    # (a process still sealing with an old key, or a value changed meanwhile).
    remaining: int = 0
    seconds: float = 0.0

    @property
    def stale_values(self) -> int:
        return sum(self.stale.values())

    @property
    def ok(self) -> bool:
        return self.failed == 0


@dataclass(frozen=True, slots=True)
class _Target:
    model: type[models.Model]
    fields: tuple[ProtectedField, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label


def rotation_targets() -> list[_Target]:
    """Every installed model with protected columns in its own table."""
    targets = []
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or not opts.managed or opts.swapped:
            continue
        local = set(opts.local_concrete_fields)
        fields = tuple(f for f in protected_fields(model) if f in local)
        if fields:
            targets.append(_Target(model, fields))
    return targets


def rotate_encryption_keys(
    *,
    batch_size: int = 1000,
    dry_run: bool = False,
    limit_batches: int | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    before_write: Callable[[type[models.Model], list], None] | None = None,
) -> RotationResult:
    """Re-encrypt every protected value not yet under the newest key.

    ``dry_run`` only counts stale values. ``limit_batches`` stops after that many
    batches (over all models); a later call carries on. ``progress`` is called
    after each batch. ``before_write`` is a test hook: it is called with the model
    and the batch's primary keys after the batch is read and re-sealed and before
    it is written, so a test can make a concurrent edit in that window.

    Do not call this inside a transaction: each batch commits on its own so no
    lock is held for long (inside an outer transaction the batches are savepoints
    and nothing commits until the caller does).
    """
    if batch_size < 1 or batch_size > MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}")
    if limit_batches is not None and limit_batches < 1:
        raise ValueError("limit_batches must be at least 1")

    started = time.monotonic()
    key_id = newest_key_id()
    prefix = f"{PREFIX}.{key_id}."
    result = RotationResult(key_id=key_id, dry_run=dry_run)
    targets = rotation_targets()

    for target in targets:
        per_column, rows = _count_stale(target, prefix)
        for f in target.fields:
            result.stale[f"{target.label}.{f.column}"] = per_column[f.column]
        result.stale_rows += rows
    if dry_run:
        result.seconds = time.monotonic() - started
        return result

    for target in targets:
        if result.stopped_early:
            break
        _rotate_model(
            target,
            key_id=key_id,
            prefix=prefix,
            batch_size=batch_size,
            limit_batches=limit_batches,
            result=result,
            started=started,
            progress=progress,
            before_write=before_write,
        )
    # Recount rather than trust the batches: only a zero here means the old key
    # can be removed.
    result.remaining = sum(_count_stale(target, prefix)[1] for target in targets)
    result.seconds = time.monotonic() - started
    return result


def _stale_condition(qn: Callable[[str], str], fields, prefix: str) -> tuple[str, list]:
    """SQL for "some protected column is stale", with its parameters."""
    parts, params = [], []
    for f in fields:
        column = qn(f.column)
        parts.append(f"({column} IS NOT NULL AND left({column}, %s) <> %s)")
        params += [len(prefix), prefix]
    return " OR ".join(parts), params


def _count_stale(target: _Target, prefix: str) -> tuple[dict[str, int], int]:
    model = target.model
    connection = connections[router.db_for_read(model)]
    qn = connection.ops.quote_name
    selects, params = [], []
    for f in target.fields:
        condition, condition_params = _stale_condition(qn, [f], prefix)
        selects.append(f"count(*) FILTER (WHERE {condition})")
        params += condition_params
    any_stale, any_params = _stale_condition(qn, target.fields, prefix)
    selects.append(f"count(*) FILTER (WHERE {any_stale})")
    params += any_params
    sql = f"SELECT {', '.join(selects)} FROM {qn(model._meta.db_table)}"  # noqa: S608 (quoted names)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = cursor.fetchone()
    per_column = {f.column: counts[i] for i, f in enumerate(target.fields)}
    return per_column, counts[-1]


def _rotate_model(
    target: _Target,
    *,
    key_id: str,
    prefix: str,
    batch_size: int,
    limit_batches: int | None,
    result: RotationResult,
    started: float,
    progress,
    before_write,
) -> None:
    model = target.model
    opts = model._meta
    alias = router.db_for_write(model)
    connection = connections[alias]
    qn = connection.ops.quote_name
    table = opts.db_table
    pk_column = qn(opts.pk.column)
    columns = ", ".join(qn(f.column) for f in target.fields)
    stale, stale_params = _stale_condition(qn, target.fields, prefix)
    last_pk = None

    while True:
        if limit_batches is not None and result.batches >= limit_batches:
            result.stopped_early = True
            return
        after = "" if last_pk is None else f" AND {pk_column} > %s"
        sql = (
            f"SELECT {pk_column}, {columns} FROM {qn(table)} "  # noqa: S608 (quoted names)
            f"WHERE ({stale}){after} ORDER BY {pk_column} LIMIT %s"
        )
        params = [*stale_params, *([] if last_pk is None else [last_pk]), batch_size]
        # Read in autocommit: no transaction is open while values are decrypted.
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return
        last_pk = rows[-1][0]

        updates: dict[ProtectedField, list[tuple]] = {f: [] for f in target.fields}
        for pk, *tokens in rows:
            for f, token in zip(target.fields, tokens, strict=True):
                if token is None or token.startswith(prefix):
                    continue
                context = f"{table}.{f.column}.{pk}".encode()
                try:
                    plain = open_text(Sealed(token), context)
                except ProtectedValueError:
                    result.failed += 1
                    if len(result.failures) < FAILURES_KEPT:
                        result.failures.append(FailedValue(table, f.column, str(pk)))
                    log.warning(
                        "key rotation: %s.%s row %s failed to open; left as it is",
                        table,
                        f.column,
                        pk,
                    )
                    continue
                new_token = seal_text(plain, context).token
                index = blind_index(f.normalize(plain), key_id) if f.blind_index else None
                updates[f].append((pk, token, new_token, index))

        if before_write is not None:
            before_write(model, [row[0] for row in rows])

        with transaction.atomic(using=alias):
            for f, items in updates.items():
                if items:
                    written = _write(connection, model, f, items)
                    result.rotated += written
                    result.skipped += len(items) - written

        result.batches += 1
        result.rows_done += len(rows)
        if progress is not None:
            progress(
                BatchProgress(
                    model=target.label,
                    batch=result.batches,
                    rows_done=result.rows_done,
                    stale_rows=result.stale_rows,
                    rotated=result.rotated,
                    skipped=result.skipped,
                    failed=result.failed,
                    seconds=time.monotonic() - started,
                )
            )
        if len(rows) < batch_size:
            return


def _write(connection, model: type[models.Model], f: ProtectedField, items: list[tuple]) -> int:
    """Compare-and-swap one column of a batch in one statement; the rows written."""
    opts = model._meta
    qn = connection.ops.quote_name
    pk_column = qn(opts.pk.column)
    pk_type = opts.pk.cast_db_type(connection)
    column = qn(f.column)
    sets = [f"{column} = v.new"]
    if f.blind_index:
        index_column = qn(opts.get_field(f.blind_index).column)
        sets.append(f"{index_column} = v.idx")
        row_sql = f"(%s::{pk_type}, %s::text, %s::text, %s::text)"
        names = "pk, old, new, idx"
        params = [value for item in items for value in item]
    else:
        row_sql = f"(%s::{pk_type}, %s::text, %s::text)"
        names = "pk, old, new"
        params = [value for item in items for value in item[:3]]
    sql = (
        f"UPDATE {qn(opts.db_table)} AS t SET {', '.join(sets)} "  # noqa: S608 (quoted names)
        f"FROM (VALUES {', '.join([row_sql] * len(items))}) AS v({names}) "
        f"WHERE t.{pk_column} = v.pk AND t.{column} = v.old"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
