-- Backstop (v2): the database itself refuses "sent" for a notice its gate holds,
-- counting only a supervisor's still-valid release as an override.
-- The application marks a notice sent in one statement that re-checks the same
-- gate (safety/notices.py); this trigger catches any other path that tries.
CREATE OR REPLACE FUNCTION notice_refuse_held_send() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    reasons text[];
BEGIN
    IF NEW.status = 'sent' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'sent') THEN
        reasons := notice_gate_of(
            NEW, coalesce(current_setting('safe_access.hold_unscreened', true), 'on') <> 'off',
            true);
        IF reasons IS NULL OR cardinality(reasons) > 0 THEN
            RAISE EXCEPTION 'notice % may not be sent: the gate holds it (%)',
                NEW.id, coalesce(array_to_string(reasons, ','), 'unknown')
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS notice_backstop ON cases_notice;
CREATE TRIGGER notice_backstop
    BEFORE INSERT OR UPDATE OF status ON cases_notice
    FOR EACH ROW EXECUTE FUNCTION notice_refuse_held_send();
