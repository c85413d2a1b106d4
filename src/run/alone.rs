//! Scenarios running in this process, for a measurement its neighbours'
//! load would skew (emptyDir write throughput). Its scenario starts last in
//! the batch like any other and deploys beside the last ones; only the
//! measurement waits until every other scenario has ended. Before, the
//! whole scenario ran alone after the others: 7 s of a 106 s selection
//! with one scenario on the cluster.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard};

use crate::observe::wait::{self, Poll, WaitContext};

/// The lap a scenario spends waiting for the others to end.
pub const WAIT_LAP: &str = crate::model::record::Lap::OTHERS_ENDING;

static RUNNING: AtomicUsize = AtomicUsize::new(0);
static WAITING: AtomicUsize = AtomicUsize::new(0);
/// One measurement at a time.
static TURN: Mutex<()> = Mutex::const_new(());

/// Counts a scenario as running while held.
pub struct Running(());

impl Running {
    pub fn start() -> Running {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Running(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A scenario waiting here (or measuring); it does not count as busy for
/// another one waiting here, so two such scenarios never wait for each other.
struct Waiting(());

impl Waiting {
    fn start() -> Waiting {
        WAITING.fetch_add(1, Ordering::SeqCst);
        Waiting(())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// While held, no other scenario of this process runs (and none starts:
/// a batch starts the scenarios that measure last, see `run::schedule`).
pub struct Alone {
    _turn: MutexGuard<'static, ()>,
    _waiting: Waiting,
}

/// Waits, polling, until every other running scenario has ended or waits
/// here too, then holds the turn to measure.
pub async fn wait_until_alone(ctx: &WaitContext, timeout: Duration) -> anyhow::Result<Alone> {
    let waiting = Waiting::start();
    let turn = TURN.lock().await;
    wait::until(
        ctx,
        "every other scenario to end (this measurement runs alone)",
        timeout,
        || async { Ok(alone_state(busy_others())) },
    )
    .await?;
    Ok(Alone {
        _turn: turn,
        _waiting: waiting,
    })
}

fn busy_others() -> usize {
    RUNNING
        .load(Ordering::SeqCst)
        .saturating_sub(WAITING.load(Ordering::SeqCst))
}

fn alone_state(busy: usize) -> Poll<()> {
    match busy {
        0 => Poll::Ready(()),
        n => Poll::Pending(format!("{n} other scenario(s) still running")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_scenarios_that_do_not_wait_here_keep_a_measurement_waiting() {
        assert!(matches!(alone_state(0), Poll::Ready(())));
        assert!(matches!(alone_state(2), Poll::Pending(s) if s.starts_with("2 other")));
    }
}
