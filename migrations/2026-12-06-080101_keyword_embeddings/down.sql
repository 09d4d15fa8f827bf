DROP TABLE keyword_embeddings;
-- Semantic clusters stay, counted as made by the local clusterer.
UPDATE clusters SET source = 'local' WHERE source = 'semantic';
ALTER TABLE clusters DROP CONSTRAINT clusters_source_check;
ALTER TABLE clusters ADD CONSTRAINT clusters_source_check CHECK (source IN ('manual', 'local', 'ai'));
