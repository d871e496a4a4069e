//! Administration for admins: people (create, disable, reset a password), API keys (create,
//! revoke) and the policy (view, upload with its own tests run first). Every change goes
//! through the store call the CLI and the API use and is audited under the admin's name. A new
//! password or key is shown once, on the page that made it, and never again.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use samaritan_store::{KeyRecord, Role, Scope, User, now_ms};
use serde::Deserialize;

use super::form::ConsoleForm;
use super::page::{Chrome, PageError, render, when};
use super::session::{Person, check_origin};
use crate::AppState;

pub(crate) struct UserRow {
    pub u: User,
    pub created: String,
    pub state: String,
}

pub(crate) struct KeyRow {
    pub k: KeyRecord,
    pub scopes: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    keys: Vec<KeyRow>,
    policy_label: String,
    policy_version: i64,
    policy_text: String,
    /// What the last action did (a new secret is in `secret`).
    notice: Option<String>,
    /// A password or key made by the last action, shown once.
    secret: Option<String>,
    error: Option<String>,
    /// A backtest of the text in the editor against the policy in force.
    diff: Option<DiffView>,
}

/// A policy backtest as the page shows it.
pub(crate) struct DiffView {
    pub old: String,
    pub new: String,
    pub ads: u64,
    pub changed: u64,
    pub unreadable: usize,
    pub moves: Vec<(&'static str, &'static str, u64)>,
    pub changes: Vec<ChangeRow>,
}

pub(crate) struct ChangeRow {
    pub id: String,
    pub old: String,
    pub new: String,
    pub added: String,
    pub removed: String,
}

/// Most recent ads a backtest may read.
const MAX_DIFF_ADS: i64 = 20_000;

fn side(s: &samaritan_engine::policy::compare::Side) -> String {
    format!(
        "{} {:.2}{}",
        s.verdict,
        s.score,
        if s.report_candidate {
            ", report candidate"
        } else {
            ""
        }
    )
}

fn signals(m: &std::collections::BTreeMap<String, f64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v:+.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn build(
    state: &AppState,
    person: &Person,
    notice: Option<String>,
    secret: Option<String>,
    error: Option<String>,
) -> Result<AdminPage, PageError> {
    let now = now_ms();
    let users = state
        .store()
        .list_users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            created: when(u.created_at),
            state: if u.disabled_at.is_some() {
                "disabled".to_owned()
            } else if u.locked_until.is_some_and(|t| t > now) {
                "locked".to_owned()
            } else {
                "active".to_owned()
            },
            u,
        })
        .collect();
    let keys = state
        .store()
        .list_keys()
        .await?
        .into_iter()
        .map(|k| KeyRow {
            scopes: k
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: when(k.created_at),
            k,
        })
        .collect();
    let current = state.store().current_policy().await?;
    let info = state.analyzer().policy();
    Ok(AdminPage {
        chrome: Chrome::of(person, "admin"),
        users,
        keys,
        policy_label: info.label,
        policy_version: current.as_ref().map_or(0, |p| p.version),
        policy_text: info.text,
        notice,
        secret,
        error,
        diff: None,
    })
}

fn admin(person: &Person) -> Result<(), PageError> {
    person.require(&[Role::Admin])
}

pub(crate) async fn page(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, PageError> {
    admin(&person)?;
    Ok(render(&build(&state, &person, None, None, None).await?))
}

#[derive(Deserialize)]
pub(crate) struct AdminForm {
    #[serde(default)]
    csrf: String,
    /// `create-user`, `disable-user`, `reset-password`, `create-key`, `revoke-key`, `policy`.
    #[serde(default)]
    op: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scopes: String,
    /// The console user who holds a new key (empty: a service key).
    #[serde(default)]
    person: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    policy: String,
    /// How many of the most recent ads a backtest reads.
    #[serde(default)]
    recent: Option<i64>,
}

/// One administrative action; the page comes back with what it did.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    ConsoleForm(f): ConsoleForm<AdminForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    admin(&person)?;
    let actor = person.actor();
    let store = state.store();
    let refused = |e: samaritan_store::StoreError| match e {
        samaritan_store::StoreError::Invalid(m)
        | samaritan_store::StoreError::Conflict(m)
        | samaritan_store::StoreError::NotFound(m) => Ok(m),
        other => Err(PageError::from(other)),
    };
    let mut secret = None;
    let mut diff = None;
    let outcome: Result<String, String> = match f.op.as_str() {
        "create-user" => match Role::parse(&f.role) {
            Err(e) => Err(e.to_string()),
            Ok(role) => {
                let pw = samaritan_store::users::generate_password()?;
                match store.create_user(f.name.trim(), role, &pw, &actor).await {
                    Ok(u) => {
                        secret = Some(pw);
                        Ok(format!(
                            "Made {} ({}). Give them the password below; it is not shown again.",
                            u.name,
                            u.role.as_str()
                        ))
                    }
                    Err(e) => Err(refused(e)?),
                }
            }
        },
        "disable-user" => match store.disable_user(&f.name, &actor).await {
            Ok(()) => Ok(format!("{} can no longer sign in.", f.name)),
            Err(e) => Err(refused(e)?),
        },
        "reset-password" => {
            let pw = samaritan_store::users::generate_password()?;
            match store.reset_password(&f.name, &pw, &actor).await {
                Ok(()) => {
                    secret = Some(pw);
                    Ok(format!(
                        "New password for {} below (their sessions ended); it is not shown again.",
                        f.name
                    ))
                }
                Err(e) => Err(refused(e)?),
            }
        }
        "create-key" => match Scope::parse_list(&f.scopes) {
            Err(e) => Err(e.to_string()),
            Ok(scopes) => match store
                .create_key_for(
                    f.name.trim(),
                    &scopes,
                    Some(f.person.trim()).filter(|p| !p.is_empty()),
                    &actor,
                )
                .await
            {
                Ok(k) => {
                    secret = Some(k.secret);
                    Ok(format!(
                        "Made key {} ({}). Copy it now; it is not shown again.",
                        k.record.id, f.scopes
                    ))
                }
                Err(e) => Err(refused(e)?),
            },
        },
        "revoke-key" => match store.revoke_key(&f.id, &actor).await {
            Ok(()) => Ok(format!("Key {} revoked.", f.id)),
            Err(e) => Err(refused(e)?),
        },
        "policy" => {
            match crate::routes::policy::apply(&state, f.policy.replace("\r\n", "\n"), &actor)
                .await?
            {
                Ok((label, version)) => {
                    Ok(format!("Policy {label} (version {version}) is in force."))
                }
                Err(e) => Err(format!(
                    "Refused{}: {} The policy in force is unchanged.",
                    e.line.map(|l| format!(" (line {l})")).unwrap_or_default(),
                    e.message
                )),
            }
        }
        "policy-diff" => {
            let n = f.recent.unwrap_or(2000).clamp(1, MAX_DIFF_ADS);
            let raws = store.recent_ads(n).await?;
            let mut ads = Vec::with_capacity(raws.len());
            let mut unreadable = 0;
            for raw in &raws {
                match serde_json::from_str::<samaritan_engine::model::Ad>(raw) {
                    Ok(ad) => ads.push(ad),
                    Err(_) => unreadable += 1,
                }
            }
            let analyzer = state.analyzer().clone();
            let text = f.policy.replace("\r\n", "\n");
            let result = tokio::task::spawn_blocking(move || analyzer.diff_policy(&text, &ads))
                .await
                .map_err(|e| {
                    PageError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("the backtest stopped: {e}"),
                    )
                })?;
            match result {
                Ok(d) => {
                    store
                        .audit_append(
                            &actor,
                            "policy.diff",
                            "policy",
                            serde_json::json!({
                                "ads": d.tally.ads,
                                "old": d.old,
                                "new": d.new,
                                "changed": d.tally.changed,
                                "via": "console",
                            }),
                        )
                        .await?;
                    let notice = format!(
                        "Backtest of {} against {} over the {} most recent ads: {} change verdict \
                         or report candidacy. Nothing was put in force.",
                        d.new, d.old, d.tally.ads, d.tally.changed
                    );
                    diff = Some(DiffView {
                        moves: d.tally.moves(),
                        changes: d
                            .changes
                            .iter()
                            .map(|c| ChangeRow {
                                id: c.id.clone(),
                                old: side(&c.old),
                                new: side(&c.new),
                                added: signals(&c.added),
                                removed: signals(&c.removed),
                            })
                            .collect(),
                        old: d.old,
                        new: d.new,
                        ads: d.tally.ads,
                        changed: d.tally.changed,
                        unreadable,
                    });
                    Ok(notice)
                }
                Err(e) => Err(format!(
                    "Not compared{}: {}",
                    e.line.map(|l| format!(" (line {l})")).unwrap_or_default(),
                    e.message
                )),
            }
        }
        other => Err(format!("unknown action `{other}`")),
    };
    let (notice, error) = match outcome {
        Ok(n) => (Some(n), None),
        Err(e) => (None, Some(e)),
    };
    let failed = error.is_some();
    let mut page = build(&state, &person, notice, secret, error).await?;
    if f.op == "policy-diff" {
        // The text compared stays in the editor, to be put in force or changed.
        page.policy_text = f.policy;
        page.diff = diff;
    }
    let mut resp = render(&page);
    if failed {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}
