-- The job kind behind each job-driven ledger entry (reserve, settle, refund, sample), so usage by action survives the
-- cleanup of old finished jobs. NULL for entries no job made (grants, packs, adjustments, openings).
ALTER TABLE credit_ledger ADD COLUMN action text;

UPDATE credit_ledger l
   SET action = j.kind
  FROM jobs j
 WHERE l.reason IN ('reserve', 'settle', 'refund', 'sample')
   AND l.reference = 'job:' || j.id
   AND j.tenant_id = l.tenant_id;
