//! The records kept in sled, and the keys they live under.
//!
//! Every record is JSON (serde): tolerant of added fields, and small next to the raw pages,
//! which live in the WARC files only. Records longer than
//! [`COMPRESS_RECORDS_OVER`](crate::store::COMPRESS_RECORDS_OVER) bytes (the versions, which
//! hold article text) are stored as a zstd frame of that JSON (`zstd -d` reads a dumped
//! value). Parts:
//! [`ArticleRecord`], [`VersionRecord`], [`FrontierEntry`], [`RunState`], and the key
//! helpers [`version_key`] / [`content_key`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::PageKind;
use crate::extract::Extracted;
use crate::store::warc::WarcPtr;

/// Bumped whenever a record's meaning changes; a store with another version is refused.
pub const SCHEMA_VERSION: u32 = 1;

/// Whether the article still answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatus {
    Live,
    /// 404/410 (or a redirect to the home page or a listing) on a revisit.
    Gone,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Live => "live",
            ArticleStatus::Gone => "gone",
        }
    }
}

/// One article, keyed by its canonical URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleRecord {
    pub url: String,
    pub site: String,
    /// Every other canonical spelling under which this article was seen.
    #[serde(default)]
    pub aliases: Vec<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub status: ArticleStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_since: Option<DateTime<Utc>>,
    /// Number of versions (the latest is `versions`).
    pub versions: u32,
    pub content_hash: String,
    /// Times fetched (including unchanged fetches).
    #[serde(default)]
    pub fetches: u64,
    #[serde(default)]
    pub last_status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// One version of an article: a change of its extracted content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub number: u32,
    pub fetched_at: DateTime<Utc>,
    /// The URL actually fetched (any alias).
    pub fetched_url: String,
    pub http_status: u16,
    pub content_hash: String,
    pub fields: Extracted,
    /// Where the raw response is.
    pub warc: WarcPtr,
    /// Fields that differ from the previous version (empty for the first).
    #[serde(default)]
    pub changed: Vec<String>,
    #[serde(default)]
    pub reextracted: bool,
}

/// Frontier state of one canonical URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrontierState {
    Queued,
    Done,
    Failed,
}

/// A URL the crawl knows about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontierEntry {
    /// The URL to fetch (canonical form).
    pub url: String,
    pub site: String,
    pub depth: u32,
    pub kind: PageKind,
    pub state: FrontierState,
    /// The run that last queued or finished it.
    pub run: u64,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The run in progress (present in `meta` until the run completes, so a new process knows
/// to resume it rather than start over).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub id: u64,
    pub started: DateTime<Utc>,
    /// Sites the run covers (empty = all).
    #[serde(default)]
    pub sites: Vec<String>,
}

/// `versions` tree key: canonical URL, NUL, big-endian version number (sorts oldest first).
pub fn version_key(url: &str, number: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(url.len() + 5);
    k.extend_from_slice(url.as_bytes());
    k.push(0);
    k.extend_from_slice(&number.to_be_bytes());
    k
}

/// Prefix of all version keys of `url`.
pub fn version_prefix(url: &str) -> Vec<u8> {
    let mut k = url.as_bytes().to_vec();
    k.push(0);
    k
}

/// `content` tree key: site, NUL, content hash. Finds the same article under another URL.
pub fn content_key(site: &str, hash: &str) -> Vec<u8> {
    let mut k = site.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(hash.as_bytes());
    k
}
