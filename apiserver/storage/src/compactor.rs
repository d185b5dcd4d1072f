//! Background compaction by age, for every backend.

use std::time::Duration;

use crate::{Revision, Storage, StorageError};

/// kube-apiserver's `--etcd-compaction-interval` default.
pub const DEFAULT_COMPACTION_INTERVAL: Duration = Duration::from_secs(300);

/// Compacts `store` every `interval` up to the revision it had one interval earlier, as
/// kube-apiserver does with etcd: every revision stays readable (lists at it, watches from it)
/// for at least one interval and at most two.
///
/// Runs until the returned future is dropped (spawn it). A failed compaction is handed to
/// `on_error` and retried at the next tick; it never stops the loop.
pub async fn compact_periodically<S: Storage>(
    store: S,
    interval: Duration,
    mut on_error: impl FnMut(StorageError) + Send,
) {
    let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate: it only records where the store is.
    let mut previous: Option<Revision> = None;
    loop {
        ticks.tick().await;
        let now = match store.revision().await {
            Ok(now) => now,
            Err(e) => {
                on_error(e);
                continue;
            }
        };
        if let Some(target) = previous.filter(|&r| r > 0)
            && let Err(e) = store.compact(target).await
        {
            on_error(e);
        }
        previous = Some(now);
    }
}
