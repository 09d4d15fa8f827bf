-- "Cluster by meaning": clusters made by the local sentence-embedding model are marked 'semantic', and each
-- keyword's vector is kept per model so a second run embeds only keywords that are new or were reworded.
ALTER TABLE clusters DROP CONSTRAINT clusters_source_check;
ALTER TABLE clusters ADD CONSTRAINT clusters_source_check CHECK (source IN ('manual', 'local', 'ai', 'semantic'));

CREATE TABLE keyword_embeddings (
    tenant_id  bigint NOT NULL,
    keyword_id bigint NOT NULL,
    -- The model's name: vectors of different models never mix.
    model      text NOT NULL CHECK (length(model) BETWEEN 1 AND 100),
    -- The text that was embedded; a keyword edited since then is embedded again.
    keyword    text NOT NULL,
    -- The unit-length vector as little-endian f32s.
    vector     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, keyword_id, model),
    FOREIGN KEY (tenant_id, keyword_id) REFERENCES keywords (tenant_id, id) ON DELETE CASCADE
);
