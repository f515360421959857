-- The audit trail: append-only and hash-chained (docs/decisions/0010-audit-trail.md).

-- The hash of one record: SHA-256 over the previous record's hash and this
-- record's fields, in a fixed text form. verify_audit_chain recomputes it.
CREATE OR REPLACE FUNCTION audit_row_hash(
    p_prev bytea, p_seq bigint, p_at timestamptz, p_actor bigint, p_kind text,
    p_case bigint, p_person uuid, p_detail jsonb
) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT sha256(coalesce(p_prev, '\x'::bytea) || convert_to(concat_ws(E'\x1f',
    p_seq::text,
    to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    coalesce(p_actor::text, ''),
    p_kind,
    coalesce(p_case::text, ''),
    coalesce(p_person::text, ''),
    coalesce(p_detail::text, 'null')), 'UTF8'))
$$;

-- Every insert is chained to the last record, under a transaction-level lock so
-- that two writers can never chain to the same record; the lock is held to commit,
-- so records are chained in commit order. Whatever the client sent for these
-- columns is overwritten.
CREATE OR REPLACE FUNCTION audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(1096119617);  -- 'AUDA'
    SELECT a.seq, a.hash INTO last_seq, last_hash
      FROM accounts_auditevent a ORDER BY a.seq DESC LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.occurred_at := now();
    NEW.prev_hash := coalesce(last_hash, '\x'::bytea);
    NEW.hash := audit_row_hash(NEW.prev_hash, NEW.seq, NEW.occurred_at, NEW.actor_id,
                               NEW.kind, NEW.case_id, NEW.person_id, NEW.detail);
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER IF EXISTS audit_chain ON accounts_auditevent;
CREATE TRIGGER audit_chain BEFORE INSERT ON accounts_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_chain();
DROP TRIGGER IF EXISTS audit_append_only ON accounts_auditevent;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON accounts_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
-- And the application role may not change or delete records even without the
-- trigger (TRUNCATE stays with the owner: the test runner empties tables with it).
REVOKE UPDATE, DELETE ON accounts_auditevent FROM CURRENT_USER;
