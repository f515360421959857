"""Figure 4: name search over every person, as a supervisor runs it
(cases.selectors.case_search_for_user: trigram match of the words against the
list of names on file, people by those names, scoped to the user's cases, best
match first, 50 results), beside the same search as one bare SQL query with no
scope and no ORM.

Each query is a real last name from the database with one letter dropped (the
typo the search must forgive). Median per query; the two take turns at running first."""

from __future__ import annotations

import random
import statistics
import time

from django.db import connection

from benchmarks.common import Figure, say
from cases.selectors import NAME_SIMILARITY, case_search_for_user

# The same search as bare SQL, without the scope, the case join or the ORM: the
# spellings on file like the word (trigram, on the short list of names), the
# people with those names, best last-name match first.
BARE = """
WITH spellings AS (SELECT name FROM cases_knownname WHERE name %% %(word)s)
SELECT id FROM cases_person
 WHERE last_name = ANY(ARRAY(SELECT name FROM spellings))
    OR first_name = ANY(ARRAY(SELECT name FROM spellings))
 ORDER BY similarity(last_name, %(word)s) DESC
 LIMIT 50
"""


def _typos(count: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_name FROM cases_person TABLESAMPLE SYSTEM (1) REPEATABLE (7) "
            "WHERE length(last_name) >= 6 LIMIT %s",
            [count],
        )
        names = [row[0] for row in cursor.fetchall()]
    rng = random.Random(7)  # noqa: S311 - reproducible typos, not a secret
    typos = []
    for name in names:
        at = rng.randrange(1, len(name) - 1)
        typos.append(name[:at] + name[at + 1 :])
    return typos


def _supervisor():
    """The supervisor of the unit with the most cases."""
    from accounts.models import User

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.supervisor_id FROM cases_case c JOIN cases_unit u ON u.id = c.unit_id "
            "WHERE u.supervisor_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("no unit with a supervisor: is this a seed_scale database?")
    return User.objects.get(pk=row[0])


def measure(queries: int) -> list[Figure]:
    words = _typos(queries)
    if not words:
        raise RuntimeError("no names to search for")
    user = _supervisor()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_person")
        people = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM cases_knownname")
        names = cursor.fetchone()[0]
        cursor.execute("SELECT set_limit(%s)", [NAME_SIMILARITY])
    app_times, bare_times, found = [], [], 0

    def app(word):
        return len(case_search_for_user(user, name=word))

    def bare(word):
        with connection.cursor() as cursor:
            cursor.execute(BARE, {"word": word})
            return len(cursor.fetchall())

    for turn, word in enumerate([words[0], *words]):  # the first once more, to warm up
        # Whichever runs second finds the pages the first read in the cache:
        # take turns at going first.
        for name, run in (("app", app), ("bare", bare))[:: 1 if turn % 2 else -1]:
            started = time.perf_counter()
            count = run(word)
            (app_times if name == "app" else bare_times).append(time.perf_counter() - started)
            if name == "app":
                found += count
    app_times, bare_times = app_times[1:], bare_times[1:]
    say(f"  {len(words)} searches, {found:,} cases found in the supervisor's scope")
    return [
        Figure(
            name=f"Name search over {people:,} people",
            unit="ms",
            measured=statistics.median(app_times) * 1000,
            floor=statistics.median(bare_times) * 1000,
            target=2.0,
            note=f"median of {len(words)} typo'd last names; p95 "
            f"{statistics.quantiles(app_times, n=20)[-1] * 1000:.1f} ms; {names:,} "
            "spellings on file; floor: the same trigram match and lookup as bare SQL",
        )
    ]
