//! A Pushbullet-style notifier for tests: a local HTTP server that records every push and can be
//! told to fail the first calls for an alert.

#![allow(dead_code)] // each test file uses a different part

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;

#[derive(Clone, Debug)]
pub struct Push {
    pub token: Option<String>,
    pub body: Value,
    /// Whether the notifier accepted it.
    pub accepted: bool,
    /// When it came.
    pub at: std::time::Instant,
}

#[derive(Clone, Default)]
pub struct Recorder {
    pub pushes: Arc<Mutex<Vec<Push>>>,
    /// Title → how many more calls to refuse with 503 (429 with [`Recorder::retry_after`]).
    pub fail: Arc<Mutex<HashMap<String, u32>>>,
    /// A `Retry-After` value sent with each refusal, which is then a 429.
    pub retry_after: Arc<Mutex<Option<String>>>,
    /// How long each answer takes.
    pub delay: Arc<Mutex<std::time::Duration>>,
}

impl Recorder {
    /// Accepted pushes per guid.
    pub fn accepted_by_guid(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for p in self.pushes.lock().iter().filter(|p| p.accepted) {
            *m.entry(p.body["guid"].as_str().unwrap_or_default().to_string())
                .or_insert(0) += 1;
        }
        m
    }

    pub fn calls_for(&self, title: &str) -> usize {
        self.pushes
            .lock()
            .iter()
            .filter(|p| p.body["title"] == title)
            .count()
    }
}

pub async fn notifier() -> (SocketAddr, Recorder) {
    let rec = Recorder::default();
    let state = rec.clone();
    let app = axum::Router::new().route(
        "/v2/pushes",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::extract::Json<Value>| {
                let state = state.clone();
                async move {
                    let delay = *state.delay.lock();
                    tokio::time::sleep(delay).await;
                    let title = body["title"].as_str().unwrap_or_default().to_string();
                    let refuse = {
                        let mut fail = state.fail.lock();
                        match fail.get_mut(&title) {
                            Some(n) if *n > 0 => {
                                *n -= 1;
                                true
                            }
                            _ => false,
                        }
                    };
                    state.pushes.lock().push(Push {
                        token: headers
                            .get("Access-Token")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string),
                        body: body.0,
                        accepted: !refuse,
                        at: std::time::Instant::now(),
                    });
                    use axum::http::{StatusCode, header::RETRY_AFTER};
                    use axum::response::IntoResponse;
                    let retry_after = state.retry_after.lock().clone();
                    match (refuse, retry_after) {
                        (false, _) => StatusCode::OK.into_response(),
                        (true, None) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                        (true, Some(after)) => {
                            (StatusCode::TOO_MANY_REQUESTS, [(RETRY_AFTER, after)]).into_response()
                        }
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, rec)
}

pub fn alert(name: &str) -> pager::v1beta1::Alert {
    let mut a = pager::v1beta1::Alert::default();
    a.metadata.name = Some(name.into());
    a.spec.title = name.into();
    a.spec.content = format!("{name} needs attention");
    a
}

/// Waits up to `secs` for `ok`.
pub async fn eventually(secs: u64, what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if ok().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}
