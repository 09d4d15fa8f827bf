DROP TABLE images;
ALTER TABLE ai_settings DROP COLUMN images_per_article;
DROP TABLE task_versions;
DROP INDEX tasks_status_idx;
ALTER TABLE tasks DROP COLUMN meta_title, DROP COLUMN meta_description, DROP COLUMN slug, DROP COLUMN primary_keyword,
    DROP COLUMN content_html, DROP COLUMN word_count, DROP COLUMN ai_model, DROP COLUMN error, DROP COLUMN credits_spent;
