//! The hold on a case's preserved evidence, changed from the case page by an admin: extended
//! for a law-enforcement request (its reference and agency recorded) or released with a
//! reason. The store refuses a release while a filed report's hold or an extension runs; the
//! refusal is shown on the case page. Both are audited by the store.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use samaritan_store::{Role, StoreError, now_ms};
use serde::Deserialize;

use super::form::ConsoleForm;
use super::page::{PageError, render};
use super::reports::{build, report_id};
use super::session::{Person, check_origin};
use crate::AppState;

#[derive(Deserialize)]
pub(crate) struct ExtendForm {
    #[serde(default)]
    csrf: String,
    /// A date (`2028-01-31`, midnight UTC).
    #[serde(default)]
    until: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    agency: String,
}

#[derive(Deserialize)]
pub(crate) struct ReleaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Milliseconds of a date (midnight UTC) or an RFC 3339 time.
fn until_ms(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let t = text.trim();
    let at = time::OffsetDateTime::parse(t, &Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(&format!("{t}T00:00:00Z"), &Rfc3339))
        .ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The case page again with `message`, as 409 (a refusal) or 400 (a form to correct).
async fn again(
    state: &AppState,
    person: &Person,
    id: i64,
    status: StatusCode,
    message: String,
) -> Result<Response, PageError> {
    let mut resp = render(&build(state, person, id, Some(message)).await?);
    *resp.status_mut() = status;
    Ok(resp)
}

async fn hold_of(state: &AppState, id: i64) -> Result<i64, PageError> {
    Ok(state
        .store()
        .hold_of_report(id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("report {id} has no hold")))?
        .id)
}

pub(crate) async fn extend(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path(id): Path<String>,
    ConsoleForm(f): ConsoleForm<ExtendForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    person.require(&[Role::Admin])?;
    let id = report_id(&id)?;
    let hold = hold_of(&state, id).await?;
    let Some(until) = until_ms(&f.until) else {
        let m = format!("`{}` is not a date such as 2028-01-31", f.until);
        return again(&state, &person, id, StatusCode::BAD_REQUEST, m).await;
    };
    match state
        .store()
        .hold_extend(
            hold,
            until,
            &f.reference,
            &f.agency,
            &person.actor(),
            now_ms(),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/reports/{id}#hold")).into_response()),
        Err(StoreError::Refused { message, .. }) => {
            again(&state, &person, id, StatusCode::CONFLICT, message).await
        }
        Err(StoreError::Invalid(message)) => {
            again(&state, &person, id, StatusCode::BAD_REQUEST, message).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn release(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path(id): Path<String>,
    ConsoleForm(f): ConsoleForm<ReleaseForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    person.require(&[Role::Admin])?;
    let id = report_id(&id)?;
    let hold = hold_of(&state, id).await?;
    match state
        .store()
        .hold_release(hold, &f.reason, &person.actor(), now_ms())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/reports/{id}#hold")).into_response()),
        Err(StoreError::Refused { message, .. }) => {
            again(&state, &person, id, StatusCode::CONFLICT, message).await
        }
        Err(StoreError::Invalid(message)) => {
            again(&state, &person, id, StatusCode::BAD_REQUEST, message).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_read() {
        assert_eq!(until_ms("1970-01-02"), Some(86_400_000));
        assert_eq!(until_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(until_ms("soon"), None);
    }
}
