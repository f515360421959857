from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("safety", "0006_acp")]

    operations = [
        migrations.RunSQL(
            (SQL_DIR / "safety_gate_v2.sql").read_text(),
            (SQL_DIR / "safety_gate_v1.sql").read_text(),
        ),
    ]
