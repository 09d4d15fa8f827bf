-- Accounts: verified email addresses, single-use account links (password reset, email verification,
-- email change), per-user notification switches and the record of notification mails already sent.

-- Users who exist already signed up before verification existed (or joined through an emailed invitation).
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = created_at;
ALTER TABLE users ADD COLUMN notify_automation boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN notify_credits boolean NOT NULL DEFAULT true;

-- A link sent by mail. Only the SHA-256 of its secret is kept; `used_at` makes it single-use.
CREATE TABLE account_tokens (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('password_reset', 'verify_email', 'change_email')),
    token_hash  text NOT NULL,
    -- The address the link was sent to (the new address for an email change).
    email       text NOT NULL CHECK (email = lower(email)),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE UNIQUE INDEX account_tokens_hash_key ON account_tokens (token_hash);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);

-- One row per notification mail sent, keyed so the same event (a run, a day) mails once.
CREATE TABLE notifications_sent (
    tenant_id  bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key        text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, key)
);
