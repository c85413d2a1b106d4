//! A watch that says when it has listed: a change under observation must
//! not be sent before the watch holds the objects' current state. Shared by
//! the pod timeline, the EndpointSlice and pod watches of the traffic
//! checks and the budget watch.

use futures::{Stream, StreamExt};
use kube::runtime::watcher;
use tokio::sync::oneshot;

/// An object as a watch delivered it.
pub enum Delivered<K> {
    Applied(K),
    Deleted(K),
}

/// The objects `events` delivers, applied or deleted; `listed` is told once
/// the initial list is complete. Errors are left to the watcher's own
/// retries.
pub fn after_listing<K, S>(
    events: S,
    listed: oneshot::Sender<()>,
) -> impl Stream<Item = Delivered<K>>
where
    S: Stream<Item = Result<watcher::Event<K>, watcher::Error>>,
{
    let mut listed = Some(listed);
    events.filter_map(move |event| {
        let seen = match event {
            Ok(watcher::Event::Apply(o)) | Ok(watcher::Event::InitApply(o)) => {
                Some(Delivered::Applied(o))
            }
            Ok(watcher::Event::Delete(o)) => Some(Delivered::Deleted(o)),
            Ok(watcher::Event::InitDone) => {
                if let Some(tx) = listed.take() {
                    let _ = tx.send(());
                }
                None
            }
            _ => None,
        };
        futures::future::ready(seen)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn objects_pass_and_the_end_of_the_list_is_told() {
        let events = futures::stream::iter(vec![
            Ok(watcher::Event::Init),
            Ok(watcher::Event::InitApply(1)),
            Ok(watcher::Event::InitDone),
            Ok(watcher::Event::Apply(2)),
            Ok(watcher::Event::Delete(1)),
        ]);
        let (tx, mut rx) = oneshot::channel();
        let seen: Vec<String> = after_listing::<i32, _>(events, tx)
            .map(|s| match s {
                Delivered::Applied(n) => format!("+{n}"),
                Delivered::Deleted(n) => format!("-{n}"),
            })
            .collect()
            .await;
        assert_eq!(seen, ["+1", "+2", "-1"]);
        assert!(rx.try_recv().is_ok());
    }
}
