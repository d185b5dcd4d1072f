//! The Pushbullet-style notifier: `POST <base>/v2/pushes` with an `Access-Token` header and a
//! JSON note. The alert's uid goes along as `guid`, the idempotency key a notifier can dedupe by.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// A secret that never appears in logs or `Debug` output.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Self {
        Token(token.into())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// What is pushed.
#[derive(Clone, Debug, Serialize)]
pub struct Note<'a> {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub title: &'a str,
    pub body: &'a str,
    /// The alert's uid: the same alert always carries the same key.
    pub guid: &'a str,
}

/// Why a push failed; all of them are retried.
#[derive(Debug)]
pub enum PushError {
    /// The notifier answered with an error status; with how long it asked to wait first (a
    /// `429` or `503` with `Retry-After`, in seconds or as an HTTP date).
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// Timeout, connection refused, …
    Transport(String),
}

impl PushError {
    /// How long the notifier asked to wait before the next push.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PushError::Status { retry_after, .. } => *retry_after,
            PushError::Transport(_) => None,
        }
    }
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Status {
                code,
                retry_after: Some(wait),
            } => write!(
                f,
                "the notifier answered {code}, asking to retry after {}s",
                wait.as_secs_f64()
            ),
            PushError::Status { code, .. } => write!(f, "the notifier answered {code}"),
            PushError::Transport(e) => write!(f, "the notifier could not be reached: {e}"),
        }
    }
}

/// The longest `Retry-After` honoured: a notifier asking for more is asked again after this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A `Retry-After` value (RFC 9110: seconds, or an HTTP date) as a wait from `now`, at most
/// [`MAX_RETRY_AFTER`]; `None` for a value that is neither (logged: the usual backoff applies).
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        match jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(value) {
            Ok(at) => Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO),
            Err(e) => {
                tracing::warn!(value, error = %e, "the notifier sent a Retry-After that is neither seconds nor an HTTP date; backing off as usual");
                return None;
            }
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

impl std::error::Error for PushError {}

#[derive(Clone, Debug)]
pub struct Notifier {
    http: reqwest::Client,
    url: String,
    token: Token,
}

impl Notifier {
    /// A notifier at `base` (`https://api.pushbullet.com`): an `http(s)` URL without a query,
    /// a token that is not empty, a timeout above zero — refused otherwise, at start, rather
    /// than failing every push later.
    pub fn new(base: &str, token: Token, timeout: Duration) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(base)
            .map_err(|e| format!("the notifier URL {base:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("the notifier URL {base:?} is not http or https"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(format!(
                "the notifier URL {base:?} has a query or a fragment: give its base \
                 (`https://api.pushbullet.com`); pushes go to `<base>/v2/pushes`"
            ));
        }
        if token.0.trim().is_empty() {
            return Err("the notifier token is empty".into());
        }
        if timeout.is_zero() {
            return Err("the push timeout must be above zero".into());
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            // A redirect is no delivery: followed, a POST becomes a GET that may answer 200
            // (a notifier's http → https redirect marked every alert sent, none delivered),
            // and the token would go to whatever host it names. A 3xx is a failed push.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the notifier's HTTP client: {e}"))?;
        Ok(Notifier {
            http,
            url: format!("{}/v2/pushes", base.trim_end_matches('/')),
            token,
        })
    }

    pub async fn push(&self, note: &Note<'_>) -> Result<(), PushError> {
        let resp = self
            .http
            .post(&self.url)
            .header("Access-Token", &self.token.0)
            .json(note)
            .send()
            .await
            .map_err(|e| PushError::Transport(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = match resp.headers().get(reqwest::header::RETRY_AFTER) {
            Some(v) => match v.to_str() {
                Ok(v) => parse_retry_after(v, jiff::Timestamp::now()),
                Err(_) => {
                    tracing::warn!(
                        "the notifier sent a Retry-After that is not text; backing off as usual"
                    );
                    None
                }
            },
            None => None,
        };
        Err(PushError::Status {
            code: status.as_u16(),
            retry_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_an_http_date() {
        let now: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        // A date in the past: retry now.
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
