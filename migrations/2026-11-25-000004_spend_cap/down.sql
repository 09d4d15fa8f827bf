ALTER TABLE tenants DROP COLUMN monthly_credit_cap;
