-- The one-case gate (v4): the same rule and the same answer as v3, as PL/pgSQL
-- so that its plan is kept for the session. See docs/decisions/0014.
--
-- A SQL-language function whose body holds a sub-select is not inlined into
-- the statement that calls it, and PostgreSQL plans such a body again for every
-- statement that calls it: for safety_gate, the seven branches of safety_holds,
-- about a millisecond, paid by every "mark sent" twice (its own statement and
-- the backstop trigger) where running the plan takes a tenth of that. A
-- PL/pgSQL function's statements are prepared once per connection and reused.
-- The nightly set-based run (notice_gate_pending) does not call this function:
-- it joins safety_holds itself.
CREATE OR REPLACE FUNCTION safety_gate(
    p_case bigint, p_remedy text, p_hold_unscreened boolean DEFAULT true
) RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN gate_reasons(
        EXISTS (SELECT 1 FROM cases_case c WHERE c.id = p_case),
        p_remedy,
        ARRAY(SELECT h.reason FROM safety_holds(p_hold_unscreened) h
               WHERE h.case_id = p_case AND hold_applies(h.remedy, p_remedy)));
END
$$;

-- The reasons a supervisor's still-valid release overrides (as in
-- notice_gate_v1.sql), in PL/pgSQL for the same reason: every "mark sent" asks.
CREATE OR REPLACE FUNCTION notice_overrides(p_notice bigint, p_case bigint) RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN coalesce((
        SELECT d.gate_reasons
          FROM safety_noticedecision d
          JOIN cases_case c ON c.id = p_case AND c.safety_version = d.case_safety_version
         WHERE d.notice_id = p_notice AND d.action = 'release'
         ORDER BY d.id DESC
         LIMIT 1), '{}'::text[]);
END
$$;
