from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "safety_gate_v1.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("safety", "0002_holds"), ("cases", "0003_unit_caseworkers_reveal_outcome")]

    operations = [
        migrations.RunSQL(SQL, "DROP FUNCTION IF EXISTS safety_gate(bigint, text, boolean);"),
    ]
