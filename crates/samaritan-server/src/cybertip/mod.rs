//! Filing report cases with NCMEC's CyberTipline (issue 22): the report as XML ([`xml`]), the
//! Reporting API's client ([`client`]), the filing steps persisted one by one so that a crash
//! resumes without a duplicate report ([`filing`]), and a local mock of the API for tests and
//! integrators ([`mock`]).

pub mod client;
pub mod files;
pub mod filing;
pub mod mock;
pub mod tree;
pub mod xml;
