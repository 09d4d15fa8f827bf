DROP TABLE notifications_sent;
DROP TABLE account_tokens;
ALTER TABLE users DROP COLUMN notify_credits;
ALTER TABLE users DROP COLUMN notify_automation;
ALTER TABLE users DROP COLUMN email_verified_at;
