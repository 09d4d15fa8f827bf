-- A job priced as free sample work runs as sample work, whatever provider is set up by the time it runs (and so
-- does its retry): otherwise a job queued while only the dev provider served would run free on a paid one.
ALTER TABLE jobs ADD COLUMN sample boolean NOT NULL DEFAULT false;
UPDATE jobs j SET sample = true
  FROM credit_ledger l
 WHERE l.tenant_id = j.tenant_id AND l.reason = 'sample' AND l.reference = 'job:' || j.id;
