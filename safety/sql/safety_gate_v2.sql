-- The gate (v2: latest review decides; a court hold lifted on a future date
-- still holds until then).
-- The gate: the one place that decides whether a remedy on a case is held.
-- Returns the reasons it is held; an empty array means "may proceed".
-- Every path (nightly run, single sends, admin actions, commands, the final
-- "mark sent" statement and its backstop trigger) calls this function.
-- Unknown state holds: an unknown case or remedy, and (by default) a case with
-- no safety review recorded. See docs/decisions/0008-the-gate.md.
CREATE OR REPLACE FUNCTION safety_gate(
    p_case bigint, p_remedy text, p_hold_unscreened boolean DEFAULT true
) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT array_remove(ARRAY[
    CASE WHEN NOT EXISTS (SELECT 1 FROM cases_case c WHERE c.id = p_case)
         THEN 'unknown_case' END,
    CASE WHEN p_remedy IS NULL OR p_remedy NOT IN (
            'income_withholding', 'license_suspension', 'credit_reporting',
            'federal_tax_offset', 'state_tax_offset', 'passport_denial', 'lien',
            'contempt', 'general_notices')
         THEN 'unknown_remedy' END,
    -- A standing FVI on anyone on the case...
    CASE WHEN EXISTS (
            SELECT 1 FROM cases_participant p
            JOIN safety_familyviolenceindicator f
              ON f.person_id = p.person_id AND f.removed_at IS NULL
            WHERE p.case_id = p_case)
         -- ...or on the custodial party of any case where a child of this case
         -- is a child: a custodial parent's FVI protects her children everywhere.
         OR EXISTS (
            SELECT 1 FROM cases_participant ch
            JOIN cases_participant ch_elsewhere
              ON ch_elsewhere.person_id = ch.person_id AND ch_elsewhere.role = 'child'
            JOIN cases_participant cp
              ON cp.case_id = ch_elsewhere.case_id
             AND cp.role IN ('custodial_parent', 'caretaker')
            JOIN safety_familyviolenceindicator f
              ON f.person_id = cp.person_id AND f.removed_at IS NULL
            WHERE ch.case_id = p_case AND ch.role = 'child')
         THEN 'fvi' END,
    CASE WHEN EXISTS (
            SELECT 1 FROM safety_goodcauseclaim g
            WHERE g.case_id = p_case AND g.status IN ('pending', 'granted'))
         THEN 'good_cause' END,
    CASE WHEN EXISTS (
            SELECT 1 FROM safety_safetyplan sp
            WHERE sp.case_id = p_case
              AND (sp.pause_requested_at IS NOT NULL OR sp.closure_requested_at IS NOT NULL))
         THEN 'survivor_pause' END,
    CASE WHEN EXISTS (
            SELECT 1 FROM safety_safetyplan sp
            JOIN safety_safetyplanremedy r ON r.plan_id = sp.id
            WHERE sp.case_id = p_case AND r.remedy = p_remedy AND r.held)
         THEN 'safety_plan' END,
    CASE WHEN EXISTS (
            SELECT 1 FROM safety_courtorderhold h
            WHERE h.case_id = p_case
              AND (h.lifted_on IS NULL OR h.lifted_on > current_date)
              AND (h.remedy = '' OR h.remedy = p_remedy))
         THEN 'court_order' END,
    -- Screened means the latest review screened: "contact was not safe" is not a
    -- screening, so the safety state is unknown and everything stays held.
    CASE WHEN p_hold_unscreened IS NOT FALSE AND coalesce((
            SELECT s.outcome FROM safety_safetyreview s WHERE s.case_id = p_case
            ORDER BY s.reviewed_at DESC, s.id DESC LIMIT 1), 'not_safe') = 'not_safe'
         THEN 'not_screened' END
], NULL)
$$;
