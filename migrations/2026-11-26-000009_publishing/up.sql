-- Publishing to WordPress (issue 6): what the connection self-test learnt about each site, one publication per
-- task, and which images are already in a site's media library.
ALTER TABLE sites
    -- WordPress user id posts are published as; NULL = the connected user.
    ADD COLUMN default_author    bigint CHECK (default_author > 0),
    ADD COLUMN plugin_secret_enc text NOT NULL DEFAULT '',
    -- 'wp-json' or 'rest_route' once the self-test found the REST API; '' before.
    ADD COLUMN api_root          text NOT NULL DEFAULT '' CHECK (api_root IN ('', 'wp-json', 'rest_route')),
    ADD COLUMN seo_detected      text NOT NULL DEFAULT '',
    ADD COLUMN companion_version text NOT NULL DEFAULT '',
    ADD COLUMN checked_at        timestamptz,
    ADD COLUMN check_ok          boolean,
    ADD COLUMN check_report      jsonb;

CREATE TABLE publications (
    tenant_id          bigint NOT NULL,
    task_id            bigint NOT NULL,
    site_id            bigint NOT NULL,
    -- Stored in the same step that created the post; a retry looks it up before creating anything.
    remote_id          bigint,
    -- As WordPress last said: publish, future, draft, pending, private, trash — or deleted.
    remote_status      text NOT NULL DEFAULT '',
    remote_url         text NOT NULL DEFAULT '',
    remote_modified    timestamptz,
    state              text NOT NULL DEFAULT 'queued'
                       CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- What was asked: publish, draft or future (scheduled for scheduled_at).
    post_status        text NOT NULL CHECK (post_status IN ('draft', 'publish', 'future')),
    scheduled_at       timestamptz,
    categories         text[] NOT NULL DEFAULT '{}',
    tags               text[] NOT NULL DEFAULT '{}',
    task_status_before text NOT NULL DEFAULT 'ready',
    -- [{step, ok, detail, at}] of the last run, written as each step ends.
    steps              jsonb NOT NULL DEFAULT '[]',
    warning            text,
    error              text,
    published_at       timestamptz,
    synced_at          timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, task_id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX publications_site_idx ON publications (tenant_id, site_id) WHERE remote_id IS NOT NULL;

CREATE TABLE published_media (
    tenant_id  bigint NOT NULL,
    image_id   bigint NOT NULL,
    site_id    bigint NOT NULL,
    remote_id  bigint NOT NULL,
    remote_url text NOT NULL,
    -- An image regenerated since is uploaded again.
    sha256     text NOT NULL,
    attached_to bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, image_id, site_id),
    FOREIGN KEY (tenant_id, image_id) REFERENCES images (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id) ON DELETE CASCADE
);
