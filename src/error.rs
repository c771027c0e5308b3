//! The library's one error type.
//!
//! Variants are named for the action that failed and carry what a user needs to find the
//! cause (file, line, site, field, URL). The binary wraps them in `anyhow` for display; the
//! library never panics on data that came from the network or from a config file.

use std::path::PathBuf;

/// Everything that can go wrong in luutru.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read config {path}: {source}")]
    ReadConfig {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    ParseConfig {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    ConfigErrors(Vec<Error>),
    #[error("{path}: {message}")]
    InvalidConfig { path: PathBuf, message: String },
    #[error("{0}")]
    InvalidRegex(Box<PatternError>),
    #[error("{0}")]
    InvalidSelector(Box<PatternError>),
    #[error("invalid URL `{url}`: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("cannot fetch {url}: {message}")]
    FetchPage { url: String, message: String },
    #[error("cannot build HTTP client: {0}")]
    HttpClient(String),
    #[error("store {path} is in use by {holder}; wait for it to finish (read commands cannot open the store while a crawl holds it)")]
    StoreLocked { path: PathBuf, holder: String },
    #[error("cannot open store {path}: {message}")]
    OpenStore { path: PathBuf, message: String },
    #[error("store database error: {0}")]
    Db(#[from] sled::Error),
    #[error("corrupt store record {key}: {message}")]
    CorruptRecord { key: String, message: String },
    #[error("cannot write WARC file {path}: {source}")]
    WriteWarc {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read WARC record {path} at offset {offset}: {message}")]
    ReadWarc {
        path: PathBuf,
        offset: u64,
        message: String,
    },
    #[error("nothing to diff for {url}: {message}")]
    NothingToDiff { url: String, message: String },
    #[error("no run with id {0} (see `luutru runs`)")]
    RunNotFound(u64),
    #[error("no article stored under {0}")]
    ArticleNotFound(String),
    #[error("article {url} has no version {version}")]
    VersionNotFound { url: String, version: u32 },
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write output: {0}")]
    WriteOutput(#[source] std::io::Error),
    #[error("invalid date `{input}`: expected YYYY-MM-DD, YYYY-MM or YYYY")]
    InvalidDateFilter { input: String },
    #[error("search index {path}: {message}")]
    SearchIndex { path: PathBuf, message: String },
    #[error("cannot serve on {addr}: {message}")]
    Serve { addr: String, message: String },
}

/// A regex or CSS selector in the config that does not compile. Boxed inside [`Error`]
/// so every `Result` stays small.
#[derive(Debug)]
pub struct PatternError {
    pub path: PathBuf,
    pub site: String,
    /// `allow`, `deny`, `article`, `follow`, or `selectors.<field>`.
    pub field: String,
    pub text: String,
    pub message: String,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.field.starts_with("selectors.") {
            "CSS selector"
        } else {
            "regex"
        };
        write!(
            f,
            "{}: site `{}`, field `{}`: invalid {kind} `{}`: {}",
            self.path.display(),
            self.site,
            self.field,
            self.text,
            self.message
        )
    }
}

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
