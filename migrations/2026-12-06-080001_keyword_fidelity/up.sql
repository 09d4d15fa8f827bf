-- Keyword data kept as the tools export it: every intent of a keyword, a volume range's upper bound, Ahrefs'
-- parent keyword, Search Console's clicks / impressions / CTR / position and Keyword Planner's competition and
-- top-of-page bids, each in its own column instead of squeezed into volume, difficulty or CPC.
ALTER TABLE keywords
    ADD COLUMN intents text[] NOT NULL DEFAULT '{}'
        CHECK (intents <@ ARRAY['informational', 'navigational', 'commercial', 'transactional']::text[]),
    -- Set for an estimated range ("1K – 10K"): volume is its lower bound, volume_high its upper one.
    ADD COLUMN volume_high integer CHECK (volume_high IS NULL OR (volume IS NOT NULL AND volume_high >= volume)),
    ADD COLUMN parent_keyword text CHECK (length(parent_keyword) BETWEEN 1 AND 255),
    ADD COLUMN clicks integer CHECK (clicks >= 0),
    ADD COLUMN impressions integer CHECK (impressions >= 0),
    -- Click-through rate in percent (1.68 = 1.68 %).
    ADD COLUMN ctr double precision CHECK (ctr BETWEEN 0 AND 100),
    -- Average position in search results (1 = top).
    ADD COLUMN position double precision CHECK (position > 0),
    ADD COLUMN competition text CHECK (competition IN ('low', 'medium', 'high')),
    ADD COLUMN competition_index smallint CHECK (competition_index BETWEEN 0 AND 100),
    ADD COLUMN bid_low double precision CHECK (bid_low >= 0),
    ADD COLUMN bid_high double precision CHECK (bid_high >= 0);

UPDATE keywords SET intents = ARRAY[intent] WHERE intent IS NOT NULL;

-- `intent` stays as the first of `intents` (the main one), kept here so it can never disagree with the set.
-- A writer that sets only `intent` (older code, SQL by hand) sets the set to that one intent.
CREATE FUNCTION keywords_intent_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND cardinality(NEW.intents) = 0 AND NEW.intent IS NOT NULL THEN
        NEW.intents := ARRAY[NEW.intent];
    ELSIF TG_OP = 'UPDATE' AND NEW.intent IS DISTINCT FROM OLD.intent AND NEW.intents IS NOT DISTINCT FROM OLD.intents THEN
        NEW.intents := CASE WHEN NEW.intent IS NULL THEN '{}'::text[] ELSE ARRAY[NEW.intent] END;
    END IF;
    NEW.intent := NEW.intents[1];
    RETURN NEW;
END $$;
CREATE TRIGGER keywords_intent_sync BEFORE INSERT OR UPDATE ON keywords
    FOR EACH ROW EXECUTE FUNCTION keywords_intent_sync();

CREATE INDEX keywords_parent_idx ON keywords (tenant_id, lower(parent_keyword)) WHERE parent_keyword IS NOT NULL;
CREATE INDEX keywords_clicks_idx ON keywords (tenant_id, clicks DESC NULLS LAST, id DESC) WHERE clicks IS NOT NULL;
CREATE INDEX keywords_impressions_idx ON keywords (tenant_id, impressions DESC NULLS LAST, id DESC) WHERE impressions IS NOT NULL;

-- A row imported with a note (an unknown intent word or country left out) is listed with the rejects as a warning.
ALTER TABLE keyword_import_rejects DROP CONSTRAINT keyword_import_rejects_kind_check;
ALTER TABLE keyword_import_rejects ADD CONSTRAINT keyword_import_rejects_kind_check
    CHECK (kind IN ('invalid', 'duplicate', 'existing', 'warning'));
ALTER TABLE keyword_imports ADD COLUMN warned_rows integer NOT NULL DEFAULT 0;
