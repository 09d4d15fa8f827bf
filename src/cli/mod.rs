//! The command line: serve (default), migrate, seed-demo, create-user, backup, restore, import-wp.

mod backup;
mod import_wp;
mod seed;

use std::net::TcpListener;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::app::server;
use crate::auth::{password, rbac::Role, service::insert_user};
use crate::config::Config;
use crate::crypto::secrets::random_token;
use crate::db::schema::{memberships, users};
use crate::error::AppError;
use crate::jobs::worker::WorkerConfig;
use crate::modules::automation::schedule::SystemClock;
use crate::state::AppState;
use crate::tenancy::service::create_workspace;

#[derive(Parser)]
#[command(name = "igny8", version, about = "IGNY8 — AI SEO content platform")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Apply migrations and serve HTTP on IGNY8_BIND (the default command).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create or refresh the demo workspace and print its login.
    SeedDemo,
    /// Create a user, in a new workspace or as a member of an existing one.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Password; generated and printed when left out.
        #[arg(long)]
        password: Option<String>,
        /// Add to this workspace instead of creating one.
        #[arg(long)]
        tenant_id: Option<i64>,
        /// Role in an existing workspace (owner, admin, editor, viewer).
        #[arg(long, default_value = "owner")]
        role: String,
        /// Plan of a newly created workspace.
        #[arg(long, default_value = "free")]
        plan: String,
        /// Name of a newly created workspace.
        #[arg(long)]
        workspace: Option<String>,
        /// Make the user a system administrator (model prices, all tenants' runs).
        #[arg(long)]
        system_admin: bool,
    },
    /// Back up the database (pg_dump, custom format) into a folder, then remove backups past IGNY8_BACKUP_KEEP_DAYS.
    Backup {
        /// Folder to write to (default: IGNY8_BACKUP_DIR).
        #[arg(long)]
        dir: Option<String>,
    },
    /// Restore a backup file into an empty database (default: DATABASE_URL).
    Restore {
        /// The .dump file written by `igny8 backup`.
        #[arg(long)]
        file: String,
        /// The database to restore into; it must exist and have no tables.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Import a workspace's data from the IGNY8 WordPress plugin (MySQL/MariaDB) and print the validation report.
    ImportWp {
        /// The WordPress database: mysql://user:password@host:3306/database (`?socket=/path` for a unix socket).
        #[arg(long)]
        mysql: String,
        /// The workspace to import into: its id, or its exact name.
        #[arg(long)]
        tenant: String,
        /// WordPress's table prefix ($table_prefix in wp-config.php).
        #[arg(long, default_value = "wp_")]
        prefix: String,
        /// Do everything, print what would happen, keep nothing.
        #[arg(long)]
        dry_run: bool,
        /// Connect the site as this WordPress user (the application password comes from IGNY8_WP_APP_PASSWORD)
        /// and link its existing posts to the imported tasks.
        #[arg(long)]
        wp_user: Option<String>,
        /// The site's address, when it differs from the database's siteurl option.
        #[arg(long)]
        site_url: Option<String>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    crate::init_tracing(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let state = crate::app::state(config)?;
            let applied = crate::db::migrate(&state.db).await?;
            println!("migrations applied: {}", if applied.is_empty() { "none pending".into() } else { applied.join(", ") });
            Ok(())
        }
        Command::SeedDemo => {
            let state = crate::app::state(config)?;
            crate::db::migrate(&state.db).await?;
            seed::seed_demo(&state).await
        }
        Command::CreateUser { email, name, password, tenant_id, role, plan, workspace, system_admin } => {
            let state = crate::app::state(config)?;
            crate::db::migrate(&state.db).await?;
            create_user(&state, email, name, password, tenant_id, role, plan, workspace, system_admin).await
        }
        Command::Backup { dir } => backup::backup(&config, dir).await,
        Command::Restore { file, database_url } => backup::restore(&config, &file, database_url).await,
        Command::ImportWp { mysql, tenant, prefix, dry_run, wp_user, site_url } => {
            let state = crate::app::state(config)?;
            crate::db::migrate(&state.db).await?;
            import_wp::run(&state, import_wp::Args { mysql, tenant, prefix, dry_run, site_url, wp_user }).await
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let bind = config.bind;
    let state = crate::app::state(config)?;
    let applied = crate::db::migrate(&state.db).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    let listener = TcpListener::bind(bind).map_err(|e| anyhow::anyhow!("cannot listen on {bind} (IGNY8_BIND): {e}"))?;
    let state = Arc::new(state);
    let workers = match state.config.workers {
        0 => None,
        _ => Some(crate::jobs::worker::start(state.clone(), WorkerConfig::from_config(&state.config)).await?),
    };
    // Every replica beats; the slot claim in Postgres makes each scheduled run happen once.
    let scheduler = state
        .config
        .scheduler
        .then(|| crate::modules::automation::schedule::start(state.clone(), Arc::new(SystemClock), std::time::Duration::ZERO));
    tracing::info!(%bind, workers = state.config.workers, scheduler = state.config.scheduler, "IGNY8 listening");
    let server = server(state.clone(), listener)?;
    let handle = server.handle();
    let mut running = tokio::spawn(server);
    tokio::select! {
        ended = &mut running => ended??,
        signal = stop_signal() => {
            // Drain: /readyz says 503 so the load balancer sends new work elsewhere, while requests already on
            // their way are still answered; then the listener stops and open requests finish.
            let drain = std::time::Duration::from_secs(state.config.drain_secs as u64);
            tracing::info!(signal, drain_secs = drain.as_secs(), "stopping: /readyz answers 503, requests are served until the drain ends");
            state.draining.store(true, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(drain).await;
            handle.stop(true).await;
            let _ = running.await;
        }
    }
    if let Some(s) = scheduler {
        s.abort();
    }
    if let Some(w) = workers {
        w.shutdown(&state, std::time::Duration::from_secs(10)).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM (what orchestrators send) or SIGINT (Ctrl-C).
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn create_user(
    state: &AppState,
    email: String,
    name: String,
    password_arg: Option<String>,
    tenant_id: Option<i64>,
    role: String,
    plan: String,
    workspace: Option<String>,
    system_admin: bool,
) -> anyhow::Result<()> {
    let mut check = crate::validate::Check::new();
    let email = check.email("email", &email);
    let name = check.text("name", &name, "Name", 1, 120);
    let generated = password_arg.is_none();
    let pw = password_arg.unwrap_or_else(|| random_token(12));
    if let Err(m) = password::check_new(&pw) {
        check.fail("password", m);
    }
    let role = Role::parse_member(&role).ok_or_else(|| anyhow::anyhow!("--role: expected owner, admin, editor or viewer"))?;
    if let Err(AppError::Validation(f)) = check.finish() {
        anyhow::bail!("{}", f.iter().map(|(k, v)| format!("--{k}: {v}")).collect::<Vec<_>>().join("; "));
    }
    let hash = password::hash(&pw).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = state.db.get().await?;
    let ws = workspace.unwrap_or_else(|| format!("{name}'s workspace"));
    let (user_id, tid) = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let user_id = insert_user(conn, &email, &name, &hash, true).await?;
            if system_admin {
                diesel::update(users::table.find(user_id)).set(users::is_system_admin.eq(true)).execute(conn).await?;
            }
            let tid = match tenant_id {
                Some(tid) => {
                    diesel::insert_into(memberships::table)
                        .values((memberships::tenant_id.eq(tid), memberships::user_id.eq(user_id), memberships::role.eq(role.as_str())))
                        .execute(conn)
                        .await
                        .map_err(|_| AppError::BadRequest(format!("workspace {tid} does not exist")))?;
                    tid
                }
                None => create_workspace(conn, &ws, &plan, user_id, &email, None).await?,
            };
            Ok((user_id, tid))
        })
        .await
        .map_err(|e| match e {
            e @ AppError::Validation(_) => anyhow::anyhow!("{}", e.summary()),
            other => anyhow::anyhow!("{other}"),
        })?;
    println!("user id: {user_id}");
    println!("workspace id: {tid}");
    if generated {
        println!("password: {pw}");
    }
    Ok(())
}
