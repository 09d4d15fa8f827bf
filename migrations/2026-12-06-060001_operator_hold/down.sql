ALTER TABLE tenants DROP COLUMN operator_hold;
