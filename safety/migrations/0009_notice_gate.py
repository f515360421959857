from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("safety", "0008_notice_decisions_runs")]

    operations = [
        migrations.RunSQL(
            (SQL_DIR / "notice_gate_v1.sql").read_text()
            + (SQL_DIR / "notice_backstop_v2.sql").read_text(),
            (SQL_DIR / "notice_backstop_v1.sql").read_text()
            + "DROP FUNCTION notice_gate_of(cases_notice, boolean, boolean);"
            + "DROP FUNCTION notice_overrides(bigint, bigint);"
            + "DROP FUNCTION notice_gate(bigint, text, text, uuid, boolean, text[]);"
            + "DROP FUNCTION gate_without(text[], text[]);"
            + "DROP FUNCTION safety_notice_gate(bigint, text, uuid);",
        ),
    ]
