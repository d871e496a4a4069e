//! One file per subcommand; `run` dispatches.

use std::process::ExitCode;

use crate::Command;

pub mod networks;
mod pairs;
pub mod synth;

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Networks(args) => networks::run(args),
        Command::Synth(args) => synth::run(args).map(|()| ExitCode::SUCCESS),
    }
}
