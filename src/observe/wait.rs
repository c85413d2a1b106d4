//! Deadline-bound waiting, woken by watches. A wait re-evaluates its
//! condition whenever a watched object changes (kube-runtime's watcher over
//! the scenario's pods and workload), with a slow backstop tick in case a
//! watch stream breaks; waits on things no watch reports (exec results,
//! events) poll. No fixed sleeps. A timeout says what was awaited, the last
//! state seen and the namespace's recent events, because "timed out" alone
//! is the most common useless e2e failure.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::stream::{BoxStream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher;

/// Result of one look at the world.
pub enum Poll<T> {
    Ready(T),
    /// Not yet; the text describes the state seen (kept for the error).
    Pending(String),
    /// It cannot happen any more (a controller reports a permanent
    /// failure): stop now rather than at the deadline.
    GaveUp(String),
}

/// Where diagnostics come from when a wait times out.
#[derive(Clone)]
pub struct WaitContext {
    pub client: Client,
    pub namespace: String,
    /// The scope of its progress events (the scenario name).
    pub label: String,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "{ended} after {elapsed_s}s waiting for {what}; last state: {last_state}; recent events in {namespace}: {events}"
)]
pub struct WaitTimeout {
    /// "timed out", or "gave up" when the awaited thing cannot happen.
    pub ended: &'static str,
    pub what: String,
    pub elapsed_s: u64,
    pub last_state: String,
    pub namespace: String,
    pub events: String,
}

/// Polling interval where nothing can be watched.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Re-check interval of a watched wait when no change arrives.
const BACKSTOP: Duration = Duration::from_secs(5);
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// A stream that yields whenever something a wait depends on changed.
pub type Triggers = BoxStream<'static, ()>;

/// Changes of every pod in the namespace and of one kind of object there
/// (the workload).
pub fn namespace_triggers(client: &Client, namespace: &str, workload: &ApiResource) -> Triggers {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let objects: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, workload);
    let config = watcher::Config::default;
    let pods = watcher(pods, config()).map(|_| ());
    let objects = watcher(objects, config()).map(|_| ());
    futures::stream::select(pods, objects).boxed()
}

/// Polls `check` every 500 ms until it is ready or `timeout` passes.
pub async fn until<T, F, Fut>(
    ctx: &WaitContext,
    what: &str,
    timeout: Duration,
    check: F,
) -> Result<T, WaitTimeout>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Poll<T>>>,
{
    let ticks = futures::stream::unfold((), |()| async {
        tokio::time::sleep(POLL_INTERVAL).await;
        Some(((), ()))
    })
    .boxed();
    drive(ctx, what, timeout, ticks, POLL_INTERVAL, check).await
}

/// Evaluates `check` now and again on every trigger (and every few seconds
/// as a backstop) until it is ready or `timeout` passes.
pub async fn until_watched<T, F, Fut>(
    ctx: &WaitContext,
    what: &str,
    timeout: Duration,
    triggers: Triggers,
    check: F,
) -> Result<T, WaitTimeout>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Poll<T>>>,
{
    drive(ctx, what, timeout, triggers, BACKSTOP, check).await
}

/// Errors from `check` count as "pending" (API hiccups while pods restart
/// are expected) and are reported as the last state if the deadline passes.
async fn drive<T, F, Fut>(
    ctx: &WaitContext,
    what: &str,
    timeout: Duration,
    triggers: Triggers,
    backstop: Duration,
    check: F,
) -> Result<T, WaitTimeout>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Poll<T>>>,
{
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let report = |state: &str| {
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            crate::model::event::emit(crate::model::event::Event::Waiting {
                scope: ctx.label.clone(),
                what: what.to_string(),
                state: state.to_string(),
                elapsed_s: started.elapsed().as_secs(),
                timeout_s: timeout.as_secs(),
            });
        }
    };
    match settle(triggers, backstop, timeout, check, report).await {
        Ok(value) => Ok(value),
        Err((ended, last_state)) => Err(WaitTimeout {
            ended,
            what: what.to_string(),
            elapsed_s: started.elapsed().as_secs(),
            last_state,
            namespace: ctx.namespace.clone(),
            events: crate::observe::events::recent(&ctx.client, &ctx.namespace, 12).await,
        }),
    }
}

/// The loop itself: check, then wait for a trigger or the backstop, until
/// ready, given up, or the deadline; the error is how it ended and the last
/// state seen.
async fn settle<T, F, Fut>(
    mut triggers: Triggers,
    backstop: Duration,
    timeout: Duration,
    mut check: F,
    mut on_pending: impl FnMut(&str),
) -> Result<T, (&'static str, String)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Poll<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last_state = String::from("not checked yet");
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(remaining, check()).await {
            Ok(Ok(Poll::Ready(value))) => return Ok(value),
            Ok(Ok(Poll::Pending(state))) => last_state = state,
            Ok(Ok(Poll::GaveUp(reason))) => return Err(("gave up", reason)),
            Ok(Err(err)) => {
                last_state = format!("error: {}", crate::observe::kruise::error_text(&err))
            }
            Err(_) => return Err(("timed out", last_state)),
        }
        on_pending(&last_state);
        let next = tokio::time::timeout(backstop, triggers.next());
        if tokio::time::timeout_at(deadline, next).await.is_err() {
            return Err(("timed out", last_state));
        }
        // Coalesce a burst of changes into one re-check.
        while let Some(Some(())) = triggers.next().now_or_never() {}
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn counting_check(
        ready_at: usize,
    ) -> (
        Arc<AtomicUsize>,
        impl FnMut() -> futures::future::Ready<anyhow::Result<Poll<usize>>>,
    ) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let check = move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            futures::future::ready(Ok(if n >= ready_at {
                Poll::Ready(n)
            } else {
                Poll::Pending(format!("call {n}"))
            }))
        };
        (calls, check)
    }

    /// A burst of triggers wakes one re-check, not one per change.
    #[tokio::test(start_paused = true)]
    async fn a_burst_of_triggers_is_one_recheck() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<()>();
        for _ in 0..5 {
            tx.unbounded_send(()).unwrap();
        }
        let (calls, check) = counting_check(1);
        let value = settle(rx.boxed(), BACKSTOP, Duration::from_secs(60), check, |_| {}).await;
        assert_eq!(value, Ok(1));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn backstop_rechecks_without_triggers_and_the_deadline_stops() {
        let (calls, check) = counting_check(usize::MAX);
        let silent = futures::stream::pending::<()>().boxed();
        let mut seen = Vec::new();
        let started = tokio::time::Instant::now();
        let value = settle(silent, BACKSTOP, Duration::from_secs(21), check, |s| {
            seen.push(s.to_string())
        })
        .await;
        assert_eq!(
            value,
            Err(("timed out", "call 4".to_string())),
            "the last state is kept"
        );
        // t=0, 5, 10, 15, 20, then the deadline at 21.
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        assert_eq!(seen.len(), 5);
        assert_eq!(started.elapsed(), Duration::from_secs(21));
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_error_is_a_pending_state() {
        let silent = futures::stream::pending::<()>().boxed();
        let check = || futures::future::ready(Err::<Poll<()>, _>(anyhow::anyhow!("api down")));
        let value = settle(silent, BACKSTOP, Duration::from_secs(1), check, |_| {}).await;
        assert_eq!(value, Err(("timed out", "error: api down".to_string())));
    }

    #[tokio::test(start_paused = true)]
    async fn giving_up_stops_before_the_deadline() {
        let silent = futures::stream::pending::<()>().boxed();
        let check = || futures::future::ready(Ok(Poll::<()>::GaveUp("refused".into())));
        let started = tokio::time::Instant::now();
        let value = settle(silent, BACKSTOP, Duration::from_secs(60), check, |_| {}).await;
        assert_eq!(value, Err(("gave up", "refused".to_string())));
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
