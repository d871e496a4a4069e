//! `samaritan users`: the people who sign in to the console. Passwords are read from stdin or
//! generated and printed once; only their Argon2id hashes are stored, and every change is in the
//! audit log (actor `cli`).

use std::io::Read;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use samaritan_store::Role;
use samaritan_store::users::{MAX_PASSWORD_BYTES, generate_password};

use super::store_args::{StoreArgs, runtime};

#[derive(Args, Debug)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub action: UsersAction,
}

#[derive(Subcommand, Debug)]
pub enum UsersAction {
    /// Make an account. Without --password-stdin a password is generated and printed once, as
    /// JSON on stdout.
    Create {
        /// Sign-in name: 1 to 64 of a-z, 0-9, `.`, `_`, `-`, `@`.
        name: String,
        /// reviewer: works the queue; lead: escalations, QA; admin: users, keys, policy;
        /// auditor: the audit log.
        #[arg(long, value_parser = ["reviewer", "lead", "admin", "auditor"])]
        role: String,
        /// Read the password (at least 12 characters) from stdin instead of generating one.
        /// One trailing newline is dropped.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List accounts (never their password hashes), one JSON line each.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable an account for good; it can no longer sign in.
    Disable {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set a new password (and lift a lockout). Without --password-stdin one is generated and
    /// printed once, as JSON on stdout.
    ResetPassword {
        name: String,
        /// Read the new password from stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The password from stdin (one trailing newline dropped), or `None` to generate one.
fn read_password(from_stdin: bool) -> Result<Option<String>> {
    if !from_stdin {
        return Ok(None);
    }
    let mut buf = Vec::new();
    // One byte more than allowed (and a newline), so an over-long password is refused by the
    // store's rule rather than cut short here.
    std::io::stdin()
        .take(MAX_PASSWORD_BYTES as u64 + 3)
        .read_to_end(&mut buf)
        .context("reading the password from stdin")?;
    let mut text = String::from_utf8(buf).context("the password on stdin is not UTF-8")?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        bail!("--password-stdin: stdin held no password");
    }
    Ok(Some(text))
}

/// The password from stdin, or a generated one (`true`: show it once).
fn password_or_generated(from_stdin: bool) -> Result<(String, bool)> {
    Ok(match read_password(from_stdin)? {
        Some(p) => (p, false),
        None => (generate_password()?, true),
    })
}

pub fn run(args: UsersArgs) -> Result<()> {
    runtime()?.block_on(async {
        match args.action {
            UsersAction::Create {
                name,
                role,
                password_stdin,
                store,
            } => {
                let role = Role::parse(&role)?;
                let (password, generated) = password_or_generated(password_stdin)?;
                let s = store.open().await?;
                let u = s.create_user(&name, role, &password, "cli").await?;
                let mut out = serde_json::json!({ "name": u.name, "role": u.role, "id": u.id });
                if generated {
                    out["password"] = serde_json::Value::String(password);
                }
                println!("{out}");
                eprintln!(
                    "user {} made ({}){}",
                    u.name,
                    u.role.as_str(),
                    if generated {
                        "; the password is shown only this once"
                    } else {
                        ""
                    }
                );
                s.close().await;
            }
            UsersAction::List { store } => {
                let s = store.open().await?;
                for u in s.list_users().await? {
                    println!("{}", serde_json::to_string(&u)?);
                }
                s.close().await;
            }
            UsersAction::Disable { name, store } => {
                let s = store.open().await?;
                s.disable_user(&name, "cli").await?;
                eprintln!("user {name} disabled");
                s.close().await;
            }
            UsersAction::ResetPassword {
                name,
                password_stdin,
                store,
            } => {
                let (password, generated) = password_or_generated(password_stdin)?;
                let s = store.open().await?;
                s.reset_password(&name, &password, "cli").await?;
                if generated {
                    println!(
                        "{}",
                        serde_json::json!({ "name": name, "password": password })
                    );
                }
                eprintln!("user {name}: password reset");
                s.close().await;
            }
        }
        Ok(())
    })
}
