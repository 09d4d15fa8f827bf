DELETE FROM system_settings WHERE key = 'cron.backup';
DROP INDEX jobs_finished_idx;
DROP INDEX ai_calls_created_idx;
ALTER TABLE plans DROP COLUMN upload_quota_mb;
