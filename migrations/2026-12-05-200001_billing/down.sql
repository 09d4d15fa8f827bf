DROP TABLE stripe_events;
DROP INDEX tenants_grace_idx;
DROP INDEX tenants_stripe_customer_key;
ALTER TABLE tenants DROP COLUMN current_period_end, DROP COLUMN grace_ends_at, DROP COLUMN cancel_at_period_end,
    DROP COLUMN billing_event_at;
UPDATE tenants SET plan_code = 'agency' WHERE plan_code = 'enterprise';
DELETE FROM plans WHERE code = 'enterprise';
