ALTER TABLE tasks DROP COLUMN author_profile_id, DROP COLUMN strategy_id;
DROP TABLE strategies;
DROP TABLE author_profiles;
DROP TABLE prompt_overrides;
