-- Every spelling of a first or last name on file, once (cases_knownname): what
-- the typo-tolerant search matches against. See docs/decisions/0013.
-- Statement-level triggers with transition tables: a bulk load (seed_scale,
-- COPY) adds its names in one statement, not one per row. Names are added in
-- a fixed order, so two loads adding the same new names cannot deadlock.
CREATE OR REPLACE FUNCTION person_names_known() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cases_knownname (name)
    SELECT DISTINCT v.name
      FROM new_people p, LATERAL (VALUES (p.last_name), (p.first_name)) AS v(name)
     WHERE v.name <> ''
     ORDER BY v.name
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS person_names_inserted ON cases_person;
CREATE TRIGGER person_names_inserted
    AFTER INSERT ON cases_person REFERENCING NEW TABLE AS new_people
    FOR EACH STATEMENT EXECUTE FUNCTION person_names_known();

DROP TRIGGER IF EXISTS person_names_updated ON cases_person;
CREATE TRIGGER person_names_updated
    AFTER UPDATE ON cases_person REFERENCING NEW TABLE AS new_people
    FOR EACH STATEMENT EXECUTE FUNCTION person_names_known();

-- The names already on file.
INSERT INTO cases_knownname (name)
SELECT DISTINCT v.name
  FROM cases_person p, LATERAL (VALUES (p.last_name), (p.first_name)) AS v(name)
 WHERE v.name <> ''
ON CONFLICT DO NOTHING;
