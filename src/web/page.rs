//! What every page's layout needs: the tenant context, the switcher's tenants, the CSRF token, a pending
//! toast and the asset URLs. `PageCtx` is for signed-in pages, `PublicPage` for sign-in, sign-up, invites.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};

use crate::auth::rbac::{Perm, Role};
use crate::error::{AppError, AppResult};
use crate::tenancy::{Actor, TenantCtx};
use crate::web::assets::{AssetUrls, URLS};
use crate::web::middleware::CsrfToken;
use crate::web::{FLASH_COOKIE, Toast};

pub struct PageCtx {
    pub ctx: TenantCtx,
    pub user_email: String,
    pub is_system_admin: bool,
    pub csrf: String,
    pub flash: Option<Toast>,
    pub path: String,
    pub assets: &'static AssetUrls,
    /// Why AI actions cannot run for this workspace (no provider at all), for the layout's notice and the AI buttons.
    pub ai_blocked: Option<String>,
}

impl PageCtx {
    /// For the nav: is this section the current one?
    pub fn active(&self, prefix: &str) -> bool {
        self.path == prefix || self.path.starts_with(&format!("{prefix}/"))
    }
    /// ` disabled title="…"` on an AI button or option when AI cannot run; empty otherwise.
    pub fn ai_off(&self) -> askama::filters::Safe<String> {
        disabled_because(self.ai_blocked.as_deref())
    }

    pub fn can(&self, perm: &Perm) -> bool {
        self.ctx.role.allows(*perm)
    }
    pub fn can_manage_team(&self) -> bool {
        self.can(&Perm::ManageTeam)
    }
    pub fn can_view_audit(&self) -> bool {
        self.can(&Perm::ViewAudit)
    }
    pub fn can_view_billing(&self) -> bool {
        self.can(&Perm::ViewBilling)
    }
    pub fn initials(&self) -> String {
        self.ctx.display_name().split_whitespace().filter_map(|w| w.chars().next()).take(2).collect::<String>().to_uppercase()
    }
    pub fn role_label(&self) -> &'static str {
        self.ctx.role.label()
    }
    pub fn is_owner(&self) -> bool {
        self.ctx.role == Role::Owner
    }
}

pub struct PublicPage {
    pub csrf: String,
    pub flash: Option<Toast>,
    pub assets: &'static AssetUrls,
}

fn csrf_of(req: &HttpRequest) -> String {
    req.extensions().get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default()
}

fn flash_of(req: &HttpRequest) -> Option<Toast> {
    req.cookie(FLASH_COOKIE).and_then(|c| Toast::from_cookie_value(c.value()))
}

impl PublicPage {
    pub fn from_req(req: &HttpRequest) -> Self {
        PublicPage { csrf: csrf_of(req), flash: flash_of(req), assets: &URLS }
    }
}

impl FromRequest for PageCtx {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let ctx_fut = TenantCtx::from_request(&req, payload);
        Box::pin(async move {
            let ctx = ctx_fut.await?;
            let mut page = build(&req, ctx)?;
            if let Some(state) = req.app_data::<actix_web::web::Data<crate::state::AppState>>() {
                page.ai_blocked = crate::ai::access::blocked(state, page.ctx.tenant_id).await;
            }
            Ok(page)
        })
    }
}

impl PageCtx {
    /// For handlers that extracted a `TenantCtx` and decide late that they render a whole page.
    pub fn from_ctx(req: &HttpRequest, ctx: TenantCtx) -> AppResult<PageCtx> {
        build(req, ctx)
    }
}

fn build(req: &HttpRequest, ctx: TenantCtx) -> AppResult<PageCtx> {
    let (user_email, is_system_admin) = match &ctx.actor {
        Actor::User { email, is_system_admin, .. } => (email.clone(), *is_system_admin),
        Actor::Token { .. } | Actor::Automation => return Err(AppError::Forbidden("API tokens work on /api only".into())),
    };
    Ok(PageCtx {
        ctx,
        user_email,
        is_system_admin,
        csrf: csrf_of(req),
        flash: flash_of(req),
        path: req.path().to_string(),
        assets: &URLS,
        ai_blocked: None,
    })
}

/// ` disabled title="…"` on a button or option that cannot be used, saying why; empty when it can.
pub fn disabled_because(why: Option<&str>) -> askama::filters::Safe<String> {
    askama::filters::Safe(match why {
        Some(why) => format!(" disabled title=\"{}\"", why.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")),
        None => String::new(),
    })
}
