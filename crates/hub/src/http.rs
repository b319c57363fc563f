//! The HTTP side: one blocking ureq agent with connect and read timeouts, redirects followed by
//! hand (a bounded number, the token dropped when a redirect leaves the host), and bounded
//! retries with exponential backoff for transient failures.

use crate::error::HubError;
use std::io::Read;
use std::time::Duration;

/// Time and count limits of every exchange with a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Longest silence while waiting for or reading a reply (a stalled server).
    pub read_timeout: Duration,
    /// Redirects followed for one request.
    pub max_redirects: u32,
    /// Further attempts after a transient failure (connection broken, 5xx, 429).
    pub retries: u32,
    /// Wait before the first retry; doubled for each next one.
    pub backoff: Duration,
    /// Largest JSON reply read (a file list), so a hostile server cannot fill the memory.
    pub max_json_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            max_redirects: 5,
            retries: 2,
            backoff: Duration::from_millis(500),
            max_json_bytes: 32 << 20,
        }
    }
}

/// A blocking client with an optional bearer token for one endpoint.
pub struct Client {
    agent: ureq::Agent,
    limits: Limits,
    token: Option<String>,
    /// `scheme://host:port` of the endpoint: the only place the token is sent.
    token_origin: String,
}

/// A reply, with the URL it finally came from (after redirects).
pub(crate) struct Reply {
    pub(crate) url: String,
    pub(crate) response: ureq::Response,
}

impl Client {
    /// A client whose `token` goes to `endpoint`'s host only (never to a CDN or another host a
    /// reply points to).
    pub fn new(limits: Limits, token: Option<String>, endpoint: &str) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(limits.connect_timeout)
            .timeout_read(limits.read_timeout)
            .timeout_write(limits.read_timeout)
            // Redirects are followed in `get`, where the token and the count are in our hands.
            .redirects(0)
            .try_proxy_from_env(true)
            .user_agent(concat!("dmlft-hub/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent,
            limits,
            token: token.filter(|t| !t.trim().is_empty()),
            token_origin: origin(endpoint),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// `f` until it succeeds, fails for good, or the retries are spent.
    pub(crate) fn with_retries<T>(
        &self,
        mut f: impl FnMut() -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        let mut attempt = 0;
        loop {
            match f() {
                Err(e) if e.is_transient() && attempt < self.limits.retries => {
                    let wait = self.limits.backoff * 2u32.saturating_pow(attempt);
                    tracing::warn!("{e}; retrying in {wait:?}");
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One GET of `url` (with `Range` when given). With `follow`, 3xx replies are followed up to
    /// the redirect limit; without, a 3xx is returned as it is. An error status is an error.
    pub(crate) fn get(
        &self,
        url: &str,
        range: Option<&str>,
        follow: bool,
    ) -> Result<Reply, HubError> {
        let mut current = url.to_string();
        // Only to the endpoint's host; once a redirect has left it, not even back there.
        let mut send_token = true;
        for _ in 0..=self.limits.max_redirects {
            send_token &= origin(&current) == self.token_origin;
            let mut request = self.agent.get(&current).set("Accept-Encoding", "identity");
            if let (Some(token), true) = (&self.token, send_token) {
                request = request.set("Authorization", &format!("Bearer {token}"));
            }
            if let Some(range) = range {
                request = request.set("Range", range);
            }
            let response = match request.call() {
                Ok(r) => r,
                Err(ureq::Error::Status(status, r)) => {
                    return Err(HubError::Status {
                        url: current,
                        status,
                        detail: error_detail(r),
                    })
                }
                Err(ureq::Error::Transport(t)) => {
                    return Err(HubError::Transport {
                        url: current,
                        message: transport_message(&t),
                    })
                }
            };
            if !(follow && (300..400).contains(&response.status())) {
                return Ok(Reply {
                    url: current,
                    response,
                });
            }
            let next = redirect_target(&current, &response)?;
            tracing::debug!("redirect {current} -> {next}");
            current = next;
        }
        Err(HubError::refused(
            url,
            "redirect chain",
            current,
            format!(
                "more than {} redirects (a redirect loop?)",
                self.limits.max_redirects
            ),
        ))
    }

    /// A JSON document, read up to [`Limits::max_json_bytes`].
    pub(crate) fn get_json(&self, url: &str) -> Result<serde_json::Value, HubError> {
        self.with_retries(|| {
            let reply = self.get(url, None, true)?;
            let mut text = Vec::new();
            let limit = self.limits.max_json_bytes;
            reply
                .response
                .into_reader()
                .take(limit + 1)
                .read_to_end(&mut text)
                .map_err(|e| HubError::Transport {
                    url: reply.url.clone(),
                    message: format!("the reply broke off: {e}"),
                })?;
            if text.len() as u64 > limit {
                return Err(HubError::refused(
                    &reply.url,
                    "reply",
                    format!("over {limit} bytes"),
                    "a file list is far smaller",
                ));
            }
            serde_json::from_slice(&text).map_err(|e| {
                HubError::refused(&reply.url, "reply", format!("{e}"), "expected JSON")
            })
        })
    }
}

/// The absolute URL a 3xx points to (`Location`, absolute, scheme-relative or path-relative).
fn redirect_target(current: &str, response: &ureq::Response) -> Result<String, HubError> {
    let location = response.header("Location").unwrap_or_default().trim();
    let resolved = join_url(current, location);
    match resolved {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => Ok(url),
        _ => Err(HubError::refused(
            current,
            "redirect Location",
            location,
            "an http(s) URL or a path",
        )),
    }
}

/// `location` resolved against `base` (enough of RFC 3986 for redirects).
pub(crate) fn join_url(base: &str, location: &str) -> Option<String> {
    if location.is_empty() {
        return None;
    }
    if location.contains("://") {
        return Some(location.to_string());
    }
    let (scheme, rest) = base.split_once("://")?;
    if let Some(authority_path) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{authority_path}"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if location.starts_with('/') {
        return Some(format!("{scheme}://{authority}{location}"));
    }
    let path = rest[authority.len()..]
        .split(['?', '#'])
        .next()
        .unwrap_or("");
    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    Some(format!("{scheme}://{authority}{dir}/{location}"))
}

/// `scheme://host:port` of a URL, lower-cased: where a token may go.
pub(crate) fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    // Credentials in the URL do not make another host the same host.
    let host = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    )
}

/// `: <message>` from the Hub's `X-Error-Message` header or the start of the body.
fn error_detail(response: ureq::Response) -> String {
    if let Some(m) = response.header("X-Error-Message") {
        return format!(": {}", clip(m));
    }
    let mut body = Vec::new();
    let _ = response.into_reader().take(300).read_to_end(&mut body);
    let text = String::from_utf8_lossy(&body);
    if text.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", clip(text.trim()))
    }
}

fn clip(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    one_line
}

fn transport_message(t: &ureq::Transport) -> String {
    let mut message = t.kind().to_string();
    if let Some(m) = t.message() {
        message.push_str(": ");
        message.push_str(m);
    }
    if let Some(source) = std::error::Error::source(t) {
        message.push_str(&format!(" ({source})"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_locations_resolve_against_the_request() {
        let base = "https://hub.example/org/m/resolve/main/model.safetensors";
        assert_eq!(
            join_url(base, "https://cdn.example/x").unwrap(),
            "https://cdn.example/x"
        );
        assert_eq!(
            join_url(base, "//cdn.example/y").unwrap(),
            "https://cdn.example/y"
        );
        assert_eq!(
            join_url(base, "/api/x?a=1").unwrap(),
            "https://hub.example/api/x?a=1"
        );
        assert_eq!(
            join_url(base, "other").unwrap(),
            "https://hub.example/org/m/resolve/main/other"
        );
        assert!(join_url(base, "").is_none());
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(origin("https://HF.co/a"), origin("https://hf.co/b?c"));
        assert_ne!(origin("https://hf.co/a"), origin("https://hf.co:444/a"));
        assert_ne!(origin("https://hf.co/a"), origin("http://hf.co/a"));
        assert_ne!(origin("https://hf.co/a"), origin("https://evil.example/a"));
        assert_eq!(origin("https://u:p@evil.example/"), "https://evil.example");
    }
}
