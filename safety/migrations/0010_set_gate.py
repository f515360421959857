from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


class Migration(migrations.Migration):
    """The gate's rule written once as a set (safety_holds), read by the one-case
    function and by the nightly set-based run (decision 0012)."""

    dependencies = [("safety", "0009_notice_gate")]

    operations = [
        migrations.RunSQL(
            (SQL_DIR / "safety_gate_v3.sql").read_text(),
            (SQL_DIR / "safety_gate_v2.sql").read_text()
            + "DROP FUNCTION notice_gate_pending(boolean, bigint[]);"
            + "DROP FUNCTION hold_applies(text, text);"
            + "DROP FUNCTION gate_reasons(boolean, text, text[]);"
            + "DROP FUNCTION safety_holds(boolean);",
        ),
    ]
