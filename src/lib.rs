//! luutru ("lưu trữ", archive): an archival crawler for Vietnamese provincial news portals.
//!
//! Data path, one module per step:
//! - [`config`]: `crawl.toml` read raw (serde + toml), validated once into [`config::Config`].
//! - [`canon`]: canonical URLs (tracking parameters and session ids removed).
//! - [`crawl`]: the frontier (persisted in the store) and the scheduler of one archival run.
//! - [`fetch`]: one HTTP exchange, raw bytes kept for the archive.
//! - [`politeness`]: per-host rate limiters and robots.txt.
//! - [`extract`]: selectors, fallbacks, Vietnamese dates, text normalisation, encodings.
//! - [`dedup`]: content hashes over the normalised fields.
//! - [`store`]: WARC files for the raw bytes, sled for records, versions and indexes.
//! - [`query`]: filters, time travel and output formats for researchers.
//! - [`search`]: the tantivy full-text index (Vietnamese-folded) derived from the store.
//! - [`neardup`]: MinHash near-duplicates across sites; [`diff`]: word-level diffs.
//! - [`export`]: WARC / JSONL / CSV exports that stream.
//! - [`rebuild`]: the database rebuilt from the WARC files, re-extraction, verification.
//! - [`serve`]: the read-only web UI and JSON API; [`cli`]: the command line.

pub mod canon;
pub mod cli;
pub mod config;
pub mod crawl;
pub mod dedup;
pub mod diff;
pub mod error;
pub mod export;
pub mod extract;
pub mod fetch;
pub mod neardup;
pub mod politeness;
pub mod query;
pub mod rebuild;
pub mod search;
pub mod serve;
pub mod store;

pub use error::{Error, Result};
