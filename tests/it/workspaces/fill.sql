INSERT INTO clusters (tenant_id, name, source) VALUES ({t}, 'cluster {tag}', 'manual');
INSERT INTO keywords (tenant_id, keyword, cluster_id) SELECT {t}, 'keyword {tag}', id FROM clusters WHERE tenant_id = {t};
INSERT INTO keyword_embeddings (tenant_id, keyword_id, model, keyword, vector)
    SELECT {t}, id, 'all-minilm-l6-v2', keyword, '\x0000803f'::bytea FROM keywords WHERE tenant_id = {t};
INSERT INTO content_ideas (tenant_id, cluster_id, title) SELECT {t}, id, 'idea {tag}' FROM clusters WHERE tenant_id = {t};
INSERT INTO author_profiles (tenant_id, name) VALUES ({t}, 'author {tag}');
INSERT INTO strategies (tenant_id, name) VALUES ({t}, 'strategy {tag}');
INSERT INTO tasks (tenant_id, idea_id, cluster_id, title, content_html, author_profile_id, strategy_id)
    SELECT {t}, i.id, i.cluster_id, 'task {tag}', '<h2>article {tag}</h2>',
           (SELECT id FROM author_profiles WHERE tenant_id = {t}), (SELECT id FROM strategies WHERE tenant_id = {t})
      FROM content_ideas i WHERE i.tenant_id = {t};
INSERT INTO task_versions (tenant_id, task_id, version, replaced_by, title, meta_title, meta_description, slug, content_html, word_count)
    SELECT {t}, id, 1, 'generate', 'version {tag}', 'm', 'd', 's', '<p>old {tag}</p>', 2 FROM tasks WHERE tenant_id = {t};
INSERT INTO images (tenant_id, task_id, kind, position, prompt, data)
    SELECT {t}, id, 'featured', 0, 'image {tag}', '\x89504e470d0a'::bytea FROM tasks WHERE tenant_id = {t};
INSERT INTO sites (tenant_id, name, base_url, username, app_password_enc, plugin_secret_enc)
    VALUES ({t}, 'site {tag}', 'https://{tag}.example.com', 'editor', 'SEALEDPASSWORD{tag}', 'SEALEDPLUGIN{tag}');
INSERT INTO publications (tenant_id, task_id, site_id, post_status, remote_id)
    SELECT {t}, k.id, s.id, 'draft', 77 FROM tasks k, sites s WHERE k.tenant_id = {t} AND s.tenant_id = {t};
INSERT INTO published_media (tenant_id, image_id, site_id, remote_id, remote_url, sha256)
    SELECT {t}, i.id, s.id, 5, 'https://{tag}.example.com/m.png', 'digest' FROM images i, sites s WHERE i.tenant_id = {t} AND s.tenant_id = {t};
INSERT INTO prompt_overrides (tenant_id, key, version, template) VALUES ({t}, 'content', 1, 'prompt {tag}');
INSERT INTO automation_settings (tenant_id, publish_site_id) SELECT {t}, id FROM sites WHERE tenant_id = {t}
    ON CONFLICT (tenant_id) DO UPDATE SET publish_site_id = EXCLUDED.publish_site_id;
INSERT INTO automation_steps (tenant_id, step, items_per_run) VALUES ({t}, 'cluster', 5) ON CONFLICT DO NOTHING;
INSERT INTO cron_runs (tenant_id, step, slot, trigger, status, reason) VALUES ({t}, 'cluster', now(), 'run_now', 'skipped', 'run {tag}');
INSERT INTO ai_settings (tenant_id, text_provider, text_api_key_enc, image_api_key_enc) VALUES ({t}, 'openai', 'SEALEDKEY{tag}', 'SEALEDIMGKEY{tag}')
    ON CONFLICT (tenant_id) DO UPDATE SET text_api_key_enc = EXCLUDED.text_api_key_enc, image_api_key_enc = EXCLUDED.image_api_key_enc;
INSERT INTO ai_calls (tenant_id, provider, model, operation, status) VALUES ({t}, 'dev', 'model-{tag}', 'chat', 'ok');
INSERT INTO api_tokens (tenant_id, name, token_prefix, token_hash, created_by) VALUES ({t}, 'token {tag}', 'igy8_{t}_ab', 'TOKENHASH{tag}', {u});
INSERT INTO invitations (tenant_id, email, role, token_hash, expires_at)
    VALUES ({t}, 'invitee-{tag}@example.com', 'editor', 'INVITEHASH{tag}', now() + interval '1 day');
INSERT INTO jobs (tenant_id, kind, payload, run_at)
    VALUES ({t}, 'mail.send', '{"to": "mail-{tag}@example.com", "subject": "s", "sealed": "SEALEDMAIL{tag}"}', now() + interval '1 day');
INSERT INTO keyword_imports (tenant_id, filename) VALUES ({t}, 'import-{tag}.csv');
INSERT INTO keyword_import_chunks (tenant_id, import_id, seq, data)
    SELECT {t}, id, 0, convert_to('keyword {tag}', 'UTF8') FROM keyword_imports WHERE tenant_id = {t};
INSERT INTO keyword_import_rejects (tenant_id, import_id, line, kind, keyword, reason)
    SELECT {t}, id, 2, 'invalid', 'rejected {tag}', 'reason' FROM keyword_imports WHERE tenant_id = {t};
INSERT INTO migration_runs (tenant_id, source, status, started_at) VALUES ({t}, 'wp-{tag}', 'done', now());
INSERT INTO migration_issues (tenant_id, run_id, seq, source_table, kind, reason)
    SELECT {t}, id, 1, 'wp_igny8_x', 'skipped', 'issue {tag}' FROM migration_runs WHERE tenant_id = {t};
INSERT INTO migration_map (tenant_id, source, source_table, source_id, target_id, row_hash) VALUES ({t}, 'wp-{tag}', 'wp_igny8_keywords', '1', 1, 'h');
INSERT INTO notifications_sent (tenant_id, user_id, key) VALUES ({t}, {u}, 'note-{tag}');
