-- Billing: the custom plan, subscription state on the workspace,
-- and the Stripe events received (each stored once by its id, so a replay is a no-op). `stripe_events` is a global
-- table: an event is deduplicated before the workspace it concerns is known (docs/SCALING.md).

-- (The own-AI-key flag on plans comes with platform AI, the migration before this one.)
-- Custom / Enterprise: granted by a system administrator, never sold through Checkout.
INSERT INTO plans (code, name, price_cents, monthly_credits, max_users, max_sites, sort_order, upload_quota_mb, own_ai_key)
VALUES ('enterprise', 'Custom / Enterprise', 0, 5000, 50, 50, 4, 5000, true);

ALTER TABLE tenants
    -- End of the paid period (renewal date), from Stripe.
    ADD COLUMN current_period_end timestamptz,
    -- Set when a payment fails: past this moment a past-due workspace is suspended.
    ADD COLUMN grace_ends_at timestamptz,
    ADD COLUMN cancel_at_period_end boolean NOT NULL DEFAULT false,
    -- `created` of the newest Stripe event applied to plan and status: an older event arriving later
    -- never undoes it.
    ADD COLUMN billing_event_at timestamptz;
CREATE UNIQUE INDEX tenants_stripe_customer_key ON tenants (stripe_customer_id) WHERE stripe_customer_id IS NOT NULL;
CREATE INDEX tenants_grace_idx ON tenants (grace_ends_at) WHERE status = 'past_due';

CREATE TABLE stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    created     timestamptz NOT NULL,
    outcome     text NOT NULL DEFAULT 'received'
                CHECK (outcome IN ('received', 'applied', 'stale', 'ignored', 'no_workspace')),
    payload     jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
