//! Harness for luutru's integration tests: fixture sites served on loopback, the expected
//! extraction data, and helpers to run the real `luutru` binary against them.
//!
//! Parts: [`server`] ([`FixtureServer`], [`Robots`], [`Fault`], [`LoggedRequest`]),
//! [`expected`] ([`expected()`], [`Expected`], the search oracle [`fold`]), [`http`] (a tiny
//! blocking client that shows the wire as sent), and here: [`luutru`], [`write_config`],
//! [`crawl_table`], [`SiteToml`] / [`site_toml`] / [`fixture_site`] (config text scoped to a
//! running server) and [`selectors`]. The fixtures and their formats are described in
//! `tests/fixtures/README.md`.
//!
//! Each test crate includes this module with `mod common;` and uses a different part of it,
//! so what one crate leaves unused is not dead code.
#![allow(dead_code, unused_imports)]

pub mod expected;
pub mod http;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use expected::{
    expected, fold, tokens, ArticleState, Change, Expected, ExpectedArticle, Query, SITES,
};
pub use server::{route_key, Fault, FixtureServer, LoggedRequest, Robots};

/// `tests/fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The `luutru` binary built for this test run.
pub fn luutru() -> Command {
    Command::new(env!("CARGO_BIN_EXE_luutru"))
}

/// Writes `dir/crawl.toml` and returns its path.
pub fn write_config(dir: &Path, toml_body: &str) -> PathBuf {
    let path = dir.join("crawl.toml");
    std::fs::write(&path, toml_body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// A `[crawl]` table for tests: store "store", no rate limit (`rate = 0.0`), 10 s timeout,
/// robots respected. Each `(key, value)` override replaces a key or adds one; values are
/// TOML text (`("rate", "2.0")`, `("revisit", "\"0s\"")`).
pub fn crawl_table(overrides: &[(&str, &str)]) -> String {
    let mut keys: Vec<(String, String)> = [
        ("store", "\"store\""),
        (
            "user_agent",
            "\"luutru-test/0.1 (+https://example.org/luutru)\"",
        ),
        ("concurrency", "8"),
        ("rate", "0.0"),
        ("timeout", "\"10s\""),
        ("max_body", "\"8MiB\""),
        ("respect_robots", "true"),
        ("revisit", "\"24h\""),
        ("max_pages", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in overrides {
        match keys.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.to_string(),
            None => keys.push((k.to_string(), v.to_string())),
        }
    }
    let mut out = String::from("[crawl]\n");
    for (k, v) in keys {
        out.push_str(&format!("{k} = {v}\n"));
    }
    out
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn toml_array(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// A `[[site]]` block scoped to one fixture server: seeds its home page, allows only its
/// base URL. Extra keys go in with [`SiteToml::line`]; `[site.selectors]` is written last.
#[derive(Debug, Clone)]
pub struct SiteToml {
    pub name: String,
    pub seeds: Vec<String>,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub article: Vec<String>,
    pub follow: Vec<String>,
    pub lines: Vec<String>,
    pub selectors: Option<String>,
}

impl SiteToml {
    pub fn new(name: &str, server: &FixtureServer) -> SiteToml {
        SiteToml {
            name: name.to_string(),
            seeds: vec![server.url("/")],
            allow: vec![format!("^{}/", regex::escape(&server.base()))],
            deny: Vec::new(),
            article: Vec::new(),
            follow: Vec::new(),
            lines: Vec::new(),
            selectors: None,
        }
    }

    pub fn seeds(mut self, urls: &[&str]) -> Self {
        self.seeds = urls.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn article(mut self, patterns: &[&str]) -> Self {
        self.article = patterns.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn follow(mut self, patterns: &[&str]) -> Self {
        self.follow = patterns.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn deny(mut self, patterns: &[&str]) -> Self {
        self.deny = patterns.iter().map(|s| s.to_string()).collect();
        self
    }

    /// One raw TOML line for the site table, e.g. `"rate = 2.0"` or `"max_depth = 3"`.
    pub fn line(mut self, toml_line: &str) -> Self {
        self.lines.push(toml_line.to_string());
        self
    }

    /// The body of `[site.selectors]` (TOML text), or `None` for no selectors at all.
    pub fn selectors(mut self, selectors: Option<&str>) -> Self {
        self.selectors = selectors.map(str::to_string);
        self
    }

    pub fn build(&self) -> String {
        let mut out = format!("[[site]]\nname = {}\n", toml_string(&self.name));
        out.push_str(&format!("seeds = {}\n", toml_array(&self.seeds)));
        out.push_str(&format!("allow = {}\n", toml_array(&self.allow)));
        if !self.deny.is_empty() {
            out.push_str(&format!("deny = {}\n", toml_array(&self.deny)));
        }
        out.push_str(&format!("article = {}\n", toml_array(&self.article)));
        out.push_str(&format!("follow = {}\n", toml_array(&self.follow)));
        for l in &self.lines {
            out.push_str(l);
            out.push('\n');
        }
        if let Some(sel) = &self.selectors {
            out.push_str("\n[site.selectors]\n");
            out.push_str(sel.trim());
            out.push('\n');
        }
        out
    }
}

impl std::fmt::Display for SiteToml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.build())
    }
}

/// A `[[site]]` block for `server` with these patterns and optional selectors (TOML text).
pub fn site_toml(
    name: &str,
    server: &FixtureServer,
    article: &[&str],
    follow: &[&str],
    selectors: Option<&str>,
) -> String {
    SiteToml::new(name, server)
        .article(article)
        .follow(follow)
        .selectors(selectors)
        .build()
}

/// The recommended `[[site]]` for the fixture `server` serves: its expected.toml patterns and
/// seeds, and its selectors.toml (none for `dnn`).
pub fn fixture_site(name: &str, server: &FixtureServer) -> SiteToml {
    let exp = expected(server.site());
    let seeds: Vec<String> = exp.patterns.seeds.iter().map(|p| server.url(p)).collect();
    let mut site = SiteToml::new(name, server);
    site.seeds = seeds;
    site.article = exp.patterns.article.clone();
    site.follow = exp.patterns.follow.clone();
    site.deny = exp.patterns.deny.clone();
    site.selectors = selectors(server.site());
    site
}

/// The recommended `[site.selectors]` body for a fixture site, `None` for `dnn`.
pub fn selectors(site: &str) -> Option<String> {
    let path = fixtures_dir().join(site).join("selectors.toml");
    path.is_file().then(|| {
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

/// `v[key]` as a number; panics naming the key and the record when it is not one.
pub fn n(v: &serde_json::Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("`{key}` is not a number in {v}"))
}

/// `v[key]` as a string, empty when absent.
pub fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// `route_key` of a URL's path and query, `utm_*` parameters dropped: the form in which a
/// stored URL and a fixture path are compared.
pub fn url_key(url_or_path: &str) -> String {
    let path = match url_or_path.find("://") {
        Some(i) => {
            let rest = &url_or_path[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => url_or_path,
    };
    let key = route_key(path);
    match key.split_once('?') {
        None => key,
        Some((p, q)) => {
            let kept: Vec<&str> = q
                .split('&')
                .filter(|kv| !kv.to_ascii_lowercase().starts_with("utm_"))
                .collect();
            if kept.is_empty() {
                p.to_string()
            } else {
                format!("{p}?{}", kept.join("&"))
            }
        }
    }
}

/// Every URL of a query/show record: its url and aliases.
pub fn record_urls(r: &serde_json::Value) -> Vec<String> {
    let mut out = vec![s(r, "url").to_string()];
    if let Some(a) = r["aliases"].as_array() {
        out.extend(
            a.iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_string),
        );
    }
    out
}

/// Runs the real binary with `--config config` and `args`, and waits for its output.
pub fn run(config: &Path, args: &[&str]) -> std::process::Output {
    luutru()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run luutru")
}

/// The JSON a successful run printed; panics with its stderr when it failed.
pub fn json(out: std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}
