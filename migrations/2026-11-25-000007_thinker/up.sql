-- Thinker (DESIGN.md §2): a workspace's own versions of the built-in prompts. The newest version of a key
-- is the one in use; a version with an empty template means "back to the built-in prompt".
CREATE TABLE prompt_overrides (
    tenant_id  bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key        text NOT NULL,
    version    integer NOT NULL,
    system     text NOT NULL DEFAULT '',
    template   text NOT NULL DEFAULT '',
    created_by text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key, version)
);

-- Who the article is written as, and how it is built; a task may pick one of each.
CREATE TABLE author_profiles (
    tenant_id  bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    persona    text NOT NULL DEFAULT '',
    tone       text NOT NULL DEFAULT '',
    audience   text NOT NULL DEFAULT '',
    language   text NOT NULL DEFAULT 'English',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX author_profiles_name ON author_profiles (tenant_id, lower(name));

CREATE TABLE strategies (
    tenant_id      bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    structure      text NOT NULL DEFAULT '',
    cta            text NOT NULL DEFAULT '',
    internal_links text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX strategies_name ON strategies (tenant_id, lower(name));

ALTER TABLE tasks
    ADD COLUMN author_profile_id bigint,
    ADD COLUMN strategy_id bigint,
    ADD FOREIGN KEY (tenant_id, author_profile_id) REFERENCES author_profiles (tenant_id, id) ON DELETE SET NULL (author_profile_id),
    ADD FOREIGN KEY (tenant_id, strategy_id) REFERENCES strategies (tenant_id, id) ON DELETE SET NULL (strategy_id);
