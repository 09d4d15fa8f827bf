CREATE OR REPLACE FUNCTION bump_list_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO list_revisions (tenant_id, list, rev)
    SELECT DISTINCT tenant_id, TG_ARGV[0], 1 FROM changed
    ON CONFLICT (tenant_id, list) DO UPDATE SET rev = list_revisions.rev + 1;
    RETURN NULL;
END $$;
