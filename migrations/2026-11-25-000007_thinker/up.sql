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
