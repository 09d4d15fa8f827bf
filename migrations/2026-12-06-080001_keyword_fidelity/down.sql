ALTER TABLE keyword_imports DROP COLUMN warned_rows;
DELETE FROM keyword_import_rejects WHERE kind = 'warning';
ALTER TABLE keyword_import_rejects DROP CONSTRAINT keyword_import_rejects_kind_check;
ALTER TABLE keyword_import_rejects ADD CONSTRAINT keyword_import_rejects_kind_check
    CHECK (kind IN ('invalid', 'duplicate', 'existing'));
DROP TRIGGER keywords_intent_sync ON keywords;
DROP FUNCTION keywords_intent_sync();
DROP INDEX keywords_parent_idx;
DROP INDEX keywords_clicks_idx;
DROP INDEX keywords_impressions_idx;
ALTER TABLE keywords
    DROP COLUMN intents,
    DROP COLUMN volume_high,
    DROP COLUMN parent_keyword,
    DROP COLUMN clicks,
    DROP COLUMN impressions,
    DROP COLUMN ctr,
    DROP COLUMN position,
    DROP COLUMN competition,
    DROP COLUMN competition_index,
    DROP COLUMN bid_low,
    DROP COLUMN bid_high;
