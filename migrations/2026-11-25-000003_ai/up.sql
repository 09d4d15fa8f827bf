-- AI layer: prices per model, each tenant's provider settings (keys encrypted), and one row per call.

-- Micro-dollars (1e-6 USD): per 1M input/output tokens, per image. Editable by the system admin.
CREATE TABLE model_rates (
    provider              text NOT NULL,
    model                 text NOT NULL,
    input_per_mtok_micros  bigint NOT NULL DEFAULT 0 CHECK (input_per_mtok_micros >= 0),
    output_per_mtok_micros bigint NOT NULL DEFAULT 0 CHECK (output_per_mtok_micros >= 0),
    per_image_micros       bigint NOT NULL DEFAULT 0 CHECK (per_image_micros >= 0),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, model)
);
INSERT INTO model_rates (provider, model, input_per_mtok_micros, output_per_mtok_micros, per_image_micros) VALUES
    ('openai', 'gpt-4o-mini',   150000,   600000,     0),
    ('openai', 'gpt-4o',       2500000, 10000000,     0),
    ('openai', 'gpt-4.1-mini',  400000,  1600000,     0),
    ('openai', 'dall-e-3',           0,        0, 40000),
    ('openai', 'gpt-image-1',        0,        0, 42000),
    ('runware', 'runware:100@1',     0,        0,  1300),
    ('dev', 'dev-text',              0,        0,     0),
    ('dev', 'dev-image',             0,        0,     0);

CREATE TABLE ai_settings (
    tenant_id         bigint PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    text_provider     text NOT NULL DEFAULT 'dev' CHECK (text_provider IN ('dev', 'openai')),
    text_base_url     text NOT NULL DEFAULT 'https://api.openai.com/v1',
    -- "v1:<key id>:<base64 nonce+ciphertext>" (AES-256-GCM); never the key itself.
    text_api_key_enc  text,
    text_model        text NOT NULL DEFAULT 'gpt-4o-mini',
    fallback_model    text,
    image_provider    text NOT NULL DEFAULT 'dev' CHECK (image_provider IN ('dev', 'openai', 'runware')),
    image_base_url    text NOT NULL DEFAULT '',
    image_api_key_enc text,
    image_model       text NOT NULL DEFAULT 'dall-e-3',
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ai_calls (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    job_id      bigint,
    provider    text NOT NULL,
    model       text NOT NULL,
    operation   text NOT NULL CHECK (operation IN ('chat', 'image')),
    tokens_in   integer NOT NULL DEFAULT 0,
    tokens_out  integer NOT NULL DEFAULT 0,
    images      integer NOT NULL DEFAULT 0,
    cost_micros bigint NOT NULL DEFAULT 0,
    latency_ms  integer NOT NULL DEFAULT 0,
    status      text NOT NULL CHECK (status IN ('ok', 'error')),
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ai_calls_tenant_time_idx ON ai_calls (tenant_id, created_at DESC);
