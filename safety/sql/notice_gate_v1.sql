-- The gate for one notice: what safety_gate says for its case and remedy, with
-- two additions that depend on the notice itself. See docs/decisions/0009.
--
-- 1. A notice to the protected person about her own protection (remedy
--    'safety_notice', for example "your FVI is to be removed") is not an
--    enforcement step, so the enforcement holds do not apply to it. It may go
--    only to a participant of its case, named on the notice, as recipient
--    'protected_person'; anything else holds as 'wrong_recipient'
--    (safety_notice_gate).
-- 2. The override path: p_overridden lists gate reasons a supervisor released
--    (notice_overrides below). Those are dropped; any other reason still holds.
--    'unknown_case' and 'unknown_remedy' can never be overridden.
--
-- NULL from safety_gate (it cannot decide) stays NULL: every caller treats NULL
-- as hold.
-- A notice to the protected person about her own protection: held only if its
-- case is unknown or it is not addressed to a participant of the case, by name,
-- as the protected person.
CREATE OR REPLACE FUNCTION safety_notice_gate(
    p_case bigint, p_recipient text, p_recipient_person uuid
) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT array_remove(ARRAY[
    CASE WHEN NOT EXISTS (SELECT 1 FROM cases_case c WHERE c.id = p_case)
         THEN 'unknown_case' END,
    CASE WHEN p_recipient IS DISTINCT FROM 'protected_person'
           OR p_recipient_person IS NULL
           OR NOT EXISTS (SELECT 1 FROM cases_participant p
                          WHERE p.case_id = p_case AND p.person_id = p_recipient_person)
         THEN 'wrong_recipient' END
], NULL)
$$;

-- The gate's reasons less the overridden ones; NULL (cannot decide) stays NULL,
-- and 'unknown_case' / 'unknown_remedy' are never dropped.
CREATE OR REPLACE FUNCTION gate_without(p_reasons text[], p_overridden text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN p_reasons IS NULL THEN NULL ELSE ARRAY(
    SELECT r FROM unnest(p_reasons) WITH ORDINALITY AS u(r, i)
     WHERE r IN ('unknown_case', 'unknown_remedy') OR NOT (r = ANY (p_overridden))
     ORDER BY i
) END
$$;

-- Written without subqueries so that PostgreSQL inlines it (and notice_gate_of)
-- into the calling statement: in the nightly set-based gate, where nothing is
-- overridden, the whole expression folds down to
--   CASE WHEN n.remedy = 'safety_notice' THEN safety_notice_gate(...) ELSE safety_gate(...) END
-- and costs no more than calling safety_gate directly (docs/performance.md).
CREATE OR REPLACE FUNCTION notice_gate(
    p_case bigint, p_remedy text, p_recipient text, p_recipient_person uuid,
    p_hold_unscreened boolean DEFAULT true, p_overridden text[] DEFAULT '{}'
) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN p_remedy = 'safety_notice'
        THEN safety_notice_gate(p_case, p_recipient, p_recipient_person)
    WHEN coalesce(cardinality(p_overridden), 0) > 0
        THEN gate_without(safety_gate(p_case, p_remedy, p_hold_unscreened), p_overridden)
    ELSE safety_gate(p_case, p_remedy, p_hold_unscreened)
END
$$;

-- The reasons a supervisor's latest release of this notice overrides, if the
-- case's safety state has not changed since (every hold writer bumps
-- cases_case.safety_version). Otherwise '{}': nothing is overridden.
CREATE OR REPLACE FUNCTION notice_overrides(p_notice bigint, p_case bigint) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT coalesce((
    SELECT d.gate_reasons
      FROM safety_noticedecision d
      JOIN cases_case c ON c.id = p_case AND c.safety_version = d.case_safety_version
     WHERE d.notice_id = p_notice AND d.action = 'release'
     ORDER BY d.id DESC
     LIMIT 1), '{}'::text[])
$$;

-- The gate for a row of cases_notice; with p_with_release, counting a
-- supervisor's still-valid release. What every statement and the trigger call.
CREATE OR REPLACE FUNCTION notice_gate_of(
    n cases_notice, p_hold_unscreened boolean, p_with_release boolean
) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT notice_gate(
    n.case_id, n.remedy, n.recipient, n.recipient_person_id, p_hold_unscreened,
    CASE WHEN p_with_release THEN notice_overrides(n.id, n.case_id) ELSE '{}'::text[] END)
$$;
