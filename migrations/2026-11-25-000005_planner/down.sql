ALTER TABLE jobs DROP COLUMN progress_done, DROP COLUMN progress_total;
DROP TABLE keyword_import_rejects;
DROP TABLE keyword_import_chunks;
DROP TABLE keyword_imports;
DROP TABLE tasks;
DROP TABLE content_ideas;
DROP TABLE keywords;
DROP TABLE clusters;
