//! The tenant context every tenant-owned query takes: who is acting, in which tenant, with which role.
//! Extracted once per request (session cookie or bearer token) and cached in the request extensions.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use crate::auth::rbac::{Perm, Role};
use crate::auth::resolve;
use crate::state::AppState;
pub mod delete;
pub mod export;
pub mod pages;
pub mod service;
pub mod tables;
pub mod zip;

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone)]
pub enum Actor {
    User {
        id: i64,
        email: String,
        name: String,
        session_id: String,
        is_system_admin: bool,
    },
    Token {
        id: i64,
        name: String,
    },
    /// The scheduler acting for a workspace with automation on (role: system bot).
    Automation,
}

crate::text_enum! {
    /// `tenants.status`: a workspace's standing (seed §8.10).
    pub enum TenantStatus {
        Trial = "trial",
        Active = "active",
        PastDue = "past_due",
        Suspended = "suspended",
        Cancelled = "cancelled",
    }
}

impl TenantStatus {
    /// Suspended or cancelled: the workspace may read, not work.
    pub fn is_stopped(self) -> bool {
        matches!(self, TenantStatus::Suspended | TenantStatus::Cancelled)
    }
}

/// What a stopped workspace may still change: paying (billing), the user's own session and password,
/// switching to another workspace, and the system administrators' tools (which act on the platform and other
/// workspaces, not in this one). Leaving and deleting are allowed too: they end the workspace's use rather than
/// work in it.
const ALLOWED_WHILE_STOPPED: [&str; 11] = [
    "/billing",
    "/api/billing",
    "/logout",
    "/account/",
    "/tenants/switch",
    "/tenants/leave",
    "/tenants/delete",
    "/api/workspace/leave",
    "/system/",
    "/api/system/",
    "/api/auth/",
];

/// The one suspension check: every write (any method but GET/HEAD/OPTIONS) of a stopped workspace answers
/// 402, for pages and the API alike, before its handler runs — AI actions, publishing, imports, automation
/// runs, every API write. Reads and billing go on.
fn refuse_if_stopped(ctx: &TenantCtx, req: &HttpRequest) -> AppResult<()> {
    let write = !matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD | actix_web::http::Method::OPTIONS);
    let deleting = *req.method() == actix_web::http::Method::DELETE && req.path() == "/api/workspace";
    if write && !deleting && ctx.tenant_status.is_stopped() && !ALLOWED_WHILE_STOPPED.iter().any(|p| req.path().starts_with(p)) {
        return Err(AppError::WorkspaceSuspended(format!(
            "This workspace is {}: it can read and pay, nothing else. An owner can settle it on the Billing page (/billing).",
            ctx.tenant_status
        )));
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct TenantCtx {
    pub tenant_id: i64,
    pub tenant_name: String,
    pub tenant_status: TenantStatus,
    pub plan_code: String,
    pub credits_balance: i64,
    pub role: Role,
    pub actor: Actor,
    pub ip: Option<String>,
    /// Every workspace the user belongs to (for the switcher); empty for API tokens.
    pub workspaces: Vec<Workspace>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Workspace {
    pub id: i64,
    pub name: String,
    pub role: String,
}

/// How automation's jobs and audit rows name their author.
pub const AUTOMATION_LABEL: &str = "automation";

impl TenantCtx {
    /// The context automation acts in for one workspace: the system bot's role, no user.
    pub fn automation(
        tenant_id: i64,
        tenant_name: String,
        tenant_status: TenantStatus,
        plan_code: String,
        credits_balance: i64,
    ) -> TenantCtx {
        TenantCtx {
            tenant_id,
            tenant_name,
            tenant_status,
            plan_code,
            credits_balance,
            role: Role::SystemBot,
            actor: Actor::Automation,
            ip: None,
            workspaces: vec![],
        }
    }

    /// The guard: every route that does something calls this with the permission it needs.
    pub fn require(&self, perm: Perm) -> AppResult<()> {
        if self.role.allows(perm) { Ok(()) } else { Err(AppError::forbidden()) }
    }

    /// Platform-wide settings (System → Automation, AI providers): system administrators only.
    pub fn require_system_admin(&self) -> AppResult<()> {
        if matches!(self.actor, Actor::User { is_system_admin: true, .. }) {
            Ok(())
        } else {
            Err(AppError::Forbidden("System administrators only".into()))
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        match &self.actor {
            Actor::User { id, .. } => Some(*id),
            Actor::Token { .. } | Actor::Automation => None,
        }
    }

    /// The signed-in user, or 403 for API tokens on user-only actions (password change, switching).
    pub fn require_user(&self) -> AppResult<(i64, &str)> {
        match &self.actor {
            Actor::User { id, session_id, .. } => Ok((*id, session_id.as_str())),
            Actor::Token { .. } | Actor::Automation => {
                Err(AppError::Forbidden("This action needs a signed-in user, not an API token".into()))
            }
        }
    }

    /// How the audit trail names the actor.
    pub fn actor_label(&self) -> String {
        match &self.actor {
            Actor::User { email, .. } => email.clone(),
            Actor::Token { name, id } => format!("token:{name} (#{id})"),
            Actor::Automation => AUTOMATION_LABEL.to_string(),
        }
    }

    pub fn display_name(&self) -> &str {
        match &self.actor {
            Actor::User { name, .. } => name,
            Actor::Token { name, .. } => name,
            Actor::Automation => "Automation",
        }
    }
}

impl FromRequest for TenantCtx {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let cached = req.extensions().get::<Rc<TenantCtx>>().map(|c| (**c).clone());
            let ctx = match cached {
                Some(ctx) => ctx,
                None => {
                    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| AppError::internal("app state missing"))?;
                    let ctx = resolve::tenant_ctx(state, &req).await?;
                    req.extensions_mut().insert(Rc::new(ctx.clone()));
                    ctx
                }
            };
            refuse_if_stopped(&ctx, &req)?;
            Ok(ctx)
        })
    }
}
