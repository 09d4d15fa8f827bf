-- Planner (DESIGN.md §2): keywords → clusters → content ideas → writer tasks, plus CSV imports.
-- Every table is keyed (tenant_id, id) and references its parents through (tenant_id, parent_id), so a row
-- can never point at another tenant's cluster, idea or import.

CREATE TABLE clusters (
    tenant_id   bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    -- How it was made: by hand, the local clusterer, or the AI.
    source      text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'local', 'ai')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX clusters_name_key ON clusters (tenant_id, lower(name));

CREATE TABLE keywords (
    tenant_id   bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    keyword     text NOT NULL CHECK (length(keyword) BETWEEN 1 AND 255),
    volume      integer CHECK (volume >= 0),
    difficulty  smallint CHECK (difficulty BETWEEN 0 AND 100),
    cpc         double precision CHECK (cpc >= 0),
    intent      text CHECK (intent IN ('informational', 'navigational', 'commercial', 'transactional')),
    country     text CHECK (country ~ '^[A-Z]{2}$'),
    sector      text,
    cluster_id  bigint,
    status      text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'clustered', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, cluster_id) REFERENCES clusters (tenant_id, id) ON DELETE SET NULL (cluster_id)
);
-- Unique per tenant, case-insensitively; also the index behind sort/search by keyword.
CREATE UNIQUE INDEX keywords_keyword_key ON keywords (tenant_id, lower(keyword));
-- Sorts and filters the keywords page offers, each led by the tenant.
CREATE INDEX keywords_volume_idx ON keywords (tenant_id, volume DESC NULLS LAST, id DESC);
CREATE INDEX keywords_difficulty_idx ON keywords (tenant_id, difficulty, id);
CREATE INDEX keywords_created_idx ON keywords (tenant_id, created_at DESC, id DESC);
CREATE INDEX keywords_cluster_idx ON keywords (tenant_id, cluster_id);
CREATE INDEX keywords_status_idx ON keywords (tenant_id, status);

CREATE TABLE content_ideas (
    tenant_id       bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    cluster_id      bigint,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description     text NOT NULL DEFAULT '',
    content_type    text NOT NULL DEFAULT 'post',
    structure       text NOT NULL DEFAULT 'guide',
    target_keywords text[] NOT NULL DEFAULT '{}',
    -- The H2 headings of the planned article, in order.
    outline         text[] NOT NULL DEFAULT '{}',
    estimated_words integer NOT NULL DEFAULT 1500 CHECK (estimated_words BETWEEN 100 AND 20000),
    status          text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'queued', 'done')),
    -- The job that generated it (none when written by hand).
    job_id          bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, cluster_id) REFERENCES clusters (tenant_id, id) ON DELETE SET NULL (cluster_id)
);
CREATE INDEX content_ideas_list_idx ON content_ideas (tenant_id, created_at DESC, id DESC);
CREATE INDEX content_ideas_cluster_idx ON content_ideas (tenant_id, cluster_id);

-- Writer tasks: created from ideas ("send to writer") or by hand. The writer module adds its columns.
CREATE TABLE tasks (
    tenant_id       bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    idea_id         bigint,
    cluster_id      bigint,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description     text NOT NULL DEFAULT '',
    content_type    text NOT NULL DEFAULT 'post',
    structure       text NOT NULL DEFAULT 'guide',
    target_keywords text[] NOT NULL DEFAULT '{}',
    outline         text[] NOT NULL DEFAULT '{}',
    word_count_goal integer NOT NULL DEFAULT 1500 CHECK (word_count_goal BETWEEN 100 AND 20000),
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'generating', 'draft', 'review', 'ready', 'publishing', 'published', 'failed')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, idea_id) REFERENCES content_ideas (tenant_id, id) ON DELETE SET NULL (idea_id),
    FOREIGN KEY (tenant_id, cluster_id) REFERENCES clusters (tenant_id, id) ON DELETE SET NULL (cluster_id)
);
-- An idea goes to the writer once.
CREATE UNIQUE INDEX tasks_idea_key ON tasks (tenant_id, idea_id) WHERE idea_id IS NOT NULL;
CREATE INDEX tasks_list_idx ON tasks (tenant_id, updated_at DESC, id DESC);

-- CSV imports: the upload is kept in 1 MiB chunks (any replica's worker can read it, and no step holds the
-- whole file in memory); analysis fills the counts and rejects; apply writes the keywords in one transaction.
CREATE TABLE keyword_imports (
    tenant_id      bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    filename       text NOT NULL,
    size_bytes     bigint NOT NULL DEFAULT 0,
    status         text NOT NULL DEFAULT 'uploading'
                   CHECK (status IN ('uploading', 'analyzing', 'mapping', 'ready', 'importing', 'done', 'failed')),
    source         text NOT NULL DEFAULT '',
    delimiter      text NOT NULL DEFAULT '',
    headers        text[] NOT NULL DEFAULT '{}',
    mapping        jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Columns the user chose on the preview (field → column index), overriding the detected ones.
    column_override jsonb,
    preview        jsonb NOT NULL DEFAULT '[]'::jsonb,
    total_rows     integer NOT NULL DEFAULT 0,
    good_rows      integer NOT NULL DEFAULT 0,
    rejected_rows  integer NOT NULL DEFAULT 0,
    existing_rows  integer NOT NULL DEFAULT 0,
    processed_rows integer NOT NULL DEFAULT 0,
    -- Bytes of the file the running step has read (the progress bar).
    bytes_done     bigint NOT NULL DEFAULT 0,
    on_existing    text NOT NULL DEFAULT 'skip' CHECK (on_existing IN ('skip', 'update')),
    inserted       integer NOT NULL DEFAULT 0,
    updated        integer NOT NULL DEFAULT 0,
    skipped        integer NOT NULL DEFAULT 0,
    error          text,
    created_by     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX keyword_imports_list_idx ON keyword_imports (tenant_id, created_at DESC);

CREATE TABLE keyword_import_chunks (
    tenant_id bigint NOT NULL,
    import_id bigint NOT NULL,
    seq       integer NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (tenant_id, import_id, seq),
    FOREIGN KEY (tenant_id, import_id) REFERENCES keyword_imports (tenant_id, id) ON DELETE CASCADE
);

-- Rows the import will not write, with the reason: invalid, a duplicate within the file, or already present.
CREATE TABLE keyword_import_rejects (
    tenant_id bigint NOT NULL,
    import_id bigint NOT NULL,
    line      bigint NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('invalid', 'duplicate', 'existing')),
    keyword   text NOT NULL DEFAULT '',
    reason    text NOT NULL,
    PRIMARY KEY (tenant_id, import_id, line),
    FOREIGN KEY (tenant_id, import_id) REFERENCES keyword_imports (tenant_id, id) ON DELETE CASCADE
);

-- Progress of long jobs (import, clustering batches) for the pages' live progress bars.
ALTER TABLE jobs ADD COLUMN progress_done integer NOT NULL DEFAULT 0,
                 ADD COLUMN progress_total integer NOT NULL DEFAULT 0;

-- A per-tenant revision of each long list (keywords, tasks), bumped by every statement that changes its
-- rows (including a foreign key's SET NULL). The lists cache their "N matching" count under the revision,
-- so paging through a filter of 100,000 rows does not count them again on every page.
CREATE TABLE list_revisions (
    tenant_id bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    list      text NOT NULL,
    rev       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, list)
);
-- TG_ARGV[0] names the list.
CREATE FUNCTION bump_list_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO list_revisions (tenant_id, list, rev)
    SELECT DISTINCT tenant_id, TG_ARGV[0], 1 FROM changed
    ON CONFLICT (tenant_id, list) DO UPDATE SET rev = list_revisions.rev + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER keywords_revision_ins AFTER INSERT ON keywords REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_list_revision('keywords');
CREATE TRIGGER keywords_revision_upd AFTER UPDATE ON keywords REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_list_revision('keywords');
CREATE TRIGGER keywords_revision_del AFTER DELETE ON keywords REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_list_revision('keywords');
CREATE TRIGGER tasks_revision_ins AFTER INSERT ON tasks REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_list_revision('tasks');
CREATE TRIGGER tasks_revision_upd AFTER UPDATE ON tasks REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_list_revision('tasks');
CREATE TRIGGER tasks_revision_del AFTER DELETE ON tasks REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_list_revision('tasks');

-- AI calls are logged under what they were for (cluster_keywords, content_ideas, article_content, …).
ALTER TABLE ai_calls DROP CONSTRAINT ai_calls_operation_check;
ALTER TABLE ai_calls ADD CONSTRAINT ai_calls_operation_check CHECK (operation ~ '^[a-z_]{1,40}$');
