//! What can go wrong in the store, as one error type the server maps to HTTP statuses.

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed an operation.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The store could not be opened at all.
    #[error("cannot open the store at {location}: {reason}")]
    Open { location: String, reason: String },
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The operation conflicts with the current state (e.g. another reviewer holds the lease).
    #[error("{0}")]
    Conflict(String),
    /// A review action refused because the state moved on (a claim, a revision, a decision);
    /// `code` says which (`claimed`, `not_claimed`, `stale_revision`, `decision_changed`).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The caller passed something the store will not accept.
    #[error("{0}")]
    Invalid(String),
    /// Stored data does not decode (the database was edited or damaged).
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The store's writer has stopped (the store is shutting down).
    #[error("the store is shutting down")]
    Closed,
}
