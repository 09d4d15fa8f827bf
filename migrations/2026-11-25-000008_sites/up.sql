-- WordPress sites a workspace publishes to (DESIGN.md §2). The application password is sealed like AI keys.
CREATE TABLE sites (
    tenant_id        bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    base_url         text NOT NULL,
    username         text NOT NULL,
    app_password_enc text NOT NULL,
    default_status   text NOT NULL DEFAULT 'draft' CHECK (default_status IN ('draft', 'publish', 'future')),
    default_category text NOT NULL DEFAULT '',
    seo_plugin       text NOT NULL DEFAULT 'auto' CHECK (seo_plugin IN ('auto', 'yoast', 'rankmath', 'none')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX sites_url_key ON sites (tenant_id, lower(base_url));
