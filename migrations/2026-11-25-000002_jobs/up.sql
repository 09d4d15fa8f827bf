-- Durable job queue (DESIGN.md §3). Enqueued in the same transaction as the change that asks for it;
-- claimed with FOR UPDATE SKIP LOCKED; a lease that runs out returns the job to the queue.
CREATE TABLE jobs (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id       bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind            text NOT NULL,
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    max_attempts    integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    run_at          timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    locked_by       text,
    last_error      text,
    result          jsonb,
    -- Credits reserved at enqueue; settled on success, refunded on failure or cancellation.
    credits         bigint NOT NULL DEFAULT 0 CHECK (credits >= 0),
    idempotency_key text,
    created_by      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The claim walks tenants with ready work, then each tenant's oldest jobs.
CREATE INDEX jobs_ready_idx ON jobs (tenant_id, run_at, id) WHERE status = 'queued';
CREATE INDEX jobs_running_idx ON jobs (tenant_id) WHERE status = 'running';
CREATE INDEX jobs_lease_idx ON jobs (locked_until) WHERE status = 'running';
CREATE INDEX jobs_tenant_list_idx ON jobs (tenant_id, created_at DESC, id DESC);
