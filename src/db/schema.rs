// Diesel table definitions, kept in step with migrations/ (the shape `diesel print-schema` gives).

diesel::table! {
    plans (code) {
        code -> Text,
        name -> Text,
        price_cents -> Int4,
        monthly_credits -> Int8,
        max_users -> Int4,
        max_sites -> Int4,
        sort_order -> Int4,
        upload_quota_mb -> Int4,
        own_ai_key -> Bool,
    }
}

diesel::table! {
    tenants (id) {
        id -> Int8,
        name -> Text,
        plan_code -> Text,
        status -> Text,
        credits_balance -> Int8,
        stripe_customer_id -> Nullable<Text>,
        stripe_subscription_id -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        monthly_credit_cap -> Nullable<Int8>,
        current_period_end -> Nullable<Timestamptz>,
        grace_ends_at -> Nullable<Timestamptz>,
        cancel_at_period_end -> Bool,
        billing_event_at -> Nullable<Timestamptz>,
        operator_hold -> Bool,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        is_system_admin -> Bool,
        created_at -> Timestamptz,
        password_changed_at -> Timestamptz,
        email_verified_at -> Nullable<Timestamptz>,
        notify_automation -> Bool,
        notify_credits -> Bool,
        notify_billing -> Bool,
    }
}

diesel::table! {
    account_tokens (id) {
        id -> Int8,
        user_id -> Int8,
        purpose -> Text,
        token_hash -> Text,
        email -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notifications_sent (tenant_id, user_id, key) {
        tenant_id -> Int8,
        user_id -> Int8,
        key -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    memberships (tenant_id, user_id) {
        tenant_id -> Int8,
        user_id -> Int8,
        role -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    invitations (tenant_id, id) {
        id -> Int8,
        tenant_id -> Int8,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    api_tokens (tenant_id, id) {
        id -> Int8,
        tenant_id -> Int8,
        name -> Text,
        token_prefix -> Text,
        token_hash -> Text,
        role -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Int8,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (tenant_id, id) {
        id -> Int8,
        tenant_id -> Int8,
        actor_user_id -> Nullable<Int8>,
        actor_label -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        detail -> Jsonb,
        ip -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    credit_ledger (tenant_id, id) {
        id -> Int8,
        tenant_id -> Int8,
        delta -> Int8,
        reason -> Text,
        reference -> Text,
        balance_after -> Int8,
        created_at -> Timestamptz,
        action -> Nullable<Text>,
    }
}

diesel::table! {
    model_rates (provider, model) {
        provider -> Text,
        model -> Text,
        input_per_mtok_micros -> Int8,
        output_per_mtok_micros -> Int8,
        per_image_micros -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    ai_settings (tenant_id) {
        tenant_id -> Int8,
        text_provider -> Text,
        text_base_url -> Text,
        text_api_key_enc -> Nullable<Text>,
        text_model -> Text,
        fallback_model -> Nullable<Text>,
        image_provider -> Text,
        image_base_url -> Text,
        image_api_key_enc -> Nullable<Text>,
        image_model -> Text,
        updated_at -> Timestamptz,
        images_per_article -> Int2,
    }
}

diesel::table! {
    ai_calls (tenant_id, id) {
        id -> Int8,
        tenant_id -> Int8,
        job_id -> Nullable<Int8>,
        provider -> Text,
        model -> Text,
        operation -> Text,
        tokens_in -> Int4,
        tokens_out -> Int4,
        images -> Int4,
        cost_micros -> Int8,
        latency_ms -> Int4,
        status -> Text,
        error -> Nullable<Text>,
        created_at -> Timestamptz,
        source -> Text,
    }
}

diesel::table! {
    platform_ai_providers (id) {
        id -> Int8,
        kind -> Text,
        name -> Text,
        base_url -> Text,
        api_key_enc -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    platform_ai_purposes (purpose) {
        purpose -> Text,
        provider_id -> Int8,
        model -> Text,
        fallback_model -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(platform_ai_purposes -> platform_ai_providers (provider_id));

diesel::table! {
    stripe_events (id) {
        id -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        created -> Timestamptz,
        outcome -> Text,
        payload -> Jsonb,
        received_at -> Timestamptz,
    }
}

diesel::joinable!(tenants -> plans (plan_code));
diesel::joinable!(memberships -> tenants (tenant_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(account_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    plans,
    account_tokens,
    notifications_sent,
    tenants,
    users,
    memberships,
    invitations,
    api_tokens,
    sessions,
    audit_events,
    credit_ledger,
    stripe_events,
    jobs,
    model_rates,
    ai_settings,
    ai_calls,
    platform_ai_providers,
    platform_ai_purposes,
    clusters,
    keywords,
    content_ideas,
    tasks,
    keyword_imports,
    keyword_import_chunks,
    keyword_import_rejects,
    list_revisions,
    task_versions,
    prompt_overrides,
    images,
    author_profiles,
    strategies,
    sites,
    publications,
    published_media,
    automation_settings,
    automation_steps,
    cron_runs,
    migration_runs,
    migration_issues,
    migration_map,
);

diesel::table! {
    jobs (tenant_id, id) {
        id -> Int8,
        tenant_id -> Int8,
        kind -> Text,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        max_attempts -> Int4,
        run_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        locked_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        result -> Nullable<Jsonb>,
        credits -> Int8,
        idempotency_key -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
        progress_done -> Int4,
        progress_total -> Int4,
        subject_type -> Nullable<Text>,
        subject_id -> Nullable<Int8>,
        sample -> Bool,
    }
}

diesel::table! {
    job_workers (id) {
        id -> Text,
        host -> Text,
        started_at -> Timestamptz,
        beat_at -> Timestamptz,
    }
}

diesel::table! {
    clusters (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        name -> Text,
        description -> Text,
        status -> Text,
        source -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    keywords (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        keyword -> Text,
        volume -> Nullable<Int4>,
        difficulty -> Nullable<Int2>,
        cpc -> Nullable<Float8>,
        intent -> Nullable<Text>,
        country -> Nullable<Text>,
        sector -> Nullable<Text>,
        cluster_id -> Nullable<Int8>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        intents -> Array<Text>,
        volume_high -> Nullable<Int4>,
        parent_keyword -> Nullable<Text>,
        clicks -> Nullable<Int4>,
        impressions -> Nullable<Int4>,
        ctr -> Nullable<Float8>,
        position -> Nullable<Float8>,
        competition -> Nullable<Text>,
        competition_index -> Nullable<Int2>,
        bid_low -> Nullable<Float8>,
        bid_high -> Nullable<Float8>,
    }
}

diesel::table! {
    content_ideas (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        cluster_id -> Nullable<Int8>,
        title -> Text,
        description -> Text,
        content_type -> Text,
        structure -> Text,
        target_keywords -> Array<Text>,
        outline -> Array<Text>,
        estimated_words -> Int4,
        status -> Text,
        job_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sample -> Bool,
    }
}

diesel::table! {
    tasks (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        idea_id -> Nullable<Int8>,
        cluster_id -> Nullable<Int8>,
        title -> Text,
        description -> Text,
        content_type -> Text,
        structure -> Text,
        target_keywords -> Array<Text>,
        outline -> Array<Text>,
        word_count_goal -> Int4,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        meta_title -> Text,
        meta_description -> Text,
        slug -> Text,
        primary_keyword -> Text,
        content_html -> Text,
        word_count -> Int4,
        ai_model -> Text,
        error -> Nullable<Text>,
        credits_spent -> Int8,
        author_profile_id -> Nullable<Int8>,
        strategy_id -> Nullable<Int8>,
        sample -> Bool,
    }
}

diesel::table! {
    keyword_imports (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        filename -> Text,
        size_bytes -> Int8,
        status -> Text,
        source -> Text,
        delimiter -> Text,
        headers -> Array<Text>,
        mapping -> Jsonb,
        column_override -> Nullable<Jsonb>,
        preview -> Jsonb,
        total_rows -> Int4,
        good_rows -> Int4,
        rejected_rows -> Int4,
        existing_rows -> Int4,
        processed_rows -> Int4,
        bytes_done -> Int8,
        on_existing -> Text,
        inserted -> Int4,
        updated -> Int4,
        skipped -> Int4,
        error -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        warned_rows -> Int4,
    }
}

diesel::table! {
    keyword_import_chunks (tenant_id, import_id, seq) {
        tenant_id -> Int8,
        import_id -> Int8,
        seq -> Int4,
        data -> Bytea,
    }
}

diesel::table! {
    keyword_embeddings (tenant_id, keyword_id, model) {
        tenant_id -> Int8,
        keyword_id -> Int8,
        model -> Text,
        keyword -> Text,
        vector -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    keyword_import_rejects (tenant_id, import_id, line) {
        tenant_id -> Int8,
        import_id -> Int8,
        line -> Int8,
        kind -> Text,
        keyword -> Text,
        reason -> Text,
    }
}

diesel::table! {
    list_revisions (tenant_id, list) {
        tenant_id -> Int8,
        list -> Text,
        rev -> Int8,
    }
}

diesel::table! {
    task_versions (tenant_id, task_id, version) {
        tenant_id -> Int8,
        task_id -> Int8,
        version -> Int4,
        replaced_by -> Text,
        title -> Text,
        meta_title -> Text,
        meta_description -> Text,
        slug -> Text,
        content_html -> Text,
        word_count -> Int4,
        created_by -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    prompt_overrides (tenant_id, key, version) {
        tenant_id -> Int8,
        key -> Text,
        version -> Int4,
        system -> Text,
        template -> Text,
        created_by -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    images (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        task_id -> Int8,
        kind -> Text,
        position -> Int4,
        prompt -> Text,
        alt -> Text,
        status -> Text,
        provider -> Text,
        model -> Text,
        content_type -> Text,
        size_bytes -> Int4,
        sha256 -> Text,
        data -> Nullable<Bytea>,
        error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sample -> Bool,
    }
}

diesel::table! {
    author_profiles (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        name -> Text,
        persona -> Text,
        tone -> Text,
        audience -> Text,
        language -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    strategies (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        name -> Text,
        structure -> Text,
        cta -> Text,
        internal_links -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sites (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        name -> Text,
        base_url -> Text,
        username -> Text,
        app_password_enc -> Text,
        default_status -> Text,
        default_category -> Text,
        seo_plugin -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        default_author -> Nullable<Int8>,
        plugin_secret_enc -> Text,
        api_root -> Text,
        seo_detected -> Text,
        companion_version -> Text,
        checked_at -> Nullable<Timestamptz>,
        check_ok -> Nullable<Bool>,
        check_report -> Nullable<Jsonb>,
    }
}

diesel::table! {
    publications (tenant_id, task_id) {
        tenant_id -> Int8,
        task_id -> Int8,
        site_id -> Int8,
        remote_id -> Nullable<Int8>,
        remote_status -> Text,
        remote_url -> Text,
        remote_modified -> Nullable<Timestamptz>,
        state -> Text,
        post_status -> Text,
        scheduled_at -> Nullable<Timestamptz>,
        categories -> Array<Text>,
        tags -> Array<Text>,
        task_status_before -> Text,
        steps -> Jsonb,
        warning -> Nullable<Text>,
        error -> Nullable<Text>,
        published_at -> Nullable<Timestamptz>,
        synced_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    published_media (tenant_id, image_id, site_id) {
        tenant_id -> Int8,
        image_id -> Int8,
        site_id -> Int8,
        remote_id -> Int8,
        remote_url -> Text,
        sha256 -> Text,
        attached_to -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    automation_settings (tenant_id) {
        tenant_id -> Int8,
        enabled -> Bool,
        daily_credit_budget -> Int4,
        publish_site_id -> Nullable<Int8>,
        publish_status -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    automation_steps (tenant_id, step) {
        tenant_id -> Int8,
        step -> Text,
        enabled -> Bool,
        items_per_run -> Int4,
        cluster_ids -> Array<Int8>,
        statuses -> Array<Text>,
        per_item -> Int4,
    }
}

diesel::table! {
    cron_slots (step, slot) {
        step -> Text,
        slot -> Timestamptz,
        claimed_by -> Text,
        claimed_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        result -> Nullable<Jsonb>,
    }
}

diesel::table! {
    cron_runs (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        step -> Text,
        slot -> Timestamptz,
        trigger -> Text,
        status -> Text,
        reason -> Text,
        picked -> Int4,
        enqueued -> Int4,
        credits_reserved -> Int8,
        job_ids -> Array<Int8>,
        notice -> Bool,
        acknowledged_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    system_settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    migration_runs (tenant_id, id) {
        tenant_id -> Int8,
        id -> Int8,
        source -> Text,
        source_url -> Text,
        prefix -> Text,
        status -> Text,
        error -> Nullable<Text>,
        report -> Jsonb,
        ok -> Bool,
        created_by -> Text,
        started_at -> Timestamptz,
        finished_at -> Timestamptz,
    }
}

diesel::table! {
    migration_issues (tenant_id, run_id, seq) {
        tenant_id -> Int8,
        run_id -> Int8,
        seq -> Int4,
        source_table -> Text,
        source_id -> Text,
        kind -> Text,
        reason -> Text,
    }
}

diesel::table! {
    migration_map (tenant_id, source, source_table, source_id) {
        tenant_id -> Int8,
        source -> Text,
        source_table -> Text,
        source_id -> Text,
        target_id -> Int8,
        row_hash -> Text,
        updated_at -> Timestamptz,
    }
}
