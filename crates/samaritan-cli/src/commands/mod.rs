//! One file per subcommand; `run` dispatches.

use std::process::ExitCode;

use crate::Command;

pub mod synth;

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Synth(args) => synth::run(args).map(|()| ExitCode::SUCCESS),
    }
}
