-- Migration from the IGNY8 WordPress plugin (issue 16, seed §7): each `igny8 import-wp` run with its per-table
-- report, every row it skipped or repaired with the reason, and the map from source rows to imported rows
-- that makes a second run import only what is new or changed.

CREATE TABLE migration_runs (
    tenant_id   bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    -- Which WordPress the rows came from (its siteurl option, or host/database when it has none).
    source      text NOT NULL,
    -- The MySQL URL without its password.
    source_url  text NOT NULL DEFAULT '',
    prefix      text NOT NULL DEFAULT 'wp_',
    status      text NOT NULL CHECK (status IN ('done', 'failed')),
    -- Why it failed; the workspace was left as it was before the run.
    error       text,
    -- [{table, target, source_rows, imported, inserted, updated, unchanged, skipped, repaired, source_hash,
    --   imported_hash, ok}] and the switch-over, as printed by the command.
    report      jsonb NOT NULL DEFAULT '{}'::jsonb,
    ok          boolean NOT NULL DEFAULT false,
    created_by  text NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX migration_runs_list_idx ON migration_runs (tenant_id, started_at DESC, id DESC);

-- One line per source row a run skipped (kind 'skipped') or imported after repairing it (kind 'repaired').
CREATE TABLE migration_issues (
    tenant_id    bigint NOT NULL,
    run_id       bigint NOT NULL,
    seq          integer NOT NULL,
    source_table text NOT NULL,
    source_id    text NOT NULL DEFAULT '',
    kind         text NOT NULL CHECK (kind IN ('skipped', 'repaired')),
    reason       text NOT NULL,
    PRIMARY KEY (tenant_id, run_id, seq),
    FOREIGN KEY (tenant_id, run_id) REFERENCES migration_runs (tenant_id, id) ON DELETE CASCADE
);

-- Source row → imported row. `row_hash` is the hash of the source row as read: the next run writes a row
-- again only when it changed.
CREATE TABLE migration_map (
    tenant_id    bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    source       text NOT NULL,
    source_table text NOT NULL,
    source_id    text NOT NULL,
    target_id    bigint NOT NULL,
    row_hash     text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, source, source_table, source_id)
);
