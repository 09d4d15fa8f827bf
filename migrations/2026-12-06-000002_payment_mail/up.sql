-- A per-user switch for the "payment failed" mail sent to a workspace's owners.
ALTER TABLE users ADD COLUMN notify_billing boolean NOT NULL DEFAULT true;
