//! `samaritan keys`: make, list and revoke API keys. A new key is printed once and stored only
//! as a hash; every change is in the audit log.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use samaritan_store::Scope;

use super::store_args::{StoreArgs, runtime};

#[derive(Args, Debug)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub action: KeysAction,
}

#[derive(Subcommand, Debug)]
pub enum KeysAction {
    /// Make a key; prints it once as JSON on stdout.
    Create {
        /// Comma-separated: ingest, review, lead, admin, audit.
        #[arg(long)]
        scopes: String,
        /// A name to recognise the key by (who or what uses it).
        #[arg(long, default_value = "")]
        name: String,
        /// The console user who holds the key. Give it for every key a person uses: the
        /// two-person rules (report approval, appeals, second reviews) then count that
        /// person's keys and console session as one person. Without it the key is a service
        /// key, a person of its own.
        #[arg(long)]
        person: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List keys (never their secrets), one JSON line each.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a key by id; it stops working at once.
    Revoke {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(args: KeysArgs) -> Result<()> {
    runtime()?.block_on(async {
        match args.action {
            KeysAction::Create {
                scopes,
                name,
                person,
                store,
            } => {
                let scopes = Scope::parse_list(&scopes)?;
                let s = store.open().await?;
                let k = s
                    .create_key_for(&name, &scopes, person.as_deref(), "cli")
                    .await?;
                println!(
                    "{}",
                    serde_json::json!({
                        "id": k.record.id,
                        "name": k.record.name,
                        "scopes": k.record.scopes,
                        "person": k.record.person,
                        "key": k.secret,
                    })
                );
                eprintln!(
                    "key {} made ({}); this is the only time it is shown: keep it secret",
                    k.record.id,
                    scopes
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                );
                s.close().await;
            }
            KeysAction::List { store } => {
                let s = store.open().await?;
                for k in s.list_keys().await? {
                    println!("{}", serde_json::to_string(&k)?);
                }
                s.close().await;
            }
            KeysAction::Revoke { id, store } => {
                if id.is_empty() {
                    bail!("give the id of the key to revoke");
                }
                let s = store.open().await?;
                s.revoke_key(&id, "cli").await?;
                eprintln!("key {id} revoked");
                s.close().await;
            }
        }
        Ok(())
    })
}
