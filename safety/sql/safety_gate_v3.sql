-- The gate (v3): the same rule as v2, written once as a set (safety_holds) that
-- both the one-case function and the nightly set-based statement read.
-- See docs/decisions/0008-the-gate.md and 0012-database-settings-and-set-gate.md.
--
-- v2 asked eight questions per call, so the nightly run over a million notices
-- was a million function calls, each a handful of index probes: 1.7 times one
-- plain UPDATE ... FROM making the same decision. Now the rule is a relation:
-- every standing hold, one row per (case, reason, remedy), remedy NULL meaning
-- every remedy. The one-case gate reads it for one case (PostgreSQL inlines the
-- function and pushes the case id into each branch, so it stays index probes);
-- the nightly run joins it to the pending notices once, as hash joins.

-- Every standing hold. 'unknown_case' and 'unknown_remedy' are not facts about
-- a case; gate_reasons adds them.
CREATE OR REPLACE FUNCTION safety_holds(p_hold_unscreened boolean DEFAULT true)
RETURNS TABLE (case_id bigint, reason text, remedy text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    -- A standing FVI on anyone on the case...
    SELECT p.case_id, 'fvi', NULL::text
      FROM cases_participant p
      JOIN safety_familyviolenceindicator f
        ON f.person_id = p.person_id AND f.removed_at IS NULL
    UNION ALL
    -- ...or on the custodial party of any case where a child of this case is a
    -- child: a custodial parent's FVI protects her children everywhere.
    SELECT ch.case_id, 'fvi', NULL
      FROM cases_participant ch
      JOIN cases_participant ch_elsewhere
        ON ch_elsewhere.person_id = ch.person_id AND ch_elsewhere.role = 'child'
      JOIN cases_participant cp
        ON cp.case_id = ch_elsewhere.case_id AND cp.role IN ('custodial_parent', 'caretaker')
      JOIN safety_familyviolenceindicator f
        ON f.person_id = cp.person_id AND f.removed_at IS NULL
     WHERE ch.role = 'child'
    UNION ALL
    SELECT g.case_id, 'good_cause', NULL
      FROM safety_goodcauseclaim g WHERE g.status IN ('pending', 'granted')
    UNION ALL
    SELECT sp.case_id, 'survivor_pause', NULL
      FROM safety_safetyplan sp
     WHERE sp.pause_requested_at IS NOT NULL OR sp.closure_requested_at IS NOT NULL
    UNION ALL
    SELECT sp.case_id, 'safety_plan', r.remedy
      FROM safety_safetyplan sp JOIN safety_safetyplanremedy r ON r.plan_id = sp.id
     WHERE r.held
    UNION ALL
    -- A court hold on one remedy, or on all ('' means all); lifted on a future
    -- date, it holds until then.
    SELECT h.case_id, 'court_order', nullif(h.remedy, '')
      FROM safety_courtorderhold h
     WHERE h.lifted_on IS NULL OR h.lifted_on > current_date
    UNION ALL
    -- Screened means the latest review screened: "contact was not safe" is not a
    -- screening, so the safety state is unknown and everything stays held.
    SELECT c.id, 'not_screened', NULL
      FROM cases_case c
      LEFT JOIN (SELECT DISTINCT ON (s.case_id) s.case_id, s.outcome
                   FROM safety_safetyreview s
                  ORDER BY s.case_id, s.reviewed_at DESC, s.id DESC) latest
        ON latest.case_id = c.id
     WHERE p_hold_unscreened IS NOT FALSE AND coalesce(latest.outcome, 'not_safe') = 'not_safe'
$$;

-- The gate's answer from the holds that apply: every reason once, in a fixed
-- order, with 'unknown_case' (the case does not exist) and 'unknown_remedy'.
CREATE OR REPLACE FUNCTION gate_reasons(
    p_case_known boolean, p_remedy text, p_holds text[]
) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ARRAY(
    SELECT r FROM unnest(ARRAY[
        'unknown_case', 'unknown_remedy', 'fvi', 'good_cause', 'survivor_pause',
        'safety_plan', 'court_order', 'not_screened']) WITH ORDINALITY AS o(r, i)
     WHERE (r = 'unknown_case' AND p_case_known IS NOT TRUE)
        OR (r = 'unknown_remedy' AND (p_remedy IS NULL OR p_remedy NOT IN (
                'income_withholding', 'license_suspension', 'credit_reporting',
                'federal_tax_offset', 'state_tax_offset', 'passport_denial', 'lien',
                'contempt', 'general_notices')))
        OR r = ANY (p_holds)
     ORDER BY i)
$$;

-- Whether a hold row applies to a remedy: a hold on every remedy, or this one.
-- The one place both forms below join on.
CREATE OR REPLACE FUNCTION hold_applies(p_hold_remedy text, p_remedy text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT p_hold_remedy IS NULL OR p_hold_remedy = p_remedy
$$;

-- The gate for one case and remedy: what every single decision, the "mark sent"
-- statement and the backstop trigger call. Returns the reasons it is held; an
-- empty array means "may proceed".
CREATE OR REPLACE FUNCTION safety_gate(
    p_case bigint, p_remedy text, p_hold_unscreened boolean DEFAULT true
) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT gate_reasons(
    EXISTS (SELECT 1 FROM cases_case c WHERE c.id = p_case),
    p_remedy,
    ARRAY(SELECT h.reason FROM safety_holds(p_hold_unscreened) h
           WHERE h.case_id = p_case AND hold_applies(h.remedy, p_remedy)))
$$;

-- The gate for every pending notice at once (the nightly run), as a relation
-- (notice id, reasons): the holds joined to the notices in one pass. A notice
-- to the protected person about her own protection goes through
-- safety_notice_gate, as in notice_gate. Overrides are not counted here: a
-- supervisor's release is only ever counted by the "mark sent" statement.
CREATE OR REPLACE FUNCTION notice_gate_pending(p_hold_unscreened boolean, p_ids bigint[])
RETURNS TABLE (id bigint, reasons text[])
LANGUAGE sql STABLE AS $$
    WITH pending AS (
        SELECT n.id, n.case_id, n.remedy, n.recipient, n.recipient_person_id
          FROM cases_notice n
         WHERE n.status = 'pending' AND (p_ids IS NULL OR n.id = ANY (p_ids))
    ), held AS (
        SELECT n.id, array_agg(h.reason) AS reasons
          FROM pending n
          JOIN safety_holds(p_hold_unscreened) h
            ON h.case_id = n.case_id AND hold_applies(h.remedy, n.remedy)
         GROUP BY n.id
    )
    SELECT n.id,
           CASE WHEN n.remedy = 'safety_notice'
                THEN safety_notice_gate(n.case_id, n.recipient, n.recipient_person_id)
                ELSE gate_reasons(c.id IS NOT NULL, n.remedy, coalesce(held.reasons, '{}'))
           END
      FROM pending n
      LEFT JOIN cases_case c ON c.id = n.case_id
      LEFT JOIN held ON held.id = n.id
$$;
