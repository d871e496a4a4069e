//! Form posts whose body does not read (a wrong content type, a value of the wrong kind, a body
//! over the limit) answer with a console page naming the problem, with the status axum's `Form`
//! gives (400, 413, 415, 422), instead of a bare text body.

use axum::Form;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::page::PageError;

/// `axum::Form`, with its rejections as console pages.
pub(crate) struct ConsoleForm<T>(pub T);

impl<T, S> FromRequest<S> for ConsoleForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(v)) => Ok(ConsoleForm(v)),
            Err(r) => Err(PageError::new(
                r.status(),
                format!("The form does not read: {}", r.body_text()),
            )),
        }
    }
}
