//! The publishing panel of a task page (an HTMX fragment that polls while a job runs) and its buttons.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::service::{self, Publication, PublishInput};
use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::modules::sites::service::Site;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PageCtx;
use crate::web::{back_to, render};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/writer/tasks/{id}/publishing", web::get().to(panel))
        .route("/writer/tasks/{id}/publish", web::post().to(publish))
        .route("/writer/tasks/{id}/unpublish", web::post().to(unpublish))
        // The site page's "sync statuses" button (publishing owns the sync; sites knows nothing of it).
        .route("/sites/{id}/sync", web::post().to(sync_site));
}

async fn sync_site(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let back = format!("/sites/{}", *id);
    back_to(&back, service::enqueue_sync(&state, &ctx, Some(*id)).await.map(|_| "Status sync queued".to_string()))
}

#[derive(Template)]
#[template(path = "publish/panel.html")]
struct Panel {
    page: PageCtx,
    task_id: i64,
    publication: Option<Publication>,
    sites: Vec<Site>,
    tags: String,
    today: String,
    /// A publish or unpublish job of this article is queued or running.
    open_job: bool,
    /// Images of the article still being planned or rendered: publishing now sends it without them.
    images_pending: i64,
    /// The article is sample text from the dev provider: publishing asks for confirmation.
    sample: bool,
}

impl Panel {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
    fn busy(&self) -> bool {
        self.open_job
    }
    fn gone(&self) -> bool {
        self.publication.as_ref().is_some_and(|p| p.is_gone())
    }
    fn on_site(&self) -> bool {
        self.publication.as_ref().is_some_and(|p| p.remote_id.is_some() && !p.is_gone())
    }
    fn site_name(&self) -> String {
        let id = self.publication.as_ref().map(|p| p.site_id).unwrap_or(0);
        self.sites.iter().find(|s| s.id == id).map(|s| s.name.clone()).unwrap_or_default()
    }
    fn chosen(&self, site: &i64) -> bool {
        self.publication.as_ref().map(|p| p.site_id == *site).unwrap_or(false)
    }
    fn categories(&self) -> String {
        self.publication.as_ref().map(|p| p.categories.join(", ")).unwrap_or_default()
    }
    fn tag_text(&self) -> String {
        self.publication.as_ref().filter(|p| !p.tags.is_empty()).map(|p| p.tags.join(", ")).unwrap_or_else(|| self.tags.clone())
    }
}

async fn panel(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let tenant_id = page.ctx.tenant_id;
    let mut conn = state.db.get().await?;
    let task = crate::modules::writer::service::get(&mut conn, tenant_id, *id).await?;
    let publication = service::get(&mut conn, tenant_id, task.id).await?;
    // The queue decides (a cancelled job must not leave the panel spinning).
    let open_job = publication.as_ref().is_some_and(|p| p.is_busy()) && service::has_open_job(&mut conn, tenant_id, task.id).await?;
    let sites = crate::modules::sites::service::list(&state, &mut conn, tenant_id).await?;
    let tags = task.target_keywords.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    let today = chrono::Utc::now().format("%Y-%m-%dT%H:%M").to_string();
    let images_pending = super::media::image_state(&mut conn, tenant_id, task.id).await?.pending;
    render(&Panel { page, task_id: task.id, publication, sites, tags, today, open_job, images_pending, sample: task.sample })
}

async fn publish(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>, form: web::Form<PublishInput>) -> AppResult<HttpResponse> {
    let back = format!("/writer/tasks/{}", *id);
    back_to(&back, service::enqueue_publish(&state, &ctx, *id, &form).await.map(|_| "Publishing queued".to_string()))
}

async fn unpublish(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let back = format!("/writer/tasks/{}", *id);
    back_to(&back, service::enqueue_unpublish(&state, &ctx, *id).await.map(|_| "Taking the post back to draft".to_string()))
}
