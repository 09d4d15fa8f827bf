-- Automation (issue 7): per-workspace settings, the scheduler's slots (one run per slot across replicas),
-- the history of runs, and system-wide cadences and retention.

CREATE TABLE automation_settings (
    tenant_id           bigint PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    enabled             boolean NOT NULL DEFAULT false,
    -- Credits automation may reserve per UTC day (all steps together).
    daily_credit_budget integer NOT NULL DEFAULT 50 CHECK (daily_credit_budget BETWEEN 0 AND 1000000),
    publish_site_id     bigint,
    publish_status      text NOT NULL DEFAULT 'draft' CHECK (publish_status IN ('draft', 'publish')),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, publish_site_id) REFERENCES sites (tenant_id, id) ON DELETE SET NULL (publish_site_id)
);

CREATE TABLE automation_steps (
    tenant_id     bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    step          text NOT NULL CHECK (step IN ('cluster', 'ideas', 'content', 'images', 'publish')),
    enabled       boolean NOT NULL DEFAULT true,
    -- Keywords (cluster), clusters (ideas), tasks (content, images, publish) per run.
    items_per_run integer NOT NULL CHECK (items_per_run BETWEEN 1 AND 1000),
    -- ideas: only these clusters (empty = any without ideas yet).
    cluster_ids   bigint[] NOT NULL DEFAULT '{}',
    -- content/images/publish: task statuses the step picks from.
    statuses      text[] NOT NULL DEFAULT '{}',
    -- ideas: ideas per cluster.
    per_item      integer NOT NULL DEFAULT 3 CHECK (per_item BETWEEN 1 AND 10),
    PRIMARY KEY (tenant_id, step)
);

-- A scheduled slot of a step, claimed by the one replica that runs it.
CREATE TABLE cron_slots (
    step        text NOT NULL,
    slot        timestamptz NOT NULL,
    claimed_by  text NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    -- What the run did, for the System page (tenants reached, jobs queued, rows removed…).
    result      jsonb,
    PRIMARY KEY (step, slot)
);

CREATE TABLE cron_runs (
    tenant_id       bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    step            text NOT NULL,
    slot            timestamptz NOT NULL,
    trigger         text NOT NULL CHECK (trigger IN ('schedule', 'run_now')),
    status          text NOT NULL CHECK (status IN ('done', 'skipped', 'failed')),
    -- Why it was skipped or failed, in words the workspace can act on.
    reason          text NOT NULL DEFAULT '',
    picked          integer NOT NULL DEFAULT 0,
    enqueued        integer NOT NULL DEFAULT 0,
    credits_reserved bigint NOT NULL DEFAULT 0,
    job_ids         bigint[] NOT NULL DEFAULT '{}',
    -- Failed or skipped for credits: shown as a notice until acknowledged.
    notice          boolean NOT NULL DEFAULT false,
    acknowledged_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX cron_runs_list_idx ON cron_runs (tenant_id, created_at DESC, id DESC);
CREATE INDEX cron_runs_all_idx ON cron_runs (created_at DESC);
CREATE INDEX cron_runs_notice_idx ON cron_runs (tenant_id) WHERE notice AND acknowledged_at IS NULL;

-- System settings (system administrators): cadences (5-field cron, UTC) and retention in days.
CREATE TABLE system_settings (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO system_settings (key, value) VALUES
    ('cron.cluster', '0 */6 * * *'),
    ('cron.ideas', '10 */6 * * *'),
    ('cron.content', '20 */3 * * *'),
    ('cron.images', '40 */3 * * *'),
    ('cron.publish', '0 */12 * * *'),
    ('cron.sync', '30 */6 * * *'),
    ('cron.cleanup', '15 3 * * *'),
    ('retention.ai_calls_days', '90'),
    ('retention.jobs_days', '30'),
    ('retention.cron_runs_days', '90'),
    ('retention.audit_days', '365'),
    ('retention.imports_days', '2');

