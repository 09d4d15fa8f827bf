-- Workspaces are deleted by their owners: the tenant row goes and ON DELETE CASCADE reaches every tenant table.
-- The keywords' and tasks' revision triggers fire for those cascaded deletes too, after the tenant row is gone:
-- a revision for a workspace that no longer exists is skipped instead of failing its foreign key.
CREATE OR REPLACE FUNCTION bump_list_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO list_revisions (tenant_id, list, rev)
    SELECT DISTINCT c.tenant_id, TG_ARGV[0], 1 FROM changed c
     WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = c.tenant_id)
    ON CONFLICT (tenant_id, list) DO UPDATE SET rev = list_revisions.rev + 1;
    RETURN NULL;
END $$;
