//! Which JetStream stream the stream commands (`serve --stream`, `ingest`, `worker`) use.

use anyhow::Result;
use clap::Args;
use samaritan_server::stream::{DEFAULT_STREAM, SUBJECT_PREFIX, StreamSpec};

#[derive(Args, Debug, Clone)]
pub struct StreamArgs {
    /// The JetStream stream of accepted ads (created when absent: work queue, file storage).
    #[arg(long, env = "SAMARITAN_STREAM_NAME", default_value = DEFAULT_STREAM)]
    pub stream_name: String,
    /// Its subjects are `<PREFIX>.<source>`; another deployment on the same NATS takes another
    /// name and prefix (two streams cannot share subjects).
    #[arg(long, env = "SAMARITAN_STREAM_SUBJECTS", default_value = SUBJECT_PREFIX, value_name = "PREFIX")]
    pub stream_subjects: String,
}

impl StreamArgs {
    pub fn spec(&self) -> Result<StreamSpec> {
        Ok(StreamSpec::new(&self.stream_name, &self.stream_subjects)?)
    }
}
