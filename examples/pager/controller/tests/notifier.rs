//! The notifier client: a redirect is a failed push (never followed: a POST turned GET answered
//! 200 marked alerts sent that were never delivered, and the token went to the host the redirect
//! named); what cannot work is refused when it is built.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pager_controller::{Note, Notifier, PushError, Token};

#[tokio::test]
async fn a_redirect_is_a_failed_push_and_is_not_followed() {
    let gets = Arc::new(AtomicUsize::new(0));
    let counted = gets.clone();
    let app = axum::Router::new().route(
        "/v2/pushes",
        axum::routing::post(|| async {
            (
                axum::http::StatusCode::MOVED_PERMANENTLY,
                [(axum::http::header::LOCATION, "/v2/pushes")],
            )
        })
        .get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { "[]" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let notifier = Notifier::new(
        &format!("http://{addr}"),
        Token::new("t"),
        Duration::from_secs(5),
    )
    .unwrap();
    let note = Note {
        type_: "note",
        title: "t",
        body: "b",
        guid: "g",
    };
    match notifier.push(&note).await {
        Err(PushError::Status { code: 301, .. }) => {}
        other => panic!("a redirect: {other:?}"),
    }
    assert_eq!(gets.load(Ordering::SeqCst), 0, "not followed");
}

#[test]
fn what_cannot_work_is_refused_when_built() {
    let ok = |url: &str, token: &str, timeout: u64| {
        Notifier::new(url, Token::new(token), Duration::from_secs(timeout))
    };
    assert!(ok("https://api.pushbullet.com", "t", 10).is_ok());
    for (url, token, timeout, says) in [
        ("not a url", "t", 10, "is not a URL"),
        ("ftp://example.com", "t", 10, "is not http or https"),
        ("http://127.0.0.1:1?x=1", "t", 10, "has a query"),
        ("https://api.pushbullet.com", "  ", 10, "token is empty"),
        (
            "https://api.pushbullet.com",
            "t",
            0,
            "timeout must be above zero",
        ),
    ] {
        let err = ok(url, token, timeout).unwrap_err();
        assert!(err.contains(says), "{url} {token:?} {timeout}: {err}");
    }
}
