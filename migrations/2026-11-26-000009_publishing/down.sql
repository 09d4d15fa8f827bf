DROP TABLE published_media;
DROP TABLE publications;
ALTER TABLE sites DROP COLUMN default_author, DROP COLUMN plugin_secret_enc, DROP COLUMN api_root, DROP COLUMN seo_detected,
    DROP COLUMN companion_version, DROP COLUMN checked_at, DROP COLUMN check_ok, DROP COLUMN check_report;
