//! One file per subcommand; `run` dispatches.

use std::process::ExitCode;

use crate::Command;

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {}
}
