-- Operations: a per-plan quota for uploaded files kept in the database (keyword CSVs waiting to be imported),
-- indexes for the figures /metrics reads at every scrape, and the cadence of scheduled backups (seed §10.10).

ALTER TABLE plans ADD COLUMN upload_quota_mb integer NOT NULL DEFAULT 100 CHECK (upload_quota_mb > 0);
UPDATE plans SET upload_quota_mb = CASE code
    WHEN 'free' THEN 50
    WHEN 'starter' THEN 200
    WHEN 'pro' THEN 500
    WHEN 'agency' THEN 2000
    ELSE upload_quota_mb END;

-- "AI calls of the last hour" across all tenants (the tenant-first index cannot serve it); cleanup uses it too.
CREATE INDEX ai_calls_created_idx ON ai_calls (created_at);
-- "Jobs finished in the last hour" by kind and status.
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL;

INSERT INTO system_settings (key, value) VALUES ('cron.backup', '0 */6 * * *') ON CONFLICT (key) DO NOTHING;
