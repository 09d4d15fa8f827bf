//! `igny8 import-wp`: imports a workspace's data from the IGNY8 WordPress plugin's database and prints the
//! validation report (modules::migration does the work; Settings → Migration shows the kept reports).

use crate::modules::migration::run::{self, Options, SiteLogin};
use crate::state::AppState;

/// Where the application password of the site to connect comes from (not a flag: flags end up in shell history).
pub const APP_PASSWORD_ENV: &str = "IGNY8_WP_APP_PASSWORD";

pub struct Args {
    pub mysql: String,
    pub tenant: String,
    pub prefix: String,
    pub dry_run: bool,
    pub site_url: Option<String>,
    pub wp_user: Option<String>,
}

pub async fn run(state: &AppState, a: Args) -> anyhow::Result<()> {
    let password = std::env::var(APP_PASSWORD_ENV).ok().filter(|p| !p.trim().is_empty());
    let site = match (&a.wp_user, password) {
        (Some(user), Some(app_password)) => {
            Some(SiteLogin { url: a.site_url.clone().unwrap_or_default(), user: user.clone(), app_password })
        }
        (Some(_), None) => anyhow::bail!("--wp-user needs the site's application password in {APP_PASSWORD_ENV}"),
        (None, _) => None,
    };
    let opts = Options {
        mysql_url: a.mysql,
        tenant: a.tenant,
        prefix: a.prefix,
        dry_run: a.dry_run,
        site,
        actor: "import-wp (command line)".into(),
    };
    let report = run::import(state, &opts).await?;
    print!("{}", report.text(50));
    match &report.error {
        Some(e) => anyhow::bail!("import failed: {e}"),
        None => Ok(()),
    }
}
