//! `crawl.toml`: read raw, validated once into a typed [`Config`].
//!
//! Parts: the raw serde structs ([`RawConfig`], [`RawCrawl`], [`RawSite`],
//! [`RawSelectors`]) that mirror the file exactly and reject unknown keys; [`Config::load`]
//! which reads, parses (errors carry line and column) and validates; the typed [`Config`],
//! [`CrawlSettings`] and [`Site`] holding compiled regexes, selectors, URLs, durations and
//! sizes; and the `DEFAULT_*` constants shared with the CLI.
//!
//! Validation collects every problem it finds (each naming the site, the field and the
//! offending text) so a user fixes a config in one pass, and it runs before anything
//! touches the store.

use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use url::Url;

use crate::error::PatternError;
use crate::extract::{SelectorSpec, SiteSelectors};
use crate::{Error, Result};

pub const DEFAULT_CONFIG_PATH: &str = "crawl.toml";
pub const DEFAULT_STORE: &str = "store";
pub const DEFAULT_USER_AGENT: &str = "luutru/0.1 (+https://example.org/luutru)";
pub const DEFAULT_CONCURRENCY: usize = 16;
pub const DEFAULT_RATE: f64 = 1.0;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_BODY: u64 = 8 * 1024 * 1024;
pub const DEFAULT_RESPECT_ROBOTS: bool = true;
pub const DEFAULT_REVISIT: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_MAX_PAGES: u64 = 0;
pub const DEFAULT_MAX_DEPTH: u32 = 5;
pub const DEFAULT_MAX_RETRIES: u32 = 3;
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(600);
pub const DEFAULT_MAX_QUERY_VARIANTS: u32 = 200;
/// A URL longer than this is never fetched (trap guard).
pub const MAX_URL_LEN: usize = 2048;

/// `[crawl]` exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCrawl {
    pub store: Option<String>,
    pub user_agent: Option<String>,
    pub concurrency: Option<i64>,
    pub rate: Option<f64>,
    pub timeout: Option<String>,
    pub max_body: Option<String>,
    pub respect_robots: Option<bool>,
    pub revisit: Option<String>,
    pub max_pages: Option<i64>,
    pub max_retries: Option<i64>,
    pub max_retry_after: Option<String>,
    pub max_query_variants: Option<i64>,
}

/// `[site.selectors]` exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSelectors {
    pub title: Option<String>,
    pub date: Option<String>,
    pub body: Option<String>,
    pub author: Option<String>,
    pub summary: Option<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// One `[[site]]` exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    pub name: String,
    #[serde(default)]
    pub seeds: Vec<String>,
    pub seed_file: Option<String>,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
    #[serde(default)]
    pub article: Vec<String>,
    #[serde(default)]
    pub follow: Vec<String>,
    pub rate: Option<f64>,
    pub max_depth: Option<i64>,
    #[serde(default)]
    pub selectors: RawSelectors,
}

/// The whole file exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub crawl: RawCrawl,
    #[serde(default)]
    pub site: Vec<RawSite>,
}

/// Run-wide settings from `[crawl]`, defaults filled in.
#[derive(Debug, Clone)]
pub struct CrawlSettings {
    /// Store directory, resolved against the config file's directory.
    pub store: PathBuf,
    pub user_agent: String,
    pub concurrency: usize,
    /// Requests per second per host; 0 = no limit.
    pub rate: f64,
    pub timeout: Duration,
    pub max_body: u64,
    pub respect_robots: bool,
    pub revisit: Duration,
    /// Pages per run; 0 = no limit.
    pub max_pages: u64,
    pub max_retries: u32,
    pub max_retry_after: Duration,
    pub max_query_variants: u32,
}

impl Default for CrawlSettings {
    fn default() -> Self {
        CrawlSettings {
            store: PathBuf::from(DEFAULT_STORE),
            user_agent: DEFAULT_USER_AGENT.into(),
            concurrency: DEFAULT_CONCURRENCY,
            rate: DEFAULT_RATE,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            respect_robots: DEFAULT_RESPECT_ROBOTS,
            revisit: DEFAULT_REVISIT,
            max_pages: DEFAULT_MAX_PAGES,
            max_retries: DEFAULT_MAX_RETRIES,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            max_query_variants: DEFAULT_MAX_QUERY_VARIANTS,
        }
    }
}

/// What a URL is to a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    /// Extracted and stored.
    Article,
    /// Fetched for its links only.
    Listing,
    /// A seed that matches neither pattern: fetched for its links.
    Seed,
}

/// One validated `[[site]]`.
#[derive(Debug, Clone)]
pub struct Site {
    pub name: String,
    pub seeds: Vec<Url>,
    pub allow: Vec<Regex>,
    pub deny: Vec<Regex>,
    pub article: Vec<Regex>,
    pub follow: Vec<Regex>,
    pub rate: f64,
    pub max_depth: u32,
    /// Shared: every page of the site borrows the same compiled selectors.
    pub selectors: std::sync::Arc<SiteSelectors>,
}

impl Site {
    /// Allowed by `allow`, not denied by `deny`, http(s), not absurdly long.
    pub fn in_scope(&self, url: &Url) -> bool {
        let s = url.as_str();
        matches!(url.scheme(), "http" | "https")
            && s.len() <= MAX_URL_LEN
            && self.allow.iter().any(|r| r.is_match(s))
            && !self.deny.iter().any(|r| r.is_match(s))
    }

    /// Article, listing, or nothing (not worth fetching). Article patterns win.
    pub fn classify(&self, url: &Url) -> Option<PageKind> {
        let s = url.as_str();
        if self.article.iter().any(|r| r.is_match(s)) {
            Some(PageKind::Article)
        } else if self.follow.iter().any(|r| r.is_match(s)) {
            Some(PageKind::Listing)
        } else {
            None
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from (for messages).
    pub path: PathBuf,
    pub crawl: CrawlSettings,
    pub sites: Vec<Site>,
    /// blake3 of the file's bytes: recorded with each run.
    pub digest: String,
}

impl Config {
    /// Reads, parses and validates `path`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_str_at(&text, path, &base)
    }

    /// Parses and validates config text; `path` is used in messages, `base_dir` resolves
    /// relative paths (store, seed files).
    pub fn from_str_at(text: &str, path: &Path, base_dir: &Path) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| parse_error(text, path, &e))?;
        let mut cfg = validate(raw, path, base_dir)?;
        cfg.digest = blake3::hash(text.as_bytes()).to_hex().to_string();
        Ok(cfg)
    }

    /// The site named `name`.
    pub fn site(&self, name: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.name == name)
    }

    /// The first site whose scope holds `url`.
    pub fn site_for(&self, url: &Url) -> Option<&Site> {
        self.sites.iter().find(|s| s.in_scope(url))
    }
}

/// Turns a toml error into `file:line:column: message`, naming the table of an unknown key.
fn parse_error(text: &str, path: &Path, e: &toml::de::Error) -> Error {
    let (line, column) = e
        .span()
        .map(|span| line_col(text, span.start))
        .unwrap_or((0, 0));
    let mut message = e.message().trim().to_string();
    if message.starts_with("unknown field") {
        let table = table_at(text, line).unwrap_or_else(|| "top level".into());
        message = format!("{message} (in {table})");
    }
    Error::ParseConfig {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The `[table]` header in force at 1-based `line`.
fn table_at(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(|l| {
            let t = l.trim();
            let end = t.rfind(']')?;
            t.starts_with('[').then(|| t[..=end].to_string())
        })
        .last()
}

fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration like \"30s\" or \"24h\": {e}"))
}

fn parse_size(s: &str) -> std::result::Result<u64, String> {
    s.trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| format!("`{s}` is not a size like \"8MiB\": {e}"))
}

fn validate(raw: RawConfig, path: &Path, base_dir: &Path) -> Result<Config> {
    let mut errors: Vec<Error> = Vec::new();
    let bad = |message: String| Error::InvalidConfig {
        path: path.to_path_buf(),
        message,
    };

    let c = raw.crawl;
    let mut crawl = CrawlSettings::default();
    let store = c.store.unwrap_or_else(|| DEFAULT_STORE.into());
    crawl.store = base_dir.join(store);
    if let Some(ua) = c.user_agent {
        if ua.trim().is_empty() || ua.contains(['\r', '\n']) {
            errors.push(bad(format!(
                "[crawl].user_agent `{ua}` must be one non-empty line"
            )));
        }
        crawl.user_agent = ua;
    }
    if let Some(n) = c.concurrency {
        if !(1..=4096).contains(&n) {
            errors.push(bad(format!(
                "[crawl].concurrency = {n}: must be between 1 and 4096"
            )));
        } else {
            crawl.concurrency = n as usize;
        }
    }
    if let Some(r) = c.rate {
        if !r.is_finite() || r < 0.0 {
            errors.push(bad(format!(
                "[crawl].rate = {r}: must be a number >= 0 (0 = no limit)"
            )));
        } else {
            crawl.rate = r;
        }
    }
    let mut dur = |name: &str, v: Option<String>, slot: &mut Duration| {
        if let Some(v) = v {
            match parse_duration(&v) {
                Ok(d) => *slot = d,
                Err(m) => errors.push(bad(format!("[crawl].{name}: {m}"))),
            }
        }
    };
    dur("timeout", c.timeout, &mut crawl.timeout);
    dur("revisit", c.revisit, &mut crawl.revisit);
    dur(
        "max_retry_after",
        c.max_retry_after,
        &mut crawl.max_retry_after,
    );
    if crawl.timeout.is_zero() {
        errors.push(bad("[crawl].timeout must be longer than 0s".into()));
    }
    if let Some(v) = c.max_body {
        match parse_size(&v) {
            Ok(0) => errors.push(bad("[crawl].max_body must be larger than 0".into())),
            Ok(n) => crawl.max_body = n,
            Err(m) => errors.push(bad(format!("[crawl].max_body: {m}"))),
        }
    }
    if let Some(b) = c.respect_robots {
        crawl.respect_robots = b;
    }
    let mut count = |name: &str, v: Option<i64>, max: i64| -> Option<i64> {
        let v = v?;
        if !(0..=max).contains(&v) {
            errors.push(bad(format!(
                "[crawl].{name} = {v}: must be between 0 and {max}"
            )));
            None
        } else {
            Some(v)
        }
    };
    if let Some(n) = count("max_pages", c.max_pages, i64::MAX) {
        crawl.max_pages = n as u64;
    }
    if let Some(n) = count("max_retries", c.max_retries, 20) {
        crawl.max_retries = n as u32;
    }
    if let Some(n) = count("max_query_variants", c.max_query_variants, 1_000_000) {
        crawl.max_query_variants = n as u32;
    }

    let name_re = Regex::new("^[a-z0-9-]+$").expect("static regex");
    let mut sites = Vec::new();
    for (i, rs) in raw.site.into_iter().enumerate() {
        let site_label = if rs.name.is_empty() {
            format!("#{}", i + 1)
        } else {
            rs.name.clone()
        };
        if !name_re.is_match(&rs.name) {
            errors.push(bad(format!(
                "[[site]] {site_label}: name `{}` must match [a-z0-9-]+",
                rs.name
            )));
        }
        if sites.iter().any(|s: &Site| s.name == rs.name) {
            errors.push(bad(format!("[[site]] name `{}` is used twice", rs.name)));
        }
        let regexes = |field: &str, list: &[String], errors: &mut Vec<Error>| -> Vec<Regex> {
            list.iter()
                .filter_map(|r| match Regex::new(r) {
                    Ok(re) => Some(re),
                    Err(e) => {
                        errors.push(Error::InvalidRegex(Box::new(PatternError {
                            path: path.to_path_buf(),
                            site: site_label.clone(),
                            field: field.into(),
                            text: r.clone(),
                            message: e
                                .to_string()
                                .lines()
                                .last()
                                .unwrap_or("")
                                .trim()
                                .to_string(),
                        })));
                        None
                    }
                })
                .collect()
        };
        let allow = regexes("allow", &rs.allow, &mut errors);
        let deny = regexes("deny", &rs.deny, &mut errors);
        let article = regexes("article", &rs.article, &mut errors);
        let follow = regexes("follow", &rs.follow, &mut errors);
        if rs.allow.is_empty() {
            errors.push(bad(format!(
                "[[site]] {site_label}: `allow` needs at least one regex (the site's scope)"
            )));
        }
        if rs.article.is_empty() {
            errors.push(bad(format!("[[site]] {site_label}: `article` needs at least one regex (which pages are articles)")));
        }

        let sel =
            |field: &str, v: &Option<String>, errors: &mut Vec<Error>| -> Option<SelectorSpec> {
                let text = v.as_ref()?;
                match SelectorSpec::parse(text) {
                    Ok(s) => Some(s),
                    Err(message) => {
                        errors.push(Error::InvalidSelector(Box::new(PatternError {
                            path: path.to_path_buf(),
                            site: site_label.clone(),
                            field: format!("selectors.{field}"),
                            text: text.clone(),
                            message,
                        })));
                        None
                    }
                }
            };
        let s = &rs.selectors;
        let selectors = SiteSelectors {
            title: sel("title", &s.title, &mut errors),
            date: sel("date", &s.date, &mut errors),
            body: sel("body", &s.body, &mut errors),
            author: sel("author", &s.author, &mut errors),
            summary: sel("summary", &s.summary, &mut errors),
            remove: s
                .remove
                .iter()
                .filter_map(|r| sel("remove", &Some(r.clone()), &mut errors))
                .collect(),
        };

        let mut seed_texts: Vec<(String, String)> = rs
            .seeds
            .iter()
            .map(|s| (s.clone(), format!("[[site]] {site_label}: seeds")))
            .collect();
        if let Some(file) = &rs.seed_file {
            let p = base_dir.join(file);
            match std::fs::read_to_string(&p) {
                Ok(t) => {
                    for (n, line) in t.lines().enumerate() {
                        let line = line.split('#').next().unwrap_or("").trim();
                        if !line.is_empty() {
                            seed_texts
                                .push((line.to_string(), format!("{}:{}", p.display(), n + 1)));
                        }
                    }
                }
                Err(e) => errors.push(bad(format!(
                    "[[site]] {site_label}: seed_file {}: {e}",
                    p.display()
                ))),
            }
        }
        let rate = match rs.rate {
            Some(r) if !r.is_finite() || r < 0.0 => {
                errors.push(bad(format!(
                    "[[site]] {site_label}: rate = {r}: must be a number >= 0"
                )));
                crawl.rate
            }
            Some(r) => r,
            None => crawl.rate,
        };
        let max_depth = match rs.max_depth {
            Some(d) if !(0..=1000).contains(&d) => {
                errors.push(bad(format!(
                    "[[site]] {site_label}: max_depth = {d}: must be between 0 and 1000"
                )));
                DEFAULT_MAX_DEPTH
            }
            Some(d) => d as u32,
            None => DEFAULT_MAX_DEPTH,
        };
        let mut site = Site {
            name: rs.name.clone(),
            seeds: Vec::new(),
            allow,
            deny,
            article,
            follow,
            rate,
            max_depth,
            selectors: std::sync::Arc::new(selectors),
        };
        for (text, whence) in seed_texts {
            match crate::canon::parse_canonical(&text) {
                Ok(u) if site.allow.is_empty() || site.in_scope(&u) => {
                    if !site.seeds.contains(&u) {
                        site.seeds.push(u)
                    }
                }
                Ok(_) => errors.push(bad(format!(
                    "{whence}: seed `{text}` is outside the site's allow/deny scope"
                ))),
                Err(e) => errors.push(bad(format!("{whence}: {e}"))),
            }
        }
        if site.seeds.is_empty() && rs.seeds.is_empty() && rs.seed_file.is_none() {
            errors.push(bad(format!(
                "[[site]] {site_label}: no seeds (give `seeds` or `seed_file`)"
            )));
        }
        sites.push(site);
    }

    match errors.len() {
        0 => Ok(Config {
            path: path.to_path_buf(),
            crawl,
            sites,
            digest: String::new(),
        }),
        1 => Err(errors.remove(0)),
        _ => Err(Error::ConfigErrors(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[crawl]
store = "store"
user_agent = "luutru/0.1 (+https://example.org/luutru)"
concurrency = 16
rate = 1.0
timeout = "30s"
max_body = "8MiB"
respect_robots = true
revisit = "24h"
max_pages = 0

[[site]]
name = "tinhuy-haiduong"
seeds = ["http://tinhuyhaiduong.vn/"]
allow = ['^https?://tinhuyhaiduong\.vn/']
deny = ['/Search/']
article = ['/news/Pages/new\.aspx\?.*ItemID=\d+']
follow = ['/news/Pages/list\.aspx']
rate = 2.0
max_depth = 5

[site.selectors]
title = "h1.title"
date = ".date"
body = ".content"
author = ".author"
summary = ".sapo"
remove = [".fontsize", ".related"]
"#;

    fn load(text: &str) -> Result<Config> {
        Config::from_str_at(text, Path::new("crawl.toml"), Path::new("/tmp/x"))
    }

    #[test]
    fn parses_the_documented_example() {
        let c = load(GOOD).unwrap();
        assert_eq!(c.crawl.store, PathBuf::from("/tmp/x/store"));
        assert_eq!(c.crawl.timeout, Duration::from_secs(30));
        assert_eq!(c.crawl.max_body, 8 * 1024 * 1024);
        assert_eq!(c.crawl.revisit, Duration::from_secs(86400));
        let s = &c.sites[0];
        assert_eq!(s.rate, 2.0);
        assert_eq!(s.seeds[0].as_str(), "http://tinhuyhaiduong.vn/");
        let art =
            Url::parse("http://tinhuyhaiduong.vn/news/Pages/new.aspx?CateID=2&ItemID=88").unwrap();
        assert_eq!(s.classify(&art), Some(PageKind::Article));
        assert!(s.in_scope(&art));
        let search = Url::parse("http://tinhuyhaiduong.vn/Search/Pages/a.aspx").unwrap();
        assert!(!s.in_scope(&search));
        assert_eq!(s.selectors.remove.len(), 2);
    }

    #[test]
    fn unknown_key_names_key_table_and_line() {
        let text = GOOD.replace("max_pages = 0", "max_pages = 0\nspeed = 3");
        let e = load(&text).unwrap_err().to_string();
        assert!(e.contains("crawl.toml:12:1"), "{e}");
        assert!(e.contains("speed") && e.contains("[crawl]"), "{e}");
        let text = GOOD.replace("title = \"h1.title\"", "titel = \"h1.title\"");
        let e = load(&text).unwrap_err().to_string();
        assert!(e.contains("titel") && e.contains("[site.selectors]"), "{e}");
    }

    #[test]
    fn bad_regex_names_site_field_and_text() {
        let text = GOOD.replace(
            r"follow = ['/news/Pages/list\.aspx']",
            r"follow = ['/news/(Pages']",
        );
        let e = load(&text).unwrap_err().to_string();
        assert!(
            e.contains("tinhuy-haiduong") && e.contains("follow") && e.contains("/news/(Pages"),
            "{e}"
        );
    }

    #[test]
    fn bad_selector_names_site_field_and_text() {
        let text = GOOD.replace("date = \".date\"", "date = \"div[[\"");
        let e = load(&text).unwrap_err().to_string();
        assert!(
            e.contains("tinhuy-haiduong") && e.contains("selectors.date") && e.contains("div[["),
            "{e}"
        );
    }

    #[test]
    fn collects_several_errors_at_once() {
        let text = GOOD
            .replace("date = \".date\"", "date = \"div[[\"")
            .replace("timeout = \"30s\"", "timeout = \"soon\"")
            .replace("name = \"tinhuy-haiduong\"", "name = \"Tinh Uy\"");
        let e = load(&text).unwrap_err().to_string();
        assert!(e.contains("timeout") && e.contains("soon"), "{e}");
        assert!(e.contains("div[["), "{e}");
        assert!(e.contains("[a-z0-9-]+"), "{e}");
    }

    #[test]
    fn rejects_bad_values() {
        for (from, to, needle) in [
            ("rate = 1.0", "rate = -1.0", "rate"),
            ("concurrency = 16", "concurrency = 0", "concurrency"),
            ("max_body = \"8MiB\"", "max_body = \"lots\"", "max_body"),
            (
                "seeds = [\"http://tinhuyhaiduong.vn/\"]",
                "seeds = [\"http://other.vn/\"]",
                "outside",
            ),
        ] {
            let e = load(&GOOD.replace(from, to)).unwrap_err().to_string();
            assert!(e.contains(needle), "{from} -> {to}: {e}");
        }
    }
}
