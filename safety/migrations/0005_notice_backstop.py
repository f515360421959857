from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "notice_backstop_v1.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("safety", "0004_fvi_removal"), ("cases", "0005_notice")]

    operations = [
        migrations.RunSQL(
            SQL,
            "DROP TRIGGER IF EXISTS notice_backstop ON cases_notice;"
            "DROP FUNCTION IF EXISTS notice_refuse_held_send();",
        ),
    ]
