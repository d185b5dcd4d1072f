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
    /// The notifier answered with an error status.
    Status(u16),
    /// Timeout, connection refused, …
    Transport(String),
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Status(code) => write!(f, "the notifier answered {code}"),
            PushError::Transport(e) => write!(f, "the notifier could not be reached: {e}"),
        }
    }
}

impl std::error::Error for PushError {}

#[derive(Clone, Debug)]
pub struct Notifier {
    http: reqwest::Client,
    url: String,
    token: Token,
}

impl Notifier {
    pub fn new(base: &str, token: Token, timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(Notifier {
            http: reqwest::Client::builder().timeout(timeout).build()?,
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
            Ok(())
        } else {
            Err(PushError::Status(status.as_u16()))
        }
    }
}
