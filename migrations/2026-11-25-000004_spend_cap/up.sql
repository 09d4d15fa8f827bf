-- Optional per-tenant cap on credits spent per calendar month (UTC); NULL = no cap.
ALTER TABLE tenants ADD COLUMN monthly_credit_cap bigint CHECK (monthly_credit_cap IS NULL OR monthly_credit_cap >= 0);
