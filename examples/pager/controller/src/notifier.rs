//! The Pushbullet-style notifier: `POST <base>/v2/pushes` with an `Access-Token` header and a
//! JSON note. The alert's uid goes along as `guid`, the idempotency key a notifier can dedupe by.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use serde::Serialize;

/// The notifier's access token: a secret that never appears in logs or `Debug` output. One read
/// from a file ([`Token::from_file`], a mounted Secret) follows the file: the kubelet updates a
/// Secret's files in place when it rotates, so each push reads the file again if it changed.
#[derive(Clone)]
pub struct Token(Arc<Source>);

enum Source {
    Fixed(String),
    File {
        path: PathBuf,
        current: Mutex<FileToken>,
    },
}

/// The token last read from its file, and what the file was then.
struct FileToken {
    stamp: Option<Stamp>,
    value: String,
    /// The last failure to read it again (reported once, not at every push).
    failure: Option<String>,
}

/// What tells a changed file: the kubelet swaps a symlink to a new directory (another inode);
/// an edit in place changes the size or the modification time.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        len: m.len(),
        mtime: m.mtime(),
        mtime_nsec: m.mtime_nsec(),
    })
}

/// The token in `path`, trimmed: an error for a file that cannot be read or holds no token.
fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("the token file {} is empty", path.display()));
    }
    Ok(token.to_string())
}

impl Token {
    pub fn new(token: impl Into<String>) -> Self {
        Token(Arc::new(Source::Fixed(token.into())))
    }

    /// The token in the file at `path` (trimmed), read now — an error when it cannot be read or
    /// is empty — and again before a push whenever the file changed. A later read that fails
    /// (the file gone, empty, unreadable) keeps the token last read, with one error logged.
    pub fn from_file(path: impl Into<PathBuf>) -> Result<Self, String> {
        let path = path.into();
        // Stamped before the read: a change between the two is read again at the next push.
        let stamp = stamp(&path).ok();
        let value = read_token(&path)?;
        Ok(Token(Arc::new(Source::File {
            path,
            current: Mutex::new(FileToken {
                stamp,
                value,
                failure: None,
            }),
        })))
    }

    fn is_empty(&self) -> bool {
        match &*self.0 {
            Source::Fixed(t) => t.trim().is_empty(),
            Source::File { .. } => false, // checked when read
        }
    }

    /// The token to send now.
    fn current(&self) -> String {
        let (path, current) = match &*self.0 {
            Source::Fixed(t) => return t.clone(),
            Source::File { path, current } => (path, current),
        };
        let mut current = current.lock();
        let now = stamp(path);
        if let Ok(now) = now
            && current.stamp == Some(now)
        {
            return current.value.clone();
        }
        match now.map_err(|e| format!("cannot read the token file {}: {e}", path.display())) {
            Ok(now) => match read_token(path) {
                Ok(value) => {
                    if value != current.value {
                        tracing::info!(file = %path.display(), "the token file changed: pushing with the new token");
                    }
                    *current = FileToken {
                        stamp: Some(now),
                        value,
                        failure: None,
                    };
                }
                Err(e) => current.report(e),
            },
            Err(e) => current.report(e),
        }
        current.value.clone()
    }
}

impl FileToken {
    fn report(&mut self, failure: String) {
        if self.failure.as_ref() != Some(&failure) {
            tracing::error!(error = %failure, "pushing with the token read before");
            self.failure = Some(failure);
        }
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
        if token.is_empty() {
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
            .header("Access-Token", self.token.current())
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

    /// A Secret volume as the kubelet writes it: `token` → `..data/token`, `..data` → a
    /// directory of this version, swapped atomically for the next one.
    fn secret_version(dir: &Path, version: &str, token: &str) {
        let versioned = dir.join(version);
        std::fs::create_dir(&versioned).unwrap();
        std::fs::write(versioned.join("token"), token).unwrap();
        let tmp = dir.join("..data_tmp");
        std::os::unix::fs::symlink(version, &tmp).unwrap();
        std::fs::rename(&tmp, dir.join("..data")).unwrap();
        if !dir.join("token").exists() {
            std::os::unix::fs::symlink("..data/token", dir.join("token")).unwrap();
        }
    }

    #[test]
    fn a_token_file_is_read_again_when_its_secret_is_rotated() {
        let dir = tempfile::tempdir().unwrap();
        secret_version(dir.path(), "..v1", "first\n");
        let token = Token::from_file(dir.path().join("token")).unwrap();
        assert_eq!(token.current(), "first");
        secret_version(dir.path(), "..v2", "second");
        assert_eq!(token.current(), "second");
        // Edited in place (another length).
        std::fs::write(dir.path().join("..v2/token"), "third-token").unwrap();
        assert_eq!(token.current(), "third-token");
        // Emptied or removed: the token read before is kept.
        std::fs::write(dir.path().join("..v2/token"), "  \n").unwrap();
        assert_eq!(token.current(), "third-token");
        std::fs::remove_file(dir.path().join("..v2/token")).unwrap();
        assert_eq!(token.current(), "third-token");
        secret_version(dir.path(), "..v3", "fourth");
        assert_eq!(token.current(), "fourth");
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    }

    #[test]
    fn a_token_file_that_cannot_be_read_or_is_empty_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Token::from_file(dir.path().join("nope")).unwrap_err();
        assert!(
            missing.starts_with("cannot read the token file"),
            "{missing}"
        );
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        let empty = Token::from_file(dir.path().join("empty")).unwrap_err();
        assert!(empty.ends_with("is empty"), "{empty}");
    }

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
