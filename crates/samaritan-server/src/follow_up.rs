//! What follows a decision, beside the decision itself: a sampled second review (quality
//! assurance) and, for a `report`, its report case and the preservation of its evidence. Neither can undo the decision: a failure is
//! logged, and report cases missing after one are opened by the sweep
//! ([`crate::reports::open_missing`]).

use samaritan_store::Decision;

use crate::AppState;

pub(crate) async fn after_decision(state: &AppState, decision: &Decision) {
    state.wake_learner();
    crate::console::qa::sample_second(state, decision).await;
    if let Err(e) = crate::reports::open_case(state, decision).await {
        tracing::warn!(decision = decision.seq, error = %e, "report case not opened yet (the sweep retries)");
    }
    if decision.action == "report"
        && let Err(e) = state.preserve_missing().await
    {
        tracing::error!(decision = decision.seq, error = %e, "report case not preserved yet (the sweep retries)");
    }
}
