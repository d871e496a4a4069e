//! One file per subcommand; `run` dispatches.

use std::process::ExitCode;

pub mod bank;
pub mod bench;
pub mod hash;

use crate::Command;

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Hash(args) => hash::run(args),
        Command::Bank(args) => bank::run(args),
        Command::Bench(args) => bench::run(args),
    }
}
