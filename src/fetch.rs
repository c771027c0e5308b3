//! One HTTP exchange, with the raw bytes kept for the archive.
//!
//! The fetcher does a single hop: redirects are returned as responses so the crawl scheduler
//! can record each hop, check it against the site's scope and rate-limit it. The body is kept
//! exactly as the server sent it (content-encoding intact, since it goes into WARC files); a
//! decoded copy for parsing comes from [`RawResponse::decoded_body`].
//!
//! Parts:
//! - [`FetchOptions`], [`Fetcher`]: one pooled reqwest client (rustls, no redirects, no proxy,
//!   no automatic decompression) and [`Fetcher::fetch`], which streams the body under
//!   `max_body` and a total timeout.
//! - [`RawResponse`]: status, headers, reconstructed request/response heads for the WARC
//!   records, the raw body, and helpers (`location`, `is_html`, `decoded_body`).
//! - [`FetchFailure`]: why an exchange failed, with a stable reason string and whether a retry
//!   may help.
//! - [`parse_retry_after`], [`backoff_delay`]: retry timing.

use std::io::Read;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::{Position, Url};

/// Connect timeout used when the config does not say otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle keep-alive connections kept per host (at most as many as requests in flight).
const MAX_IDLE_PER_HOST: usize = 64;

/// Upper bound of [`backoff_delay`] before `Retry-After` is applied.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Encodings we can undo in [`RawResponse::decoded_body`]; sent as `Accept-Encoding`.
const ACCEPT_ENCODING: &str = "gzip, deflate, br";
const ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/// The portals are Vietnamese; asking for Vietnamese avoids an English variant where one exists.
const ACCEPT_LANGUAGE: &str = "vi,en;q=0.5";
/// How much of an unlabelled body is looked at to decide whether it is HTML.
const SNIFF_BYTES: u64 = 1024;
/// Never pre-allocate more than this for a body, whatever Content-Length claims.
const MAX_PREALLOC: u64 = 1 << 20;

/// How the client behaves; built from `[crawl]` in the config.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub user_agent: String,
    /// Total time for one request, from connecting to the end of the body.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Largest body accepted, in bytes as received (before decoding).
    pub max_body: u64,
}

/// Validators from an earlier fetch, sent as `If-None-Match` / `If-Modified-Since`.
#[derive(Debug, Clone, Default)]
pub struct Conditional {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Why one exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchFailure {
    #[error("timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("body truncated: connection closed before the whole body arrived")]
    Truncated,
    #[error("cannot decode body: {0}")]
    Decode(String),
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl FetchFailure {
    /// Stable short name, used to group failures in the run summary.
    pub fn reason(&self) -> &'static str {
        match self {
            FetchFailure::Timeout => "timeout",
            FetchFailure::Connect(_) => "connect",
            FetchFailure::TooLarge { .. } => "too-large",
            FetchFailure::Truncated => "truncated",
            FetchFailure::Decode(_) => "decode",
            FetchFailure::Protocol(_) => "protocol",
        }
    }

    /// Whether trying again later may succeed: transient network trouble yes, a body that is
    /// too big or cannot be decoded or spoken to no (it would fail the same way).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            FetchFailure::Timeout | FetchFailure::Connect(_) | FetchFailure::Truncated
        )
    }
}

/// One response as received, plus what the WARC writer needs.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The URL that was requested (no fragment).
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    /// Reconstructed request head with the headers we sent, ending in an empty line.
    pub request_head: Vec<u8>,
    /// Status line and headers as received, ending in an empty line. `Transfer-Encoding` is
    /// renamed `X-Archive-Orig-Transfer-Encoding` because the stored body is de-chunked.
    pub response_head: Vec<u8>,
    /// Body as received, content-encoding intact.
    pub body: Bytes,
    /// When the request started.
    pub fetched_at: DateTime<Utc>,
    pub remote_ip: Option<IpAddr>,
    /// From sending the request to the end of the body.
    pub elapsed: Duration,
}

impl RawResponse {
    /// First value of a header, if it is valid visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Location` header resolved against the request URL.
    pub fn location(&self) -> Option<Url> {
        let raw = self.headers.get(header::LOCATION)?;
        // Some servers put raw UTF-8 (Vietnamese paths) in Location; Url::join percent-encodes it.
        let text = std::str::from_utf8(raw.as_bytes()).ok()?.trim();
        if text.is_empty() {
            return None;
        }
        self.url.join(text).ok()
    }

    /// The `Content-Type` header, parameters included.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// The media type without parameters, lower-cased (`text/html`).
    pub fn mime_type(&self) -> Option<String> {
        let ct = self.content_type()?;
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        (!essence.is_empty()).then_some(essence)
    }

    /// Whether this is a page: `text/html` or `application/xhtml+xml`, or no type at all and a
    /// body that starts like HTML.
    pub fn is_html(&self) -> bool {
        match self.mime_type() {
            Some(mime) => mime == "text/html" || mime == "application/xhtml+xml",
            None => {
                let head = decode(&self.body, &self.content_encoding(), SNIFF_BYTES, true)
                    .unwrap_or_default();
                looks_like_html(&head)
            }
        }
    }

    /// The `Content-Encoding` header as one string (several headers joined with commas).
    fn content_encoding(&self) -> String {
        let values: Vec<&str> = self
            .headers
            .get_all(header::CONTENT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        values.join(",")
    }

    /// The body with every content-coding undone (gzip, x-gzip, deflate as zlib or raw, br).
    /// A decoded size above `max` is [`FetchFailure::TooLarge`], so a compression bomb costs at
    /// most `max` bytes of memory.
    pub fn decoded_body(&self, max: u64) -> Result<Vec<u8>, FetchFailure> {
        decode(&self.body, &self.content_encoding(), max, false)
    }

    /// Like [`decoded_body`](Self::decoded_body) but keeps whatever decodes before an error or
    /// the cap; for robots.txt, where a prefix is better than nothing.
    pub(crate) fn decoded_prefix(&self, max: u64) -> Vec<u8> {
        decode(&self.body, &self.content_encoding(), max, true).unwrap_or_default()
    }
}

/// What to do when a body reaches its limit.
#[derive(Debug, Clone, Copy)]
enum BodyLimit {
    /// Fail with `TooLarge` (pages: a partial page must never be archived as if whole).
    Abort(u64),
    /// Keep the first bytes and stop reading (robots.txt).
    Truncate(u64),
}

/// The crawler's HTTP client. Cheap to share behind an `Arc`; connections are pooled.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    user_agent: HeaderValue,
    timeout: Duration,
    max_body: u64,
}

impl Fetcher {
    pub fn new(opts: FetchOptions) -> crate::Result<Self> {
        let user_agent = HeaderValue::from_str(&opts.user_agent).map_err(|e| {
            crate::Error::HttpClient(format!("invalid user agent `{}`: {e}", opts.user_agent))
        })?;
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would change what the archive records (request target, remote address).
            .no_proxy()
            .referer(false)
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout)
            // Small servers close idle keep-alive connections early; do not hold them long.
            .pool_idle_timeout(Duration::from_secs(15))
            // A rate-limited host never has more than two requests in flight, so this only
            // matters for unlimited hosts (a local mirror): there, a smaller pool closed most
            // connections after one request and opened a new one for the next.
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            // Old IIS/SharePoint servers are happier with the usual header spelling, and it
            // makes the reconstructed request head match the wire.
            .http1_title_case_headers()
            .build()
            .map_err(|e| crate::Error::HttpClient(error_chain(&e)))?;
        Ok(Fetcher {
            client,
            user_agent,
            timeout: opts.timeout,
            max_body: opts.max_body,
        })
    }

    /// One GET of `url`, no redirect followed. Any HTTP status is a response; only transport
    /// trouble, an over-long body or a malformed exchange is a failure.
    pub async fn fetch(&self, url: &Url, cond: &Conditional) -> Result<RawResponse, FetchFailure> {
        self.exchange(url, cond, BodyLimit::Abort(self.max_body))
            .await
    }

    /// A GET that keeps only the first `limit` bytes of the body instead of failing.
    pub(crate) async fn fetch_prefix(
        &self,
        url: &Url,
        limit: u64,
    ) -> Result<RawResponse, FetchFailure> {
        self.exchange(url, &Conditional::default(), BodyLimit::Truncate(limit))
            .await
    }

    async fn exchange(
        &self,
        url: &Url,
        cond: &Conditional,
        limit: BodyLimit,
    ) -> Result<RawResponse, FetchFailure> {
        let mut url = url.clone();
        url.set_fragment(None);
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(FetchFailure::Protocol(format!(
                "unsupported scheme `{}`",
                url.scheme()
            )));
        }
        if url.host_str().is_none() {
            return Err(FetchFailure::Protocol("URL has no host".into()));
        }
        let request = self
            .client
            .get(url.clone())
            .headers(self.request_headers(cond))
            .build()
            .map_err(|e| FetchFailure::Protocol(error_chain(&e)))?;
        let request_headers = request.headers().clone();
        let fetched_at = Utc::now();
        let started = Instant::now();
        // reqwest's own total timeout covers the body too; this outer one is a guard in case a
        // body stream stalls somewhere reqwest does not watch.
        let outcome = tokio::time::timeout(self.timeout, async {
            let response = self
                .client
                .execute(request)
                .await
                .map_err(|e| classify(&e, false))?;
            let version = response.version();
            let status = response.status();
            let headers = response.headers().clone();
            let remote_ip = response.remote_addr().map(|a| a.ip());
            let body = read_body(response, status.as_u16(), &headers, limit).await?;
            Ok::<_, FetchFailure>((version, status, headers, remote_ip, body))
        })
        .await;
        let (version, status, headers, remote_ip, body) = match outcome {
            Ok(result) => result?,
            Err(_) => return Err(FetchFailure::Timeout),
        };
        let elapsed = started.elapsed();
        Ok(RawResponse {
            request_head: request_head(&url, &request_headers),
            response_head: response_head(version, status, &headers),
            url,
            status: status.as_u16(),
            headers,
            body,
            fetched_at,
            remote_ip,
            elapsed,
        })
    }

    fn request_headers(&self, cond: &Conditional) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::USER_AGENT, self.user_agent.clone());
        h.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static(ACCEPT_ENCODING),
        );
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static(ACCEPT_LANGUAGE),
        );
        // A stored validator that is not a legal header value is skipped: the fetch then is
        // simply unconditional.
        if let Some(v) = cond
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            h.insert(header::IF_NONE_MATCH, v);
        }
        if let Some(v) = cond
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            h.insert(header::IF_MODIFIED_SINCE, v);
        }
        h
    }
}

/// Reads the body chunk by chunk, stopping as soon as it passes the limit.
async fn read_body(
    mut response: reqwest::Response,
    status: u16,
    headers: &HeaderMap,
    limit: BodyLimit,
) -> Result<Bytes, FetchFailure> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let max = match limit {
        BodyLimit::Abort(max) | BodyLimit::Truncate(max) => max,
    };
    if let (BodyLimit::Abort(max), Some(len)) = (limit, declared) {
        if len > max {
            return Err(FetchFailure::TooLarge { limit: max });
        }
    }
    let mut body =
        BytesMut::with_capacity(declared.unwrap_or(0).min(max).min(MAX_PREALLOC) as usize);
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(classify(&e, true)),
        };
        let room = max.saturating_sub(body.len() as u64);
        if chunk.len() as u64 > room {
            match limit {
                BodyLimit::Abort(max) => return Err(FetchFailure::TooLarge { limit: max }),
                BodyLimit::Truncate(_) => {
                    body.extend_from_slice(&chunk[..room as usize]);
                    // Dropping the response closes the connection instead of draining it.
                    return Ok(body.freeze());
                }
            }
        }
        body.extend_from_slice(&chunk);
    }
    // HTTP/1 enforces Content-Length itself; HTTP/2 does not, so check here too. 1xx, 204 and
    // 304 carry no body whatever Content-Length says.
    let bodiless = status < 200 || status == 204 || status == 304;
    if let Some(len) = declared {
        if !bodiless && (body.len() as u64) < len {
            return Err(FetchFailure::Truncated);
        }
    }
    Ok(body.freeze())
}

/// Maps a reqwest error to a failure; `in_body` says whether the head had already arrived.
fn classify(e: &reqwest::Error, in_body: bool) -> FetchFailure {
    if e.is_timeout() {
        return FetchFailure::Timeout;
    }
    if e.is_connect() {
        return FetchFailure::Connect(error_chain(e));
    }
    if e.is_builder() {
        return FetchFailure::Protocol(error_chain(e));
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_parse() || h.is_parse_status() || h.is_user() {
                return FetchFailure::Protocol(error_chain(e));
            }
            if h.is_incomplete_message() {
                return if in_body {
                    FetchFailure::Truncated
                } else {
                    FetchFailure::Connect(error_chain(e))
                };
            }
        }
        if err.downcast_ref::<std::io::Error>().is_some() {
            return if in_body {
                FetchFailure::Truncated
            } else {
                FetchFailure::Connect(error_chain(e))
            };
        }
        source = err.source();
    }
    if in_body {
        // The head arrived and then the stream broke (reset, bad chunk framing, h2 reset):
        // what we have is not the whole body.
        FetchFailure::Truncated
    } else {
        FetchFailure::Protocol(error_chain(e))
    }
}

/// "outer: cause: root cause", since reqwest's Display shows only the outermost layer.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        let part = err.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = err.source();
    }
    text
}

/// hyper's HTTP/1 header spelling: first letter and each letter after '-' upper-cased.
fn title_case(name: &HeaderName) -> String {
    let mut out = String::with_capacity(name.as_str().len());
    let mut upper = true;
    for c in name.as_str().chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// The request as hyper writes it for HTTP/1.1: our headers in order, then the Host header it
/// adds. HTTP/2 requests are recorded in the same HTTP/1.1 form, as WARC readers expect.
fn request_head(url: &Url, headers: &HeaderMap) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"GET ");
    out.extend_from_slice(url[Position::BeforePath..Position::AfterQuery].as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        push_header(&mut out, &title_case(name), value.as_bytes());
    }
    if !headers.contains_key(header::HOST) {
        let host = url.host_str().unwrap_or_default();
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        push_header(&mut out, "Host", host.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Status line and headers. hyper does not keep the received reason phrase or header case, so
/// the canonical phrase and hyper's title case stand in for them.
fn response_head(
    version: reqwest::Version,
    status: reqwest::StatusCode,
    headers: &HeaderMap,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let version = if version == reqwest::Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    let reason = status.canonical_reason().unwrap_or("");
    out.extend_from_slice(format!("{version} {} {reason}\r\n", status.as_u16()).as_bytes());
    for (name, value) in headers {
        if name == header::TRANSFER_ENCODING {
            push_header(
                &mut out,
                "X-Archive-Orig-Transfer-Encoding",
                value.as_bytes(),
            );
        } else {
            push_header(&mut out, &title_case(name), value.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Undoes the content-codings of a body as received (the `Content-Encoding` header value, None
/// for none): gzip, x-gzip, deflate (zlib or raw), br, several comma-separated. A decoded size
/// above `max` is [`FetchFailure::TooLarge`].
pub fn decode_content(
    body: &[u8],
    content_encoding: Option<&str>,
    max: u64,
) -> Result<Vec<u8>, FetchFailure> {
    decode(body, content_encoding.unwrap_or(""), max, false)
}

/// Undoes the content-codings listed in `encoding` (applied in the order listed, so undone in
/// reverse). Each stage is capped at `max` bytes. `lenient` keeps what decoded before an error
/// or the cap instead of failing.
fn decode(body: &[u8], encoding: &str, max: u64, lenient: bool) -> Result<Vec<u8>, FetchFailure> {
    let codings: Vec<String> = encoding
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        // "none" is not registered but some servers send it to mean identity.
        .filter(|c| !c.is_empty() && c != "identity" && c != "none")
        .collect();
    if codings.is_empty() {
        if body.len() as u64 > max {
            return if lenient {
                Ok(body[..max as usize].to_vec())
            } else {
                Err(FetchFailure::TooLarge { limit: max })
            };
        }
        return Ok(body.to_vec());
    }
    let mut data: Option<Vec<u8>> = None;
    for coding in codings.iter().rev() {
        let input: &[u8] = data.as_deref().unwrap_or(body);
        let output = match coding.as_str() {
            "gzip" | "x-gzip" => {
                read_capped(flate2::read::MultiGzDecoder::new(input), max, lenient)
            }
            "deflate" => {
                // "deflate" is meant to be zlib, but many servers send raw deflate.
                if is_zlib_header(input) {
                    read_capped(flate2::read::ZlibDecoder::new(input), max, lenient)
                } else {
                    read_capped(flate2::read::DeflateDecoder::new(input), max, lenient)
                }
            }
            "br" => read_capped(brotli::Decompressor::new(input, 4096), max, lenient),
            other => Err(FetchFailure::Decode(format!(
                "unsupported content-encoding `{other}`"
            ))),
        }?;
        data = Some(output);
    }
    Ok(data.unwrap_or_default())
}

fn is_zlib_header(input: &[u8]) -> bool {
    match input {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

fn read_capped(reader: impl Read, max: u64, lenient: bool) -> Result<Vec<u8>, FetchFailure> {
    let mut out = Vec::new();
    let result = reader.take(max.saturating_add(1)).read_to_end(&mut out);
    if let Err(e) = result {
        if !lenient {
            return Err(FetchFailure::Decode(e.to_string()));
        }
    }
    if out.len() as u64 > max {
        if !lenient {
            return Err(FetchFailure::TooLarge { limit: max });
        }
        out.truncate(max as usize);
    }
    Ok(out)
}

/// The WHATWG "text/html" sniffing patterns: after leading whitespace (and a BOM), one of these
/// tags followed by a space or '>'.
fn looks_like_html(data: &[u8]) -> bool {
    const TAGS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<!--",
    ];
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let start = data
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'))
        .unwrap_or(data.len());
    let data = &data[start..];
    TAGS.iter().any(|tag| {
        data.len() > tag.len()
            && data[..tag.len()].eq_ignore_ascii_case(tag)
            && (tag == b"<!--" || matches!(data[tag.len()], b' ' | b'>' | b'\t' | b'\n' | b'\r'))
    })
}

/// `Retry-After` as a delay from `now`: delta-seconds or an HTTP-date (IMF-fixdate, RFC 850 or
/// asctime). A date in the past means "now".
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // A number too big for u64 is still "a very long time"; the caller caps it.
        return Some(
            value
                .parse::<u64>()
                .map(Duration::from_secs)
                .unwrap_or(Duration::MAX),
        );
    }
    let when = parse_http_date(value)?;
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc2822(value) {
        return Some(t.with_timezone(&Utc));
    }
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; asctime: "Sun Nov  6 08:49:37 1994".
    let naive = chrono::NaiveDateTime::parse_from_str(value, "%A, %d-%b-%y %H:%M:%S GMT")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%a %b %e %H:%M:%S %Y"))
        .ok()?;
    Some(naive.and_utc())
}

/// Delay before retry number `attempt` (1 for the first retry): `base * 2^(attempt-1)`, capped
/// at [`MAX_BACKOFF`], with "equal jitter" (a random point in the upper half, so delays never
/// shrink from one attempt to the next), and never shorter than the server's `Retry-After`.
pub fn backoff_delay(attempt: u32, base: Duration, retry_after: Option<Duration>) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let full = base
        .checked_mul(1u32 << exponent)
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF);
    let half = full / 2;
    let jitter = if half.is_zero() {
        Duration::ZERO
    } else {
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::random_range(0..=nanos))
    };
    let delay = half + jitter;
    match retry_after {
        Some(ra) => delay.max(ra),
        None => delay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{HeaderMap as AxHeaders, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Router;
    use std::io::Write;
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const PAGE: &str = "<!DOCTYPE html><html><head><title>Tin tức</title></head>\
        <body><p>Sáng ngày 14/3, Ban Thường vụ Tỉnh ủy Hải Dương đã họp phiên thường kỳ.</p></body></html>";

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn brotli_compress(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(data).unwrap();
        }
        out
    }

    fn fetcher(timeout: Duration, max_body: u64) -> Fetcher {
        Fetcher::new(FetchOptions {
            user_agent: "luutru-test/0.1".into(),
            timeout,
            connect_timeout: Duration::from_secs(2),
            max_body,
        })
        .unwrap()
    }

    async fn serve(app: Router) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        addr
    }

    fn url(addr: SocketAddr, path: &str) -> Url {
        Url::parse(&format!("http://{addr}{path}")).unwrap()
    }

    fn test_app() -> Router {
        Router::new()
            .route(
                "/gzip",
                get(|| async {
                    (
                        [
                            ("content-type", "text/html; charset=utf-8"),
                            ("content-encoding", "gzip"),
                        ],
                        gzip(PAGE.as_bytes()),
                    )
                }),
            )
            .route(
                "/br",
                get(|| async {
                    (
                        [("content-type", "text/html"), ("content-encoding", "br")],
                        brotli_compress(PAGE.as_bytes()),
                    )
                }),
            )
            .route(
                "/echo",
                get(|headers: AxHeaders| async move {
                    let mut text = String::new();
                    for (k, v) in &headers {
                        text.push_str(&format!("{}: {}\n", k, v.to_str().unwrap_or("?")));
                    }
                    ([("content-type", "text/plain")], text)
                }),
            )
            .route(
                "/chunked",
                get(|| async {
                    let parts = vec![
                        Ok::<_, std::io::Error>(Bytes::from_static(b"<html><body>a")),
                        Ok(Bytes::from_static(b"b</body></html>")),
                    ];
                    Response::builder()
                        .header("content-type", "text/html")
                        .header("x-custom", "một")
                        .body(Body::from_stream(futures_util::stream::iter(parts)))
                        .unwrap()
                }),
            )
            .route(
                "/slow-big",
                get(|| async {
                    // 50 MB at 64 KiB every 10 ms: reading it all would take 8 s.
                    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                    let stream = futures_util::stream::unfold(0u32, move |n| {
                        let chunk = chunk.clone();
                        async move {
                            if n >= 800 {
                                return None;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            Some((Ok::<_, std::io::Error>(chunk), n + 1))
                        }
                    });
                    Response::builder()
                        .header("content-type", "text/html")
                        .body(Body::from_stream(stream))
                        .unwrap()
                }),
            )
            .route(
                "/declared-big",
                get(|| async { ([("content-type", "text/html")], vec![b'y'; 300_000]) }),
            )
            .route(
                "/moved",
                get(|| async {
                    (
                        StatusCode::MOVED_PERMANENTLY,
                        [("location", "../news/Pages/new.aspx?ItemID=7")],
                        "",
                    )
                        .into_response()
                }),
            )
            .route(
                "/not-modified",
                get(|| async { StatusCode::NOT_MODIFIED.into_response() }),
            )
    }

    #[tokio::test]
    async fn gzip_body_kept_raw_and_decoded() {
        let addr = serve(test_app()).await;
        let r = fetcher(Duration::from_secs(5), 1 << 20)
            .fetch(&url(addr, "/gzip"), &Conditional::default())
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(&r.body[..], &gzip(PAGE.as_bytes())[..]);
        assert_ne!(&r.body[..], PAGE.as_bytes());
        assert_eq!(r.decoded_body(1 << 20).unwrap(), PAGE.as_bytes());
        assert!(r.is_html());
        assert_eq!(r.remote_ip, Some("127.0.0.1".parse().unwrap()));
        let head = String::from_utf8(r.response_head.clone()).unwrap();
        assert!(head.contains("\r\nContent-Encoding: gzip\r\n"), "{head}");
        assert!(
            head.contains(&format!("\r\nContent-Length: {}\r\n", r.body.len())),
            "{head}"
        );
    }

    #[tokio::test]
    async fn brotli_body_kept_raw_and_decoded() {
        let addr = serve(test_app()).await;
        let r = fetcher(Duration::from_secs(5), 1 << 20)
            .fetch(&url(addr, "/br"), &Conditional::default())
            .await
            .unwrap();
        assert_eq!(&r.body[..], &brotli_compress(PAGE.as_bytes())[..]);
        assert_eq!(r.decoded_body(1 << 20).unwrap(), PAGE.as_bytes());
    }

    #[tokio::test]
    async fn sends_accept_encoding_and_conditional_headers() {
        let addr = serve(test_app()).await;
        let cond = Conditional {
            etag: Some("\"abc-123\"".into()),
            last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
        };
        let r = fetcher(Duration::from_secs(5), 1 << 20)
            .fetch(&url(addr, "/echo?b=2&a=1#frag"), &cond)
            .await
            .unwrap();
        let seen = String::from_utf8(r.decoded_body(1 << 20).unwrap()).unwrap();
        assert!(seen.contains("if-none-match: \"abc-123\"\n"), "{seen}");
        assert!(
            seen.contains("if-modified-since: Wed, 21 Oct 2015 07:28:00 GMT\n"),
            "{seen}"
        );
        assert!(
            seen.contains("accept-encoding: gzip, deflate, br\n"),
            "{seen}"
        );
        assert!(seen.contains("user-agent: luutru-test/0.1\n"), "{seen}");
        assert!(seen.contains(&format!("host: {addr}\n")), "{seen}");

        // The reconstructed head lists exactly what the server received.
        let head = String::from_utf8(r.request_head.clone()).unwrap();
        assert!(head.starts_with("GET /echo?b=2&a=1 HTTP/1.1\r\n"), "{head}");
        assert!(head.ends_with("\r\n\r\n"));
        let sent: Vec<String> = head
            .trim_end()
            .lines()
            .skip(1)
            .map(|l| l.to_ascii_lowercase())
            .collect();
        let received: Vec<String> = seen.lines().map(|l| l.to_ascii_lowercase()).collect();
        let mut a = sent.clone();
        let mut b = received.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert!(
            head.contains("\r\nIf-None-Match: \"abc-123\"\r\n"),
            "{head}"
        );
        assert_eq!(r.url.fragment(), None);
    }

    #[tokio::test]
    async fn response_head_well_formed_and_transfer_encoding_renamed() {
        let addr = serve(test_app()).await;
        let r = fetcher(Duration::from_secs(5), 1 << 20)
            .fetch(&url(addr, "/chunked"), &Conditional::default())
            .await
            .unwrap();
        assert_eq!(&r.body[..], b"<html><body>ab</body></html>");
        let head = r.response_head.clone();
        assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(head.ends_with(b"\r\n\r\n"));
        assert_eq!(head.windows(4).filter(|w| w == b"\r\n\r\n").count(), 1);
        let text = String::from_utf8(head).unwrap();
        assert!(
            text.contains("\r\nX-Archive-Orig-Transfer-Encoding: chunked\r\n"),
            "{text}"
        );
        assert!(!text.contains("\r\nTransfer-Encoding:"), "{text}");
        assert!(text.contains("\r\nX-Custom: một\r\n"), "{text}");
        for line in text.trim_end().lines().skip(1) {
            let (name, _) = line.split_once(": ").expect("header line");
            assert!(
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            );
        }
    }

    #[tokio::test]
    async fn redirect_not_followed_and_location_resolved() {
        let addr = serve(test_app()).await;
        let f = fetcher(Duration::from_secs(5), 1 << 20);
        let r = f
            .fetch(&url(addr, "/moved"), &Conditional::default())
            .await
            .unwrap();
        assert_eq!(r.status, 301);
        assert_eq!(
            r.location(),
            Some(url(addr, "/news/Pages/new.aspx?ItemID=7"))
        );
        assert!(r
            .response_head
            .starts_with(b"HTTP/1.1 301 Moved Permanently\r\n"));
        let r = f
            .fetch(&url(addr, "/not-modified"), &Conditional::default())
            .await
            .unwrap();
        assert_eq!(r.status, 304);
        assert!(r.body.is_empty());
    }

    #[tokio::test]
    async fn streamed_body_over_max_aborts_quickly() {
        let addr = serve(test_app()).await;
        let started = Instant::now();
        let err = fetcher(Duration::from_secs(30), 256 * 1024)
            .fetch(&url(addr, "/slow-big"), &Conditional::default())
            .await
            .unwrap_err();
        assert_eq!(err, FetchFailure::TooLarge { limit: 256 * 1024 });
        assert!(!err.is_retryable());
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn declared_length_over_max_is_too_large() {
        let addr = serve(test_app()).await;
        let err = fetcher(Duration::from_secs(5), 100_000)
            .fetch(&url(addr, "/declared-big"), &Conditional::default())
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "too-large");
    }

    /// A raw server: answers every connection with `reply` (after reading the request head),
    /// then closes, or (`hold`) keeps the socket open for a minute without sending more.
    async fn raw_server(reply: &'static [u8], hold: bool) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = sock.write_all(reply).await;
                    if hold {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                    } else {
                        let _ = sock.shutdown().await;
                    }
                });
            }
        });
        addr
    }

    const SHORT_BODY: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n0123456789";

    #[tokio::test]
    async fn stalled_body_times_out() {
        let addr = raw_server(SHORT_BODY, true).await;
        let started = Instant::now();
        let err = fetcher(Duration::from_millis(400), 1 << 20)
            .fetch(&url(addr, "/"), &Conditional::default())
            .await
            .unwrap_err();
        assert_eq!(err, FetchFailure::Timeout);
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn short_body_is_truncated() {
        let addr = raw_server(SHORT_BODY, false).await;
        let err = fetcher(Duration::from_secs(5), 1 << 20)
            .fetch(&url(addr, "/"), &Conditional::default())
            .await
            .unwrap_err();
        assert_eq!(err, FetchFailure::Truncated);
        assert!(err.is_retryable());
        assert_eq!(err.reason(), "truncated");
    }

    #[tokio::test]
    async fn garbage_response_is_protocol_error() {
        let addr = raw_server(b"SSH-2.0-OpenSSH_9.6\r\nnot http at all\r\n\r\n", false).await;
        let err = fetcher(Duration::from_secs(5), 1 << 20)
            .fetch(&url(addr, "/"), &Conditional::default())
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "protocol", "{err:?}");
        assert!(!err.is_retryable());
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        let addr = raw_server(b"", true).await;
        let started = Instant::now();
        let err = fetcher(Duration::from_millis(400), 1 << 20)
            .fetch(&url(addr, "/"), &Conditional::default())
            .await
            .unwrap_err();
        assert_eq!(err, FetchFailure::Timeout);
        assert!(err.is_retryable());
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(350) && took < Duration::from_secs(3),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn refused_connection_is_connect_failure() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = fetcher(Duration::from_secs(5), 1 << 20)
            .fetch(&url(addr, "/"), &Conditional::default())
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "connect", "{err:?}");
        assert!(err.is_retryable());
    }

    #[tokio::test]
    async fn non_http_scheme_is_refused_without_network() {
        let err = fetcher(Duration::from_secs(5), 1 << 20)
            .fetch(
                &Url::parse("ftp://127.0.0.1/x").unwrap(),
                &Conditional::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "protocol");
    }

    fn response(body: Vec<u8>, headers: &[(&'static str, &str)]) -> RawResponse {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        RawResponse {
            url: Url::parse("http://127.0.0.1/a/b.html").unwrap(),
            status: 200,
            headers: map,
            request_head: Vec::new(),
            response_head: Vec::new(),
            body: Bytes::from(body),
            fetched_at: Utc::now(),
            remote_ip: None,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn deflate_zlib_and_raw_both_decode() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(PAGE.as_bytes()).unwrap();
        let zlib = z.finish().unwrap();
        let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        d.write_all(PAGE.as_bytes()).unwrap();
        let raw = d.finish().unwrap();
        for body in [zlib, raw] {
            let r = response(body, &[("content-encoding", "deflate")]);
            assert_eq!(r.decoded_body(1 << 20).unwrap(), PAGE.as_bytes());
        }
    }

    #[test]
    fn stacked_and_identity_encodings() {
        let r = response(
            brotli_compress(&gzip(PAGE.as_bytes())),
            &[("content-encoding", "gzip, br")],
        );
        assert_eq!(r.decoded_body(1 << 20).unwrap(), PAGE.as_bytes());
        let r = response(
            PAGE.as_bytes().to_vec(),
            &[("content-encoding", "identity")],
        );
        assert_eq!(r.decoded_body(1 << 20).unwrap(), PAGE.as_bytes());
        let r = response(
            PAGE.as_bytes().to_vec(),
            &[("content-encoding", "compress")],
        );
        assert_eq!(r.decoded_body(1 << 20).unwrap_err().reason(), "decode");
        let r = response(b"not gzip".to_vec(), &[("content-encoding", "gzip")]);
        assert_eq!(r.decoded_body(1 << 20).unwrap_err().reason(), "decode");
    }

    #[test]
    fn compression_bomb_is_too_large() {
        let bomb = gzip(&vec![0u8; 20 << 20]);
        assert!(bomb.len() < 100_000);
        let r = response(bomb.clone(), &[("content-encoding", "gzip")]);
        assert_eq!(
            r.decoded_body(1 << 20).unwrap_err(),
            FetchFailure::TooLarge { limit: 1 << 20 }
        );
        let r = response(
            brotli_compress(&vec![0u8; 20 << 20]),
            &[("content-encoding", "br")],
        );
        assert_eq!(r.decoded_body(1 << 20).unwrap_err().reason(), "too-large");
        assert_eq!(r.decoded_prefix(1000).len(), 1000);
    }

    #[test]
    fn html_detection() {
        assert!(response(vec![], &[("content-type", "text/html; charset=utf-8")]).is_html());
        assert!(response(vec![], &[("content-type", "Application/XHTML+xml")]).is_html());
        assert!(!response(PAGE.into(), &[("content-type", "application/pdf")]).is_html());
        assert!(response(PAGE.into(), &[]).is_html());
        assert!(response(b"\xef\xbb\xbf\r\n  <HTML lang=vi>".to_vec(), &[]).is_html());
        assert!(response(gzip(PAGE.as_bytes()), &[("content-encoding", "gzip")]).is_html());
        assert!(!response(b"%PDF-1.7 <html>".to_vec(), &[]).is_html());
        assert!(!response(b"<abbr>".to_vec(), &[]).is_html());
        assert_eq!(
            response(vec![], &[("content-type", "text/HTML ; charset=x")])
                .mime_type()
                .as_deref(),
            Some("text/html")
        );
    }

    #[test]
    fn location_handles_utf8_and_empty() {
        let mut r = response(vec![], &[]);
        r.headers.insert(
            header::LOCATION,
            HeaderValue::from_bytes("/tin-tức?id=1".as_bytes()).unwrap(),
        );
        assert_eq!(
            r.location().unwrap().as_str(),
            "http://127.0.0.1/tin-t%E1%BB%A9c?id=1"
        );
        r.headers
            .insert(header::LOCATION, HeaderValue::from_static(""));
        assert_eq!(r.location(), None);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed Oct 21 07:28:05 2015", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::MAX)
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_honours_retry_after() {
        let base = Duration::from_millis(500);
        for _ in 0..50 {
            let mut prev = Duration::ZERO;
            for attempt in 1..=6 {
                let d = backoff_delay(attempt, base, None);
                let full = base * (1 << (attempt - 1));
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
                assert!(d >= prev);
                prev = d;
            }
        }
        assert!(backoff_delay(40, base, None) <= MAX_BACKOFF);
        assert_eq!(
            backoff_delay(1, base, Some(Duration::from_secs(10))),
            Duration::from_secs(10)
        );
        assert!(backoff_delay(3, base, Some(Duration::from_millis(1))) >= Duration::from_secs(1));
        // Jitter: delays of one attempt are not all the same.
        let samples: std::collections::HashSet<Duration> =
            (0..20).map(|_| backoff_delay(4, base, None)).collect();
        assert!(samples.len() > 1);
    }

    #[test]
    fn failure_reasons() {
        let all = [
            (FetchFailure::Timeout, "timeout", true),
            (FetchFailure::Connect("x".into()), "connect", true),
            (FetchFailure::TooLarge { limit: 1 }, "too-large", false),
            (FetchFailure::Truncated, "truncated", true),
            (FetchFailure::Decode("x".into()), "decode", false),
            (FetchFailure::Protocol("x".into()), "protocol", false),
        ];
        for (f, reason, retry) in all {
            assert_eq!(f.reason(), reason);
            assert_eq!(f.is_retryable(), retry);
        }
    }
}
