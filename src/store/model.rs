//! The records kept in sled, and the keys they live under.
//!
//! Every record is JSON (serde): tolerant of added fields, and small next to the raw pages,
//! which live in the WARC files only. Long records (the versions, which hold article text,
//! and, once the store has trained its zstd dictionary, article records and payload
//! pointers) are stored as a zstd frame of that JSON; `store::codec` says when and how.
//! Parts:
//! [`ArticleRecord`] (with its [`Touch`] overlay), [`VersionRecord`], [`FrontierEntry`],
//! [`RunState`], and the key
//! helpers [`version_key`] / [`content_key`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::PageKind;
use crate::extract::Extracted;
use crate::store::warc::WarcPtr;

/// Bumped whenever a record's meaning changes; a store with a newer version is refused, an
/// older one upgraded when opened. Version 2: records may be compressed with a zstd
/// dictionary kept in `meta` (see `store::codec`), which version 1 cannot read; version 1
/// stores read as they are. Version 3: a queued URL's `queue` key is in its frontier record
/// ([`FrontierEntry::queued`]) instead of a `queue_index` tree, which version 2 would miss;
/// older stores have their `queue_index` folded into the frontier when opened.
pub const SCHEMA_VERSION: u32 = 3;
/// The oldest version this luutru opens (and upgrades).
pub const OLDEST_SCHEMA_VERSION: u32 = 1;

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

/// What an unchanged fetch changes in an [`ArticleRecord`], kept apart from it in the
/// `touched` tree: 18 bytes instead of rewriting a record of several hundred. A recrawl of
/// unchanged articles (the usual recrawl) then adds little to sled's log. Any write of the
/// whole record folds it in and removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    pub last_seen: DateTime<Utc>,
    pub fetches: u64,
    pub last_status: u16,
}

impl Touch {
    const LEN: usize = 18;

    /// The overlay for `a`, if its time fits the encoding (nanoseconds, years 1678–2261).
    pub fn of(a: &ArticleRecord) -> Option<Touch> {
        a.last_seen.timestamp_nanos_opt()?;
        Some(Touch {
            last_seen: a.last_seen,
            fetches: a.fetches,
            last_status: a.last_status,
        })
    }

    /// Big-endian nanoseconds since the epoch, fetches, HTTP status.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0; Self::LEN];
        let nanos = self.last_seen.timestamp_nanos_opt().unwrap_or(i64::MAX);
        out[..8].copy_from_slice(&nanos.to_be_bytes());
        out[8..16].copy_from_slice(&self.fetches.to_be_bytes());
        out[16..].copy_from_slice(&self.last_status.to_be_bytes());
        out
    }

    pub fn decode(url: &str, bytes: &[u8]) -> crate::Result<Touch> {
        let bytes =
            <[u8; Self::LEN]>::try_from(bytes).map_err(|_| crate::Error::CorruptRecord {
                key: url.to_string(),
                message: format!(
                    "last-fetch entry is {} bytes, expected {}",
                    bytes.len(),
                    Self::LEN
                ),
            })?;
        let nanos = i64::from_be_bytes(bytes[..8].try_into().unwrap_or_default());
        Ok(Touch {
            last_seen: DateTime::from_timestamp_nanos(nanos),
            fetches: u64::from_be_bytes(bytes[8..16].try_into().unwrap_or_default()),
            last_status: u16::from_be_bytes(bytes[16..].try_into().unwrap_or_default()),
        })
    }

    pub fn apply(&self, a: &mut ArticleRecord) {
        a.last_seen = self.last_seen;
        a.fetches = self.fetches;
        a.last_status = self.last_status;
    }
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
    /// The URL to fetch (canonical form). It is the record's key, so the stored value
    /// leaves it out (every queued or seen URL is rewritten at least twice a run).
    #[serde(default, skip_serializing)]
    pub url: String,
    pub site: String,
    pub depth: u32,
    pub kind: PageKind,
    pub state: FrontierState,
    /// The run that last queued or finished it.
    pub run: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Its key in the `queue` tree while it is queued (`None` once fetched). Kept here
    /// rather than in a reverse index tree: the frontier record is rewritten when the URL
    /// is queued and when it is fetched anyway, and every extra sled write costs a first
    /// crawl about 800 bytes of `db/` (benches/README.md, "Crawl").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued: Option<u64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
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
