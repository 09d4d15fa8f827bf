-- Typed jobs: the row a job is about in its own columns (one indexed "open work for this subject?" lookup),
-- the worker processes' heartbeats (a dead process's jobs are taken back within seconds, not at lease end),
-- and AI calls recorded when they start (a call cut short by a crash still shows in the log).

ALTER TABLE jobs ADD COLUMN subject_type text CHECK (subject_type IN ('task', 'image', 'import', 'cluster', 'site')),
                 ADD COLUMN subject_id bigint,
                 ADD CONSTRAINT jobs_subject_pair CHECK ((subject_type IS NULL) = (subject_id IS NULL));

UPDATE jobs SET subject_type = 'task', subject_id = (payload->>'task_id')::bigint
 WHERE kind IN ('writer.generate', 'writer.reparse', 'writer.image_prompts', 'publish.post', 'publish.unpublish')
   AND payload ? 'task_id';
UPDATE jobs SET subject_type = 'image', subject_id = (payload->>'image_id')::bigint WHERE kind = 'writer.image' AND payload ? 'image_id';
UPDATE jobs SET subject_type = 'import', subject_id = (payload->>'import_id')::bigint WHERE kind = 'planner.import' AND payload ? 'import_id';
UPDATE jobs SET subject_type = 'cluster', subject_id = (payload->>'cluster_id')::bigint WHERE kind = 'planner.ideas' AND payload ? 'cluster_id';
UPDATE jobs SET subject_type = 'site', subject_id = (payload->>'site_id')::bigint
 WHERE kind IN ('sites.check', 'publish.sync') AND payload ? 'site_id';

CREATE INDEX jobs_open_subject_idx ON jobs (tenant_id, subject_type, subject_id, kind)
    WHERE status IN ('queued', 'running') AND subject_id IS NOT NULL;
-- The last finished job of a subject (e.g. did the image prompts of this task fail?).
CREATE INDEX jobs_subject_idx ON jobs (tenant_id, subject_type, subject_id) WHERE subject_id IS NOT NULL;
-- The reaper looks up running jobs by their worker.
CREATE INDEX jobs_locked_by_idx ON jobs (locked_by) WHERE status = 'running';

-- One row per live worker process; it beats every second. A worker whose beat is older than a few seconds is
-- gone (killed, or its machine lost): its running jobs are taken back at once.
CREATE TABLE job_workers (
    id         text PRIMARY KEY,
    host       text NOT NULL DEFAULT '',
    started_at timestamptz NOT NULL DEFAULT now(),
    beat_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE ai_calls DROP CONSTRAINT ai_calls_status_check;
ALTER TABLE ai_calls ADD CONSTRAINT ai_calls_status_check CHECK (status IN ('started', 'ok', 'error', 'interrupted'));
CREATE INDEX ai_calls_job_idx ON ai_calls (tenant_id, job_id) WHERE job_id IS NOT NULL;
CREATE INDEX ai_calls_started_idx ON ai_calls (created_at) WHERE status = 'started';
