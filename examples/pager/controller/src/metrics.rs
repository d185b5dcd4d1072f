//! The controller's metrics, in the Prometheus text format (`prometheus-client`).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Default)]
pub struct Metrics {
    /// Alerts pushed and marked sent.
    pub sent: Counter,
    /// Pushes the notifier refused or that did not reach it.
    pub push_failures: Counter,
    /// Status writes that failed (retried).
    pub status_failures: Counter,
    /// Keys waiting in the workqueue.
    pub queue_depth: Gauge,
    /// Alerts waiting for a retry (backing off after a failed push, or for a claim to expire).
    pub retry_waiting: Gauge,
    /// 1 once the caches synced and until shutdown begins (`/readyz`).
    pub ready: Gauge,
}

impl Metrics {
    pub fn registry(&self) -> Registry {
        let mut r = Registry::with_prefix("pager_controller");
        r.register(
            "alerts_sent",
            "Alerts pushed and marked sent",
            self.sent.clone(),
        );
        r.register(
            "push_failures",
            "Pushes the notifier refused or that did not reach it",
            self.push_failures.clone(),
        );
        r.register(
            "status_write_failures",
            "Status writes that failed and were retried",
            self.status_failures.clone(),
        );
        r.register(
            "queue_depth",
            "Alerts waiting in the workqueue",
            self.queue_depth.clone(),
        );
        r.register(
            "retry_waiting",
            "Alerts waiting for a retry: backing off after a failed push, or for a claim to expire",
            self.retry_waiting.clone(),
        );
        r.register(
            "ready",
            "1 once the caches synced and until shutdown begins",
            self.ready.clone(),
        );
        r
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry());
        out
    }
}
