-- Writer (DESIGN.md §2): the article on a task, its SEO meta, and every earlier version.
ALTER TABLE tasks
    ADD COLUMN meta_title       text NOT NULL DEFAULT '',
    ADD COLUMN meta_description text NOT NULL DEFAULT '',
    ADD COLUMN slug             text NOT NULL DEFAULT '',
    ADD COLUMN primary_keyword  text NOT NULL DEFAULT '',
    -- Sanitised with the allow-list before it is stored; never raw model output.
    ADD COLUMN content_html     text NOT NULL DEFAULT '',
    -- Counted from the stored HTML's text, not taken from the model.
    ADD COLUMN word_count       integer NOT NULL DEFAULT 0,
    ADD COLUMN ai_model         text NOT NULL DEFAULT '',
    -- Why the last generation failed (shown on the task), cleared by the next success.
    ADD COLUMN error            text,
    ADD COLUMN credits_spent    bigint NOT NULL DEFAULT 0;
CREATE INDEX tasks_status_idx ON tasks (tenant_id, status, updated_at DESC);

CREATE TABLE task_versions (
    tenant_id        bigint NOT NULL,
    task_id          bigint NOT NULL,
    version          integer NOT NULL,
    -- What made the version that this one was replaced by: generate, reparse, edit, restore.
    replaced_by      text NOT NULL,
    title            text NOT NULL,
    meta_title       text NOT NULL,
    meta_description text NOT NULL,
    slug             text NOT NULL,
    content_html     text NOT NULL,
    word_count       integer NOT NULL,
    created_by       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, task_id, version),
    FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE
);
