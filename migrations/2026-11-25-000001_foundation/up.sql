-- Foundation: plans, tenants, users, memberships, invitations, API tokens, sessions, audit trail, credit ledger.
-- Every tenant-owned table carries tenant_id NOT NULL and every unique index on it starts with tenant_id,
-- so the schema can later be distributed by tenant (DESIGN.md §2).

CREATE TABLE plans (
    code            text PRIMARY KEY,
    name            text NOT NULL,
    price_cents     integer NOT NULL CHECK (price_cents >= 0),
    monthly_credits bigint NOT NULL CHECK (monthly_credits >= 0),
    max_users       integer NOT NULL CHECK (max_users > 0),
    max_sites       integer NOT NULL CHECK (max_sites > 0),
    sort_order      integer NOT NULL DEFAULT 0
);

-- Seed §8.8, the finalised baseline.
INSERT INTO plans (code, name, price_cents, monthly_credits, max_users, max_sites, sort_order) VALUES
    ('free',    'Free / Trial', 100,    25,  1,  1, 0),
    ('starter', 'Starter',     3900,   200,  3,  3, 1),
    ('pro',     'Pro',         8900,   600,  5,  5, 2),
    ('agency',  'Agency',     19900,  2000, 15, 10, 3);

CREATE TABLE tenants (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    plan_code              text NOT NULL REFERENCES plans(code),
    status                 text NOT NULL DEFAULT 'trial'
                           CHECK (status IN ('trial', 'active', 'past_due', 'suspended', 'cancelled')),
    -- Cached Σ credit_ledger.delta; only billing::ledger writes it, in the same transaction as the row.
    credits_balance        bigint NOT NULL DEFAULT 0,
    stripe_customer_id     text,
    stripe_subscription_id text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email               text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    password_hash       text NOT NULL,
    is_system_admin     boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
    tenant_id  bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE invitations (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email       text NOT NULL CHECK (email = lower(email)),
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
    token_hash  text NOT NULL,
    invited_by  bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX invitations_token_key ON invitations (tenant_id, token_hash);
-- One open invitation per address and tenant.
CREATE UNIQUE INDEX invitations_pending_email_key ON invitations (tenant_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id    bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    token_prefix text NOT NULL,
    token_hash   text NOT NULL,
    role         text NOT NULL DEFAULT 'system_bot' CHECK (role IN ('system_bot')),
    created_by   bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (tenant_id, token_hash);

-- Server-side record of each signed-in browser, so log out and password changes end sessions for real.
CREATE TABLE sessions (
    id         text PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    ip         text,
    user_agent text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE audit_events (
    id            bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id     bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    actor_user_id bigint REFERENCES users(id) ON DELETE SET NULL,
    actor_label   text NOT NULL,
    action        text NOT NULL,
    target_type   text NOT NULL DEFAULT '',
    target_id     text NOT NULL DEFAULT '',
    detail        jsonb NOT NULL DEFAULT '{}'::jsonb,
    ip            text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_events_tenant_time_idx ON audit_events (tenant_id, created_at DESC, id DESC);

CREATE TABLE credit_ledger (
    id            bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id     bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    delta         bigint NOT NULL,
    reason        text NOT NULL,
    reference     text NOT NULL,
    balance_after bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX credit_ledger_reason_ref_key ON credit_ledger (tenant_id, reason, reference);
CREATE INDEX credit_ledger_tenant_time_idx ON credit_ledger (tenant_id, created_at DESC);
