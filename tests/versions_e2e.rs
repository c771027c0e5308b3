//! End to end, issue 4: versions that mean something. The real `luutru` binary crawls the
//! fixture sites over several fixture days and the store is read back through the CLI,
//! the server logs and the WARC files.
//!
//! Parts: the run helpers ([`Lab`], [`Fixture`], [`Run`]; the same shape as in
//! `crawl_e2e.rs`, each test crate being its own binary), a WARC member scanner
//! (`appended_members`), and the tests: noise-only days and aliases, deletion and
//! reappearance, conditional revisits and what a 304 costs, `reindex-db`, and crawls
//! killed at several moments compared with an uninterrupted one.
//!
//! Every test serves its fixtures on its own `127.0.3.N` addresses (tests run in parallel)
//! and checks against `tests/fixtures/<site>/expected.toml`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{
    crawl_table, expected, fixture_site, luutru, n, record_urls, s, url_key, write_config,
    Expected, ExpectedArticle, FixtureServer, SiteToml,
};
use serde_json::Value;

// ------------------------------------------------------------------ harness

struct Fixture {
    name: String,
    server: FixtureServer,
    exp: Expected,
}

/// Fixture servers and a config pointing at them, in a temporary directory.
struct Lab {
    dir: tempfile::TempDir,
    config: PathBuf,
    fixtures: Vec<Fixture>,
}

impl Lab {
    /// Starts `sites` on `127.0.3.<first>`, `127.0.3.<first + 1>`, … with their
    /// recommended `[[site]]` blocks and these `[crawl]` overrides.
    fn new(first: u8, sites: &[&str], crawl_overrides: &[(&str, &str)]) -> Lab {
        let fixtures: Vec<Fixture> = sites
            .iter()
            .enumerate()
            .map(|(i, s)| Fixture {
                name: s.to_string(),
                server: FixtureServer::start(&format!("127.0.3.{}", first as usize + i), s),
                exp: expected(s),
            })
            .collect();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = write_config(dir.path(), &config_text(&fixtures, crawl_overrides));
        Lab {
            dir,
            config,
            fixtures,
        }
    }

    /// Another config (its own directory and store) for the same fixture servers.
    fn variant(&self, crawl_overrides: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = write_config(dir.path(), &config_text(&self.fixtures, crawl_overrides));
        (dir, config)
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn set_day(&self, day: u32) {
        for f in &self.fixtures {
            f.server.set_day(day);
        }
    }

    fn clear_logs(&self) {
        for f in &self.fixtures {
            f.server.clear_log();
        }
    }

    fn crawl(&self, extra: &[&str]) -> Value {
        crawl(&self.config, extra)
    }

    fn query(&self) -> Vec<Value> {
        query(&self.config)
    }

    fn history(&self, url: &str) -> Vec<Value> {
        let r = run_with(&self.config, &["history", url, "--format", "json"]);
        assert_eq!(r.code, 0, "history {url} failed:\n{r}");
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("history {url}: {e}\n{r}"))
    }

    fn verify(&self) {
        verify(&self.config);
    }
}

fn config_text(fixtures: &[Fixture], crawl_overrides: &[(&str, &str)]) -> String {
    let mut text = crawl_table(crawl_overrides);
    for f in fixtures {
        text.push('\n');
        text.push_str(&site_toml(f).build());
    }
    text
}

fn site_toml(f: &Fixture) -> SiteToml {
    fixture_site(&f.name, &f.server)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn command(config: &Path, args: &[&str]) -> std::process::Command {
    let mut c = luutru();
    c.arg("--config")
        .arg(config)
        .args(args)
        .env_remove("LUUTRU_CONFIG")
        .env_remove("LUUTRU_STORE")
        .env("RUST_LOG", "warn");
    c
}

fn run_with(config: &Path, args: &[&str]) -> Run {
    let out = command(config, args)
        .output()
        .expect("the luutru binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `crawl --json` plus `extra`; asserts exit 0 and returns the summary (last stdout line).
fn crawl(config: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["crawl", "--json"];
    args.extend_from_slice(extra);
    let r = run_with(config, &args);
    assert_eq!(r.code, 0, "crawl {extra:?} failed:\n{r}");
    let line = r
        .stdout
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("no summary line:\n{r}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("summary is not JSON ({e}):\n{r}"))
}

fn query(config: &Path) -> Vec<Value> {
    let r = run_with(config, &["query", "--format", "jsonl"]);
    assert_eq!(r.code, 0, "query failed:\n{r}");
    r.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("query line {l}: {e}")))
        .collect()
}

fn verify(config: &Path) {
    let r = run_with(config, &["verify"]);
    assert_eq!(r.code, 0, "verify found problems:\n{r}");
}

/// The one record holding any URL of `art`; panics unless there is exactly one.
fn record_of<'a>(records: &'a [Value], fx: &Fixture, art: &ExpectedArticle) -> &'a Value {
    let keys: BTreeSet<String> = art.all_paths().iter().map(|p| url_key(p)).collect();
    let base = fx.server.base();
    let found: Vec<&Value> = records
        .iter()
        .filter(|r| s(r, "site") == fx.name)
        .filter(|r| {
            record_urls(r)
                .iter()
                .any(|u| u.starts_with(&base) && keys.contains(&url_key(u)))
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{}: {} is stored as {} article(s)",
        fx.name,
        art.path,
        found.len()
    );
    found[0]
}

/// Whether a logged request was for one of the site's expected articles (any spelling).
fn is_article_request<'a>(fx: &'a Fixture, path_and_query: &str) -> Option<&'a ExpectedArticle> {
    let key = url_key(path_and_query);
    fx.exp
        .articles
        .iter()
        .find(|a| a.all_paths().iter().any(|p| url_key(p) == key))
}

fn warc_sizes(store: &Path) -> BTreeMap<PathBuf, u64> {
    std::fs::read_dir(store.join("warc"))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
                .map(|p| {
                    let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                    (p, len)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One WARC record appended after a point: its type, target and compressed size.
#[derive(Debug)]
struct Member {
    warc_type: String,
    target: String,
    compressed: u64,
}

/// The gzip members appended to the WARC files since `before` (file → size), each decoded
/// with flate2 and its WARC header read here, independently of luutru.
fn appended_members(store: &Path, before: &BTreeMap<PathBuf, u64>) -> Vec<Member> {
    let mut out = Vec::new();
    for (path, len) in warc_sizes(store) {
        let start = before.get(&path).copied().unwrap_or(0);
        if len <= start {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut at = start as usize;
        while at < bytes.len() {
            let mut slice = &bytes[at..];
            let mut plain = Vec::new();
            {
                let mut gz = flate2::bufread::GzDecoder::new(&mut slice);
                gz.read_to_end(&mut plain)
                    .unwrap_or_else(|e| panic!("{} @{at}: {e}", path.display()));
            }
            let used = bytes.len() - at - slice.len();
            assert!(used > 0, "{} @{at}: empty gzip member", path.display());
            let head = String::from_utf8_lossy(&plain);
            let field = |name: &str| {
                head.split("\r\n\r\n")
                    .next()
                    .unwrap_or_default()
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                    })
                    .unwrap_or_default()
            };
            out.push(Member {
                warc_type: field("WARC-Type"),
                target: field("WARC-Target-URI"),
                compressed: used as u64,
            });
            at += used;
        }
    }
    out
}

const ALL_SITES: [&str; 6] = common::SITES;

// ------------------------------------------------------------------ 9. noise and aliases

#[test]
fn noise_only_changes_make_no_version_and_alias_spellings_stay_one_article() {
    let lab = Lab::new(10, &ALL_SITES, &[]);
    lab.crawl(&[]);
    let day1 = lab.query();
    lab.set_day(2);
    lab.clear_logs();
    let summary = lab.crawl(&["--revisit-all"]);
    let day2 = lab.query();

    let mut noise_only = 0;
    for fx in &lab.fixtures {
        let log = fx.server.log();
        let site_edits = fx
            .exp
            .changes_on(2)
            .iter()
            .filter(|(_, c)| c.is_edit())
            .count();
        assert_eq!(
            summary["sites"][&fx.name]["new_versions"].as_u64(),
            Some(site_edits as u64),
            "{}: {}",
            fx.name,
            summary["sites"][&fx.name]
        );
        for art in fx.exp.articles.iter().filter(|a| a.first_day == 1) {
            if !art.changes_on(2).is_empty() {
                continue;
            }
            noise_only += 1;
            let before = record_of(&day1, fx, art);
            let after = record_of(&day2, fx, art);
            assert_eq!(after["url"], before["url"]);
            assert_eq!(
                n(after, "versions"),
                1,
                "{}:{}: noise made a version",
                fx.name,
                art.path
            );
            assert_eq!(after["content_hash"], before["content_hash"]);
            assert_eq!(s(after, "status"), "live");
            // The noise was really downloaded: day 2 changed the page's bytes, so its
            // validators changed and the revisit got a full 200.
            let urls: BTreeSet<String> = record_urls(after).iter().map(|u| url_key(u)).collect();
            let full = log
                .iter()
                .filter(|r| r.status == Some(200) && urls.contains(&url_key(&r.path_and_query)))
                .count();
            assert!(
                full > 0,
                "{}:{} was not downloaded on day 2",
                fx.name,
                art.path
            );
            // Every spelling (category alias, print view, utm_ link, ?redirect=) is still
            // this one article.
            for p in art.all_paths() {
                assert!(
                    urls.contains(&url_key(p)),
                    "{}: {p} not in {urls:?}",
                    fx.name
                );
            }
        }
    }
    assert!(noise_only >= 15, "only {noise_only} noise-only articles");
    assert_eq!(
        day2.len(),
        day1.len() + 1,
        "day 2 adds one article (nukeviet 2891)"
    );
}

// ------------------------------------------------------------------ deletions

#[test]
fn gone_articles_are_tombstoned_and_come_back_live() {
    let lab = Lab::new(20, &["tinhuy", "nukeviet"], &[("revisit", "\"0s\"")]);
    lab.crawl(&[]);
    let mut gone_by_day: BTreeMap<u32, usize> = BTreeMap::new();
    for day in 2..=3 {
        lab.set_day(day);
        // `revisit = "0s"`: every known article is due without --revisit-all.
        let summary = lab.crawl(&[]);
        let records = lab.query();
        for fx in &lab.fixtures {
            for art in fx.exp.articles.iter().filter(|a| a.first_day <= day) {
                let st = art.on_day(day);
                let rec = record_of(&records, fx, art);
                let url = s(rec, "url");
                if st.is_live() {
                    assert_eq!(s(rec, "status"), "live", "day {day}: {url}");
                } else {
                    *gone_by_day.entry(day).or_default() += 1;
                    assert_eq!(
                        s(rec, "status"),
                        "gone",
                        "day {day}: {url} answers {:?}",
                        st.status
                    );
                }
                for c in art.changes_on(day) {
                    if c.kind == "back" {
                        // Served again with the same text: live, no new version.
                        assert_eq!(n(rec, "versions"), 1, "day {day}: {url}");
                    }
                }
            }
        }
        // Every known article revisited and found gone counts, newly gone or not.
        let want = lab
            .fixtures
            .iter()
            .flat_map(|f| &f.exp.articles)
            .filter(|a| a.first_day < day && !a.on_day(day).is_live())
            .count() as u64;
        assert_eq!(n(&summary, "gone"), want, "day {day}: {summary}");
    }
    assert!(
        gone_by_day.get(&3).copied().unwrap_or(0) >= 2,
        "{gone_by_day:?}"
    );
    lab.verify();
}

// ------------------------------------------------------------------ 10. conditional revisits

/// Crawls tinhuy, nukeviet and legacy, then again with `--revisit-all`; checks the
/// conditional headers, the 304s and that nothing new was stored. Returns the WARC bytes
/// the revisits added per article.
fn conditional_revisit(first: u8) -> u64 {
    let lab = Lab::new(first, &["tinhuy", "nukeviet", "legacy"], &[]);
    lab.crawl(&[]);
    let records = lab.query();
    let histories: Vec<Vec<Value>> = records.iter().map(|r| lab.history(s(r, "url"))).collect();
    // The validators each article URL sends, asked with the harness's own client.
    let mut validators: BTreeMap<String, (String, String)> = BTreeMap::new();
    for fx in &lab.fixtures {
        for art in fx.exp.live_on(1) {
            for p in art.all_paths() {
                let resp = fx.server.get(p);
                let etag = resp.header("etag").expect("article routes send an ETag");
                let lm = resp.header("last-modified").expect("and a Last-Modified");
                validators.insert(
                    format!("{}{}", fx.name, url_key(p)),
                    (etag.to_string(), lm.to_string()),
                );
            }
        }
    }
    lab.clear_logs();
    let sizes = warc_sizes(&lab.store());

    let summary = lab.crawl(&["--revisit-all"]);
    assert_eq!(n(&summary, "new_versions"), 0, "{summary}");
    assert_eq!(n(&summary, "new_articles"), 0, "{summary}");

    // Each article's own URL is revisited once, conditionally, and answered 304. (Alias
    // spellings linked from the listings are other resources with other validators.)
    let main_url = |fx: &Fixture, path_and_query: &str| {
        let key = url_key(path_and_query);
        records
            .iter()
            .any(|r| s(r, "site") == fx.name && url_key(s(r, "url")) == key)
    };
    let mut revisited = 0;
    for fx in &lab.fixtures {
        for r in fx.server.log() {
            if is_article_request(fx, &r.path_and_query).is_none()
                || !main_url(fx, &r.path_and_query)
            {
                continue;
            }
            revisited += 1;
            let key = format!("{}{}", fx.name, url_key(&r.path_and_query));
            let (etag, lm) = validators
                .get(&key)
                .unwrap_or_else(|| panic!("no validators for {key}"));
            let what = format!("{}: {}", fx.name, r.path_and_query);
            assert_eq!(r.header("if-none-match"), Some(etag.as_str()), "{what}");
            assert_eq!(r.header("if-modified-since"), Some(lm.as_str()), "{what}");
            assert_eq!(r.status, Some(304), "{what}");
        }
    }
    assert_eq!(
        revisited,
        records.len(),
        "revisits of the articles' own URLs"
    );
    assert!(n(&summary, "unchanged") >= revisited as u64, "{summary}");

    // Nothing new in the versions; only "seen" moved.
    let after = lab.query();
    assert_eq!(after.len(), records.len());
    for ((a, b), h) in records.iter().zip(&after).zip(&histories) {
        assert_eq!(a["url"], b["url"]);
        assert_eq!(a["versions"], b["versions"]);
        assert_eq!(a["content_hash"], b["content_hash"]);
        assert_eq!(a["captured_at"], b["captured_at"], "{}", a["url"]);
        assert!(
            s(b, "last_seen") > s(a, "last_seen"),
            "{}: last_seen",
            a["url"]
        );
        assert_eq!(&lab.history(s(a, "url")), h, "{}", a["url"]);
    }

    // What the 304s cost in the archive: the records of the revisits of the articles'
    // own URLs.
    let members = appended_members(&lab.store(), &sizes);
    let mut bytes = 0;
    let mut counted = Vec::new();
    for m in &members {
        let own = lab.fixtures.iter().any(|fx| {
            m.target.starts_with(&fx.server.base())
                && main_url(fx, &m.target[fx.server.base().len()..])
        });
        if own {
            bytes += m.compressed;
            counted.push(m);
        }
    }
    assert!(
        counted
            .iter()
            .all(|m| m.warc_type != "revisit" || m.compressed > 0),
        "{counted:?}"
    );
    let per_article = bytes / revisited as u64;
    eprintln!(
        "a 304 revisit adds {per_article} WARC bytes per article ({} records: {:?})",
        counted.len(),
        counted
            .iter()
            .map(|m| (m.warc_type.as_str(), m.compressed))
            .collect::<Vec<_>>()
    );
    per_article
}

#[test]
fn revisits_are_conditional_and_a_304_stores_nothing_new() {
    let per_article = conditional_revisit(30);
    // Whatever the cost, it is the cost of records, not of pages.
    assert!(per_article < 4096, "{per_article} bytes per 304");
}

#[test]
fn a_recrawl_where_everything_is_304_adds_under_500_warc_bytes_per_article() {
    let per_article = conditional_revisit(35);
    assert!(
        per_article < 500,
        "a 304 revisit adds {per_article} WARC bytes per article (target < 500)"
    );
}

/// A recrawl does not queue its due articles: it walks them. A run killed part way (here
/// through the library: a run begun with the revisit mark set, one article revisited, the
/// process gone) leaves an empty queue; it must resume, revisit the rest, and not fetch
/// again what it had done.
#[test]
fn a_run_killed_while_revisiting_revisits_the_rest_on_resume() {
    use luutru::config::PageKind;
    use luutru::store::model::{FrontierEntry, FrontierState};
    use luutru::store::{Commit, EnqueuePolicy, Store};

    let lab = Lab::new(70, &["tinhuy", "nukeviet"], &[]);
    lab.crawl(&[]);
    let records = lab.query();
    assert!(records.len() > 2, "the fixture sites have articles");
    let first = &records[0];
    {
        let store = Store::open(&lab.store(), "test: killed revisit").unwrap();
        let run = store.begin_run(Vec::new()).unwrap();
        store.set_revisiting(true).unwrap();
        let entry = FrontierEntry {
            url: s(first, "url").to_string(),
            site: s(first, "site").to_string(),
            depth: 0,
            kind: PageKind::Article,
            state: FrontierState::Queued,
            run: run.id,
            attempts: 0,
            last_error: None,
            queued: None,
        };
        let policy = EnqueuePolicy {
            run: run.id,
            fresh_after: run.started,
            revisit_walk: true,
        };
        let seen = Commit::NotModified {
            at: chrono::Utc::now(),
            status: 200,
            validators: None,
        };
        store.commit(&entry, &seen, &[], policy).unwrap();
        assert_eq!(store.queued(), 0, "revisits are not queued");
    }
    // Links are not followed on resume (max_depth 0), so only the walk can bring the other
    // articles back.
    let mut text = crawl_table(&[]);
    for f in &lab.fixtures {
        text.push('\n');
        text.push_str(&site_toml(f).line("max_depth = 0").build());
    }
    std::fs::write(&lab.config, text).unwrap();
    let summary = lab.crawl(&["--revisit-all"]);
    assert_eq!(summary["resumed"], Value::Bool(true), "{summary}");
    assert_eq!(
        n(&summary, "unchanged"),
        records.len() as u64 - 1,
        "every article revisited but the one revisited before the kill: {summary}"
    );
    assert_eq!(n(&summary, "new_versions"), 0, "{summary}");
    let store = Store::open(&lab.store(), "test: check").unwrap();
    assert!(
        !store.revisiting().unwrap(),
        "the mark is cleared once every due article is revisited"
    );
    assert!(
        store.current_run().unwrap().is_none(),
        "the run is complete"
    );
}

/// A recrawl stopped by `--max-pages` part way through its revisits says so, and the next
/// run goes on with the articles it had not reached (and only those).
#[test]
fn a_recrawl_stopped_by_max_pages_goes_on_with_the_rest() {
    let lab = Lab::new(71, &["tinhuy"], &[]);
    lab.crawl(&[]);
    let articles = lab.query().len() as u64;
    assert!(articles > 3, "the fixture site has articles");
    let first = lab.crawl(&["--revisit-all", "--max-pages", "3"]);
    assert_eq!(s(&first, "outcome"), "stopped", "{first}");
    assert_eq!(first["revisits_left"], Value::Bool(true), "{first}");
    let done = n(&first, "unchanged");
    assert!(done <= 3, "{first}");
    let rest = lab.crawl(&["--revisit-all"]);
    assert_eq!(rest["resumed"], Value::Bool(true), "{rest}");
    assert_eq!(s(&rest, "outcome"), "completed", "{rest}");
    assert_eq!(rest["revisits_left"], Value::Bool(false), "{rest}");
    assert_eq!(
        done + n(&rest, "unchanged"),
        articles,
        "each article revisited once over the two runs: {first} then {rest}"
    );
}

/// `compact-db` swaps in a fresh copy of the database: every query answers the same,
/// `verify` passes, and the next crawl carries on.
#[test]
fn compact_db_keeps_the_store_as_it_was() {
    let lab = Lab::new(72, &["tinhuy", "nukeviet"], &[]);
    lab.crawl(&[]);
    lab.set_day(2);
    lab.crawl(&["--revisit-all"]);
    let before = run_with(&lab.config, &["query", "--format", "jsonl"]);
    assert_eq!(before.code, 0, "{before}");
    let r = run_with(&lab.config, &["compact-db"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("compacted the database"), "{r}");
    let after = run_with(&lab.config, &["query", "--format", "jsonl"]);
    assert_eq!(
        after.stdout, before.stdout,
        "the same store after compaction"
    );
    let v = run_with(&lab.config, &["verify"]);
    assert_eq!(v.code, 0, "{v}");
    for leftover in ["db.compact", "db.compact.done", "db.old"] {
        assert!(
            !lab.store().join(leftover).exists(),
            "{leftover} left behind"
        );
    }
    let next = lab.crawl(&["--revisit-all"]);
    assert_eq!(s(&next, "outcome"), "completed", "{next}");
    assert_eq!(n(&next, "new_versions"), 0, "{next}");
}

// ------------------------------------------------------------------ 11. reindex-db

/// Crawls every fixture site on days 1 and 2, deletes `store/db`, runs `reindex-db`, and
/// checks that `query --format jsonl` (and the histories of the changed articles) are
/// byte for byte what they were.
fn reindex_round_trip(first: u8, concurrency: &str) {
    let lab = Lab::new(first, &ALL_SITES, &[("concurrency", concurrency)]);
    lab.crawl(&[]);
    lab.set_day(2);
    lab.crawl(&["--revisit-all"]);
    let before = run_with(&lab.config, &["query", "--format", "jsonl"]);
    assert_eq!(before.code, 0, "{before}");
    let records = lab.query();
    // Histories of the articles that changed (edited, gone).
    let changed: Vec<&Value> = records
        .iter()
        .filter(|r| n(r, "versions") > 1 || s(r, "status") == "gone")
        .collect();
    assert!(changed.len() >= 6, "{} changed articles", changed.len());
    let histories: Vec<Vec<Value>> = changed.iter().map(|r| lab.history(s(r, "url"))).collect();

    std::fs::remove_dir_all(lab.store().join("db")).expect("delete store/db");
    let r = run_with(&lab.config, &["reindex-db"]);
    assert_eq!(r.code, 0, "reindex-db failed:\n{r}");

    let after = run_with(&lab.config, &["query", "--format", "jsonl"]);
    assert_eq!(after.code, 0, "{after}");
    if before.stdout != after.stdout {
        let a: Vec<&str> = before.stdout.lines().collect();
        let b: Vec<&str> = after.stdout.lines().collect();
        let diffs: Vec<String> = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x != y)
            .map(|(x, y)| format!("before: {x}\nafter:  {y}"))
            .collect();
        panic!(
            "query differs after reindex-db ({} vs {} lines):\n{}",
            a.len(),
            b.len(),
            diffs.join("\n")
        );
    }
    for (r, h) in changed.iter().zip(&histories) {
        assert_eq!(&lab.history(s(r, "url")), h, "{}", r["url"]);
    }
    lab.verify();
}

#[test]
fn reindex_db_rebuilds_the_same_store_from_the_warc_files() {
    // One page at a time: the crawl commits pages in the order their responses were
    // archived, which is the order reindex-db replays them in.
    reindex_round_trip(40, "1");
}

#[test]
fn reindex_db_rebuilds_the_same_store_after_a_concurrent_crawl() {
    reindex_round_trip(46, "8");
}

// ------------------------------------------------------------------ 12. killed at random moments

/// A query record without what depends on when and in which order pages were fetched:
/// the times, and which of an article's spellings came first (without rel=canonical, the
/// first one committed becomes its URL, the others aliases; two clean runs differ there
/// too). The article is identified by the set of all its URLs instead.
fn timeless(r: &Value) -> Value {
    let mut urls = record_urls(r);
    urls.sort();
    let mut r = r.clone();
    if let Some(o) = r.as_object_mut() {
        for k in ["first_seen", "last_seen", "captured_at", "url", "aliases"] {
            o.remove(k);
        }
        o.insert("all_urls".into(), Value::from(urls));
        // The citation names the version by its URL and capture time.
        if let Some(Value::Object(c)) = o.get_mut("citation") {
            c.remove("url");
            c.remove("captured_at");
        }
    }
    r
}

#[test]
fn crawls_killed_at_several_moments_end_like_an_uninterrupted_one() {
    let lab = Lab::new(50, &["tinhuy", "nukeviet", "liferay"], &[("rate", "8.0")]);
    let mut killed_mid_run = 0;
    for delay in [300, 700, 1100] {
        let mut child = command(&lab.config, &["crawl", "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the luutru binary starts");
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().expect("child status").is_none() {
            killed_mid_run += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        lab.verify();
    }
    assert!(
        killed_mid_run >= 2,
        "only {killed_mid_run} runs were killed mid-crawl"
    );
    let summary = lab.crawl(&[]);
    assert_eq!(s(&summary, "outcome"), "completed", "{summary}");
    lab.verify();
    let killed = lab.query();

    let (_other, config) = lab.variant(&[]);
    crawl(&config, &[]);
    let clean = query(&config);

    let order = |v: &Vec<Value>| {
        let mut v: Vec<Value> = v.iter().map(timeless).collect();
        v.sort_by_key(|r| r["all_urls"].to_string());
        v
    };
    let (a, b) = (order(&killed), order(&clean));
    assert_eq!(
        a.len(),
        b.len(),
        "killed: {:?}\nclean: {:?}",
        a.iter()
            .map(|r| r["all_urls"].to_string())
            .collect::<Vec<_>>(),
        b.iter()
            .map(|r| r["all_urls"].to_string())
            .collect::<Vec<_>>()
    );
    for (x, y) in a.iter().zip(&b) {
        let keys: BTreeSet<&String> = x
            .as_object()
            .into_iter()
            .chain(y.as_object())
            .flat_map(|o| o.keys())
            .collect();
        let differ: Vec<String> = keys
            .into_iter()
            .filter(|k| x[k.as_str()] != y[k.as_str()])
            .map(|k| format!("{k}: killed {} / clean {}", x[k.as_str()], y[k.as_str()]))
            .collect();
        assert!(
            differ.is_empty(),
            "{}:\n{}",
            x["all_urls"],
            differ.join("\n")
        );
    }
    for fx in &lab.fixtures {
        for art in fx.exp.live_on(1) {
            let rec = record_of(&killed, fx, art);
            assert_eq!(n(rec, "versions"), 1, "{rec}");
        }
    }
}
