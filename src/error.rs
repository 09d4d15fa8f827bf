//! One error type for the whole app. Handlers and services return `AppError`; the `render_errors`
//! middleware (web::middleware) turns it into an HTML page, an HTMX toast or a JSON body, depending on
//! what the request accepts, always carrying the request id.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, ResponseError, http::StatusCode};

/// Field name → message shown beside that field.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Not found")]
    NotFound,
    #[error("Please sign in to continue")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// A signed-in user who belongs to no workspace (left or deleted the last one): pages send them to
    /// `/workspaces/new`, the API answers 403 `no_workspace`.
    #[error("Your account is not a member of any workspace. Create one, or ask an owner for an invitation.")]
    NoWorkspace,
    #[error("Your form expired or came from another site. Reload the page and try again.")]
    Csrf,
    #[error("Some fields need attention")]
    Validation(FieldErrors),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    PlanLimit(String),
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_secs: u64 },
    #[error("{0}")]
    PaymentRequired(String),
    /// The workspace is suspended or cancelled: it may read and pay, nothing else (seed §8.10).
    #[error("{0}")]
    WorkspaceSuspended(String),
    #[error("{0}")]
    Unavailable(String),
    /// No AI provider can serve the workspace (503 `ai_not_configured`).
    #[error("{0}")]
    AiNotConfigured(String),
    /// Ours, not the user's. It carries its cause chain and where it arose (the `?` that converted it), logged
    /// with `{:#}`; users see only the sentence and the request id.
    #[error("Something went wrong on our side")]
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for AppError {
    #[track_caller]
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e.context(format!("at {}", std::panic::Location::caller())))
    }
}

impl AppError {
    pub fn forbidden() -> Self {
        AppError::Forbidden("Your role in this workspace does not allow this action".into())
    }

    pub fn field(name: &str, message: impl Into<String>) -> Self {
        let mut f = FieldErrors::new();
        f.insert(name.to_string(), message.into());
        AppError::Validation(f)
    }

    #[track_caller]
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{e}").context(format!("at {}", std::panic::Location::caller())))
    }

    /// A mistake the user can fix (a field, a conflict, credits, the plan), as opposed to a failure of ours:
    /// after a form post these come back as a toast on the page the form was on.
    pub fn is_for_the_user(&self) -> bool {
        matches!(
            self,
            AppError::Validation(_)
                | AppError::BadRequest(_)
                | AppError::Conflict(_)
                | AppError::PlanLimit(_)
                | AppError::PaymentRequired(_)
                | AppError::WorkspaceSuspended(_)
                | AppError::PayloadTooLarge(_)
        )
    }

    /// One sentence for a toast: the message, or every field's message for a validation error.
    pub fn summary(&self) -> String {
        match self {
            AppError::Validation(f) => f.values().cloned().collect::<Vec<_>>().join("; "),
            other => other.to_string(),
        }
    }

    /// Stable snake_case code used in JSON bodies and logs.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NoWorkspace => "no_workspace",
            AppError::Csrf => "csrf_failed",
            AppError::Validation(_) => "validation_failed",
            AppError::BadRequest(_) => "bad_request",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge(_) => "too_large",
            AppError::PlanLimit(_) => "plan_limit",
            AppError::TooManyRequests { .. } => "rate_limited",
            AppError::PaymentRequired(_) => "insufficient_credits",
            AppError::WorkspaceSuspended(_) => "workspace_suspended",
            AppError::Unavailable(_) => "unavailable",
            AppError::AiNotConfigured(_) => "ai_not_configured",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            AppError::Validation(f) => Some(f),
            _ => None,
        }
    }

    /// JSON body of the API error convention: `{"error": {"code", "message", "fields", "request_id"}}`.
    pub fn json_body(&self, request_id: &str) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "code": self.code(),
                "message": self.to_string(),
                "fields": self.fields().cloned().unwrap_or_default(),
                "request_id": request_id,
            }
        })
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf | AppError::NoWorkspace => StatusCode::FORBIDDEN,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) | AppError::PlanLimit(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::PaymentRequired(_) | AppError::WorkspaceSuspended(_) => StatusCode::PAYMENT_REQUIRED,
            AppError::Unavailable(_) | AppError::AiNotConfigured(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A plain fallback; the error middleware replaces it with the negotiated form.
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self.json_body(""))
    }
}

impl From<diesel::result::Error> for AppError {
    #[track_caller]
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound,
            other => AppError::Internal(anyhow::Error::new(other).context(format!("database error at {}", std::panic::Location::caller()))),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        AppError::Unavailable(format!("The database is not reachable right now ({e})"))
    }
}

impl From<askama::Error> for AppError {
    #[track_caller]
    fn from(e: askama::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context(format!("template error at {}", std::panic::Location::caller())))
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn failing_query() -> AppResult<()> {
        Err(diesel::result::Error::QueryBuilderError("the cause".into()))?;
        Ok(())
    }

    #[test]
    fn an_internal_error_keeps_its_cause_and_where_it_arose() {
        let AppError::Internal(e) = failing_query().unwrap_err() else { panic!("internal") };
        let logged = format!("{e:#}");
        assert!(logged.contains("database error at src/error.rs:"), "{logged}");
        assert!(logged.contains("the cause"), "{logged}");
        assert_eq!(AppError::Internal(e).to_string(), "Something went wrong on our side", "users see only the sentence");
    }
}
