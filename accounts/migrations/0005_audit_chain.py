from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "audit_v1.sql"


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_audit_event")]

    operations = [
        migrations.RunSQL(
            SQL.read_text(),
            "DROP TRIGGER IF EXISTS audit_chain ON accounts_auditevent;"
            "DROP TRIGGER IF EXISTS audit_append_only ON accounts_auditevent;"
            "DROP FUNCTION IF EXISTS audit_chain();"
            "DROP FUNCTION IF EXISTS audit_refuse_change();"
            "DROP FUNCTION IF EXISTS audit_row_hash(bytea, bigint, timestamptz, bigint, text,"
            " bigint, uuid, jsonb);"
            "GRANT UPDATE, DELETE ON accounts_auditevent TO CURRENT_USER;",
        ),
    ]
