-- Platform AI: the service's own provider accounts serve every workspace by default; a workspace's own key is a
-- plan option; the offline dev provider's output is free and labelled "sample".

CREATE TABLE platform_ai_providers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('openai', 'openai_images', 'runware')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    base_url    text NOT NULL CHECK (length(base_url) BETWEEN 1 AND 300),
    api_key_enc text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Which provider and model serve each purpose (the AI-call log's operation names).
CREATE TABLE platform_ai_purposes (
    purpose        text PRIMARY KEY,
    provider_id    bigint NOT NULL REFERENCES platform_ai_providers (id) ON DELETE CASCADE,
    model          text NOT NULL CHECK (length(model) BETWEEN 1 AND 100),
    fallback_model text CHECK (fallback_model IS NULL OR length(fallback_model) BETWEEN 1 AND 100),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_ai_purposes_provider ON platform_ai_purposes (provider_id);

ALTER TABLE plans ADD COLUMN IF NOT EXISTS own_ai_key boolean NOT NULL DEFAULT false;
UPDATE plans SET own_ai_key = true WHERE code IN ('pro', 'agency');

-- "platform" = the service's providers; "openai" / "runware" = the workspace's own key; "dev" = sample text.
ALTER TABLE ai_settings DROP CONSTRAINT IF EXISTS ai_settings_text_provider_check;
ALTER TABLE ai_settings DROP CONSTRAINT IF EXISTS ai_settings_image_provider_check;
UPDATE ai_settings SET text_provider = 'platform' WHERE text_provider = 'dev';
UPDATE ai_settings SET image_provider = 'platform' WHERE image_provider = 'dev';
ALTER TABLE ai_settings ALTER COLUMN text_provider SET DEFAULT 'platform';
ALTER TABLE ai_settings ALTER COLUMN image_provider SET DEFAULT 'platform';
ALTER TABLE ai_settings ADD CONSTRAINT ai_settings_text_provider_check CHECK (text_provider IN ('platform', 'openai', 'dev'));
ALTER TABLE ai_settings ADD CONSTRAINT ai_settings_image_provider_check CHECK (image_provider IN ('platform', 'openai', 'runware', 'dev'));

-- Whose account a call ran on: the platform's, the workspace's own key, or the free dev provider.
ALTER TABLE ai_calls ADD COLUMN source text NOT NULL DEFAULT 'platform' CHECK (source IN ('platform', 'own', 'sample'));
UPDATE ai_calls SET source = 'sample' WHERE provider = 'dev';

ALTER TABLE tasks ADD COLUMN sample boolean NOT NULL DEFAULT false;
ALTER TABLE content_ideas ADD COLUMN sample boolean NOT NULL DEFAULT false;
ALTER TABLE images ADD COLUMN sample boolean NOT NULL DEFAULT false;
