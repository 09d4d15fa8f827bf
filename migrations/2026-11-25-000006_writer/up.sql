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

-- How many in-article images an article gets (besides the featured one).
ALTER TABLE ai_settings ADD COLUMN images_per_article smallint NOT NULL DEFAULT 2 CHECK (images_per_article BETWEEN 0 AND 4);

-- Images of an article, stored here in Postgres (content type, size, hash): one place, backed up with the rest.
-- `position` 0 is the featured image; n ≥ 1 is placed after the article's n-th H2.
CREATE TABLE images (
    tenant_id    bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    task_id      bigint NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('featured', 'in_article')),
    position     integer NOT NULL CHECK (position >= 0),
    prompt       text NOT NULL,
    alt          text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'ready', 'failed')),
    provider     text NOT NULL DEFAULT '',
    model        text NOT NULL DEFAULT '',
    content_type text NOT NULL DEFAULT '',
    size_bytes   integer NOT NULL DEFAULT 0,
    sha256       text NOT NULL DEFAULT '',
    data         bytea,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX images_task_position ON images (tenant_id, task_id, position);
CREATE INDEX images_list_idx ON images (tenant_id, created_at DESC, id DESC);
