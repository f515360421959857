from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


class Migration(migrations.Migration):
    """The one-case gate and the release look-up as PL/pgSQL, their plans kept
    per connection (decision 0014)."""

    dependencies = [("safety", "0010_set_gate")]

    operations = [
        migrations.RunSQL(
            (SQL_DIR / "safety_gate_v4.sql").read_text(),
            # Replaying v3 and notice_gate_v1 restores both functions in SQL (the
            # others they define are unchanged by v4).
            (SQL_DIR / "safety_gate_v3.sql").read_text()
            + (SQL_DIR / "notice_gate_v1.sql").read_text(),
        ),
    ]
