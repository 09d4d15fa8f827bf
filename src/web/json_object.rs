//! A JSON body that must be an object. serde lets a struct be read from an array too (`[]` becomes every field's
//! default), so a body of `[]` would quietly save defaults; API bodies that are objects in docs/API.md are read
//! through this extractor instead of `web::Json`.

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub struct JsonObject<T>(pub T);

impl<T> JsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonObject<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The app's JsonConfig (size limit, content type, error messages) applies to this read too.
        let body = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = body.await?.into_inner();
            if !value.is_object() {
                return Err(AppError::BadRequest("The JSON body must be an object ({…}) with the fields docs/API.md lists".into()).into());
            }
            serde_json::from_value(value)
                .map(JsonObject)
                .map_err(|e| AppError::BadRequest(format!("The JSON body is not valid: {e}")).into())
        })
    }
}
