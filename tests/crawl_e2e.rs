//! End to end: the real `luutru` binary crawls the fixture sites served on loopback, and the
//! results are read back through the CLI (`query`, `show`, `history`, `verify`), the server
//! logs and the WARC files (with the independent `warc` crate reader and, where installed,
//! `warcio check`).
//!
//! Parts: the run helpers ([`Lab`], [`Fixture`], [`Run`], `crawl` / `query` / `show` /
//! `history`), the record matchers (`records_for`, `url_key`), and one test per "Must show"
//! item of issue 2: extraction of every fixture site, aliases, recrawls and day-2 edits,
//! per-host rate, kill -9 and resume, WARC read-back, bad configs, the README's command.
//! Exact duplicates under several URLs of one site (the legacy `same_text_as` /
//! `same_hash_as` twins) are expected as one article with aliases, as issue 4 asks.
//!
//! Every test serves its fixtures on its own `127.0.2.N` addresses (tests run in parallel)
//! and checks against `tests/fixtures/<site>/expected.toml`, never against strings written
//! here.

mod common;

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{
    crawl_table, expected, fixture_site, luutru, n, record_urls, s, url_key, write_config,
    Expected, ExpectedArticle, FixtureServer, Robots, SiteToml,
};
use serde_json::Value;

// ------------------------------------------------------------------ harness

/// One fixture server and what its site must extract to.
struct Fixture {
    /// Name of the `[[site]]` in the config (the fixture directory name).
    name: String,
    server: FixtureServer,
    exp: Expected,
}

impl Fixture {
    fn start(ip: &str, site: &str) -> Fixture {
        Fixture {
            name: site.to_string(),
            server: FixtureServer::start(ip, site),
            exp: expected(site),
        }
    }

    /// The recommended `[[site]]` block for this fixture.
    fn site_toml(&self) -> SiteToml {
        fixture_site(&self.name, &self.server)
    }
}

/// A temporary directory with a config and the fixtures it points at.
struct Lab {
    dir: tempfile::TempDir,
    config: PathBuf,
    fixtures: Vec<Fixture>,
}

impl Lab {
    /// Starts `sites` on `127.0.2.<first>`, `127.0.2.<first + 1>`, … and writes a config
    /// with `crawl_overrides` and each site's recommended block, edited by `edit`.
    fn new(
        first: u8,
        sites: &[&str],
        crawl_overrides: &[(&str, &str)],
        edit: impl Fn(&Fixture, SiteToml) -> SiteToml,
    ) -> Lab {
        let fixtures: Vec<Fixture> = sites
            .iter()
            .enumerate()
            .map(|(i, s)| Fixture::start(&format!("127.0.2.{}", first as usize + i), s))
            .collect();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut text = crawl_table(crawl_overrides);
        for f in &fixtures {
            text.push('\n');
            text.push_str(&edit(f, f.site_toml()).build());
        }
        let config = write_config(dir.path(), &text);
        Lab {
            dir,
            config,
            fixtures,
        }
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn fixture(&self, name: &str) -> &Fixture {
        self.fixtures
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no fixture {name}"))
    }

    fn set_day(&self, day: u32) {
        for f in &self.fixtures {
            f.server.set_day(day);
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        run_with(&self.config, args)
    }

    /// `crawl --json` plus `extra`; asserts exit 0 and returns the summary object.
    fn crawl(&self, extra: &[&str]) -> Value {
        let mut args = vec!["crawl", "--json"];
        args.extend_from_slice(extra);
        let r = self.run(&args);
        assert_eq!(r.code, 0, "crawl {extra:?} failed:\n{r}");
        summary_of(&r)
    }

    fn query(&self) -> Vec<Value> {
        let r = self.run(&["query", "--format", "jsonl"]);
        assert_eq!(r.code, 0, "query failed:\n{r}");
        r.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("query line {l}: {e}")))
            .collect()
    }

    fn show(&self, url: &str, version: Option<u64>) -> Value {
        let mut args = vec!["show".to_string(), url.to_string()];
        if let Some(v) = version {
            args.push("--version".into());
            args.push(v.to_string());
        }
        args.extend(["--format".into(), "json".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = self.run(&args);
        assert_eq!(r.code, 0, "show {url} failed:\n{r}");
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("show {url}: {e}\n{r}"))
    }

    fn history(&self, url: &str) -> Vec<Value> {
        let r = self.run(&["history", url, "--format", "json"]);
        assert_eq!(r.code, 0, "history {url} failed:\n{r}");
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("history {url}: {e}\n{r}"))
    }

    fn verify(&self) {
        let r = self.run(&["verify"]);
        assert_eq!(r.code, 0, "verify found problems:\n{r}");
    }
}

/// What one run of the binary did.
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

fn run_with(config: &Path, args: &[&str]) -> Run {
    let out = luutru()
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("LUUTRU_CONFIG")
        .env_remove("LUUTRU_STORE")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the luutru binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The `--json` summary: the last line of stdout.
fn summary_of(r: &Run) -> Value {
    let line = r
        .stdout
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("no summary line:\n{r}"));
    let v: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("summary is not JSON ({e}):\n{r}"));
    for key in [
        "fetched",
        "new_articles",
        "new_versions",
        "unchanged",
        "failed",
        "gone",
    ] {
        assert!(v[key].is_u64(), "summary lacks `{key}`: {v}");
    }
    v
}

/// The articles of a site live on `day`, grouped into what the store keeps as one
/// article: exact duplicates under several URLs of one site (`same_text_as` /
/// `same_hash_as` twins: the same content hash) are one article with aliases (issue 4).
fn stored_groups(exp: &Expected, day: u32) -> Vec<Vec<&ExpectedArticle>> {
    let live = exp.live_on(day);
    let twin = |a: &ExpectedArticle, b: &ExpectedArticle| {
        [&a.same_text_as, &a.same_hash_as]
            .iter()
            .any(|t| t.as_deref() == Some(b.path.as_str()))
    };
    let mut groups: Vec<Vec<&ExpectedArticle>> = Vec::new();
    for a in live {
        let joined: Vec<usize> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.iter().any(|b| twin(a, b) || twin(b, a)))
            .map(|(i, _)| i)
            .collect();
        let mut merged = vec![a];
        for i in joined.into_iter().rev() {
            merged.extend(groups.remove(i));
        }
        groups.push(merged);
    }
    groups
}

/// Records of `fx`'s site under which any URL of `art` is stored.
fn records_for<'a>(records: &'a [Value], fx: &Fixture, art: &ExpectedArticle) -> Vec<&'a Value> {
    let keys: BTreeSet<String> = art.all_paths().iter().map(|p| url_key(p)).collect();
    let base = fx.server.base();
    records
        .iter()
        .filter(|r| s(r, "site") == fx.name)
        .filter(|r| {
            record_urls(r)
                .iter()
                .any(|u| u.starts_with(&base) && keys.contains(&url_key(u)))
        })
        .collect()
}

/// The one record of `art`; panics unless there is exactly one.
fn record_of<'a>(records: &'a [Value], fx: &Fixture, art: &ExpectedArticle) -> &'a Value {
    let found = records_for(records, fx, art);
    assert_eq!(
        found.len(),
        1,
        "{}: {} is stored as {} article(s): {:?}",
        fx.name,
        art.path,
        found.len(),
        found.iter().map(|r| s(r, "url")).collect::<Vec<_>>()
    );
    found[0]
}

/// Checks one stored record against the article as it reads on `day`; returns the
/// problems found (empty: all good).
fn check_fields(
    fx: &Fixture,
    art: &ExpectedArticle,
    day: u32,
    rec: &Value,
    author: AuthorCheck,
) -> Vec<String> {
    let st = art.on_day(day);
    let mut bad = Vec::new();
    let who = format!("{}:{}", fx.name, art.path);
    if s(rec, "title") != st.title {
        bad.push(format!(
            "{who}: title {:?}, expected {:?}",
            rec["title"], st.title
        ));
    }
    if s(rec, "published") != art.published {
        bad.push(format!(
            "{who}: published {:?}, expected {:?}",
            rec["published"], art.published
        ));
    }
    if art.modified.is_some() && rec["modified"].as_str() != art.modified.as_deref() {
        bad.push(format!(
            "{who}: modified {:?}, expected {:?}",
            rec["modified"], art.modified
        ));
    }
    // Without selectors (dnn) the issue asks for title, date and a clean body; an author
    // found must still be the right one (`dnn_author_is_found_without_selectors` asks
    // for it outright).
    let lenient = author == AuthorCheck::IfFound && fx.site_toml().selectors.is_none();
    if rec["author"].as_str() != art.author.as_deref() && !(lenient && rec["author"].is_null()) {
        bad.push(format!(
            "{who}: author {:?}, expected {:?}",
            rec["author"], art.author
        ));
    }
    if let Some(summary) = &art.summary {
        if s(rec, "summary") != summary {
            bad.push(format!(
                "{who}: summary {:?}, expected {summary:?}",
                rec["summary"]
            ));
        }
    }
    let body = s(rec, "body");
    let paragraphs: Vec<&str> = body.split("\n\n").collect();
    // Each expected paragraph is one paragraph of the body, in order.
    let mut at = 0;
    for p in &st.paragraphs {
        match paragraphs[at..].iter().position(|q| q == p) {
            Some(i) => at += i + 1,
            None => bad.push(format!(
                "{who}: paragraph missing (or out of order) in body: {p:?}\n  body: {body:?}"
            )),
        }
    }
    let fields = ["title", "author", "summary", "body"];
    for b in &fx.exp.boilerplate {
        for f in fields {
            if rec[f].as_str().is_some_and(|t| t.contains(b.as_str())) {
                bad.push(format!("{who}: boilerplate {b:?} in {f}"));
            }
        }
    }
    bad
}

/// How strictly [`check_fields`] treats the author of a site crawled without selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthorCheck {
    /// The expected author, whatever the site's config.
    Required,
    /// The expected author, or none at all for a site without selectors (generic
    /// extraction); a wrong author is always a problem.
    IfFound,
}

fn warc_files(store: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(store.join("warc"))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

const ALL_SITES: [&str; 6] = common::SITES;

// ------------------------------------------------------------------ 1. extraction

#[test]
fn crawl_stores_every_fixture_article_once_with_exact_fields_and_no_boilerplate() {
    let lab = Lab::new(10, &ALL_SITES, &[], |_, s| s);
    let summary = lab.crawl(&[]);
    let records = lab.query();

    let mut problems = Vec::new();
    let mut expected_new = 0;
    for fx in &lab.fixtures {
        let groups = stored_groups(&fx.exp, 1);
        expected_new += groups.len() as u64;
        let of_site: Vec<&str> = records
            .iter()
            .filter(|r| s(r, "site") == fx.name)
            .map(|r| s(r, "url"))
            .collect();
        if of_site.len() != groups.len() {
            problems.push(format!(
                "{}: {} articles stored, {} expected: {of_site:?}",
                fx.name,
                of_site.len(),
                groups.len()
            ));
        }
        for group in groups {
            let found = records_for(&records, fx, group[0]);
            if found.len() != 1 {
                problems.push(format!(
                    "{}:{} stored {} times",
                    fx.name,
                    group[0].path,
                    found.len()
                ));
                continue;
            }
            let rec = found[0];
            // Twins are one record holding every URL of the group.
            for other in &group {
                let theirs = records_for(&records, fx, other);
                if theirs.len() != 1 || !std::ptr::eq(theirs[0], rec) {
                    problems.push(format!(
                        "{}: twins {} and {} are not one article",
                        fx.name, group[0].path, other.path
                    ));
                }
            }
            assert_eq!(n(rec, "versions"), 1, "{}: {rec}", group[0].path);
            assert_eq!(s(rec, "status"), "live", "{}: {rec}", group[0].path);
            // The record holds the text of whichever twin was fetched first; hash twins
            // differ only in tone-mark placement.
            let checks: Vec<Vec<String>> = group
                .iter()
                .map(|art| check_fields(fx, art, 1, rec, AuthorCheck::IfFound))
                .collect();
            if !checks.iter().any(Vec::is_empty) {
                problems.extend(checks.into_iter().min_by_key(Vec::len).unwrap_or_default());
            }
        }
    }
    assert_eq!(n(&summary, "new_articles"), expected_new, "{summary}");
    assert_eq!(n(&summary, "new_versions"), 0, "{summary}");
    assert_eq!(n(&summary, "failed"), 0, "{summary}");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn dnn_author_is_found_without_selectors() {
    let lab = Lab::new(20, &["dnn"], &[], |_, s| s);
    lab.crawl(&[]);
    let records = lab.query();
    let fx = lab.fixture("dnn");
    let mut problems = Vec::new();
    for art in fx.exp.live_on(1) {
        problems.extend(check_fields(
            fx,
            art,
            1,
            record_of(&records, fx, art),
            AuthorCheck::Required,
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------ 2. aliases

#[test]
fn one_article_under_category_alias_utm_link_print_view_and_session_ids() {
    let lab = Lab::new(30, &["tinhuy", "liferay"], &[], |_, s| s);
    lab.crawl(&[]);
    let records = lab.query();
    let mut checked = 0;
    for fx in &lab.fixtures {
        for art in fx.exp.live_on(1) {
            let rec = record_of(&records, fx, art);
            assert_eq!(n(rec, "versions"), 1, "{rec}");
            let stored: BTreeSet<String> = record_urls(rec).iter().map(|u| url_key(u)).collect();
            for p in art.all_paths() {
                // A utm_ link has the article's own canonical form; every other spelling
                // (category id, print view, ?redirect=) is kept as an alias.
                assert!(
                    stored.contains(&url_key(p)),
                    "{}: {p} is not among the URLs of {}: {stored:?}",
                    fx.name,
                    s(rec, "url")
                );
                // Any spelling finds the one article.
                let shown = lab.show(&fx.server.url(p), None);
                assert_eq!(shown["url"], rec["url"], "show {p}");
                checked += usize::from(p != art.path);
            }
        }
    }
    // The fixtures have a category alias, a utm_ link, print views and ?redirect= links.
    assert!(checked >= 5, "only {checked} alias spellings checked");

    // tinhuy: the category alias is stored as an alias, the utm_ link finds the article.
    let tinhuy = lab.fixture("tinhuy");
    let with_cat = tinhuy
        .exp
        .articles
        .iter()
        .find(|a| a.aliases.iter().any(|p| !p.contains("utm_")))
        .expect("tinhuy has a category alias");
    let rec = record_of(&records, tinhuy, with_cat);
    assert!(
        rec["aliases"].as_array().is_some_and(|a| !a.is_empty()),
        "{rec}"
    );
    let with_utm = tinhuy
        .exp
        .articles
        .iter()
        .find(|a| a.aliases.iter().any(|p| p.contains("utm_")))
        .expect("tinhuy has a utm_ link");
    let utm = with_utm
        .aliases
        .iter()
        .find(|p| p.contains("utm_"))
        .expect("found above");
    let shown = lab.show(&tinhuy.server.url(utm), None);
    assert_eq!(
        url_key(s(&shown, "url")),
        url_key(&with_utm.path),
        "{shown}"
    );

    // liferay: every link carries a new ;jsessionid=, none is stored, and a made-up one
    // still finds the article.
    let liferay = lab.fixture("liferay");
    assert!(
        liferay
            .server
            .log()
            .iter()
            .all(|r| !r.path_and_query.to_ascii_lowercase().contains("jsessionid")),
        "session ids were sent back to the server"
    );
    for r in records.iter().filter(|r| s(r, "site") == "liferay") {
        for u in record_urls(r) {
            assert!(!u.to_ascii_lowercase().contains("jsessionid"), "{u}");
        }
    }
    let art = &liferay.exp.live_on(1)[0];
    let (path, query) = art.path.split_once('?').unwrap_or((&art.path, ""));
    let with_session = format!(
        "{path};jsessionid=0123456789ABCDEF0123456789ABCDEF{}",
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    );
    let shown = lab.show(&liferay.server.url(&with_session), None);
    assert_eq!(
        shown["url"],
        record_of(&records, liferay, art)["url"],
        "{with_session}"
    );
}

// ------------------------------------------------------------------ 3. recrawl, day 2

#[test]
fn recrawl_adds_no_version_and_day_two_edits_add_exactly_one_each() {
    let lab = Lab::new(40, &ALL_SITES, &[], |_, s| s);
    lab.crawl(&[]);
    let day1 = lab.query();

    // Unchanged sites, every article fetched again: nothing new.
    let again = lab.crawl(&["--revisit-all"]);
    assert_eq!(n(&again, "new_articles"), 0, "{again}");
    assert_eq!(n(&again, "new_versions"), 0, "{again}");
    assert_eq!(n(&again, "gone"), 0, "{again}");
    assert!(
        n(&again, "unchanged") >= day1.len() as u64,
        "not every article was revisited: {again}"
    );
    let same = lab.query();
    assert_eq!(same.len(), day1.len());
    for (a, b) in day1.iter().zip(&same) {
        assert_eq!(a["url"], b["url"]);
        assert_eq!(a["versions"], b["versions"], "{}", a["url"]);
        assert_eq!(a["content_hash"], b["content_hash"], "{}", a["url"]);
    }

    lab.set_day(2);
    let summary = lab.crawl(&["--revisit-all"]);
    let records = lab.query();
    let (mut edits, mut gone, mut new) = (0, 0, 0);
    let mut problems = Vec::new();
    for fx in &lab.fixtures {
        new += fx
            .exp
            .new_on(2)
            .iter()
            .filter(|a| a.on_day(2).is_live())
            .count() as u64;
        for art in &fx.exp.articles {
            let st = art.on_day(2);
            if st.status.is_none() {
                continue;
            }
            let rec = record_of(&records, fx, art);
            let url = s(rec, "url");
            let changes = art.changes_on(2);
            let edit = changes.iter().find(|c| c.is_edit());
            let history = lab.history(url);
            if art.first_day == 2 {
                assert_eq!(n(rec, "versions"), 1, "new article {url}");
                problems.extend(check_fields(fx, art, 2, rec, AuthorCheck::IfFound));
            } else if let Some(c) = edit {
                edits += 1;
                assert_eq!(
                    history.len(),
                    2,
                    "{url}: a {} edit must add exactly one version: {history:?}",
                    c.kind
                );
                let mut changed: Vec<&str> = history[1]["changed"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                changed.sort_unstable();
                let mut want: Vec<&str> = c.fields.iter().map(String::as_str).collect();
                want.sort_unstable();
                assert_eq!(changed, want, "{url}: changed fields");
                assert_ne!(history[0]["content_hash"], history[1]["content_hash"]);
                problems.extend(check_fields(fx, art, 2, rec, AuthorCheck::IfFound));
            } else {
                // Noise only (or gone): the day-1 version stays the only one.
                assert_eq!(history.len(), 1, "{url}: noise made a version: {history:?}");
            }
            if changes.iter().any(|c| c.kind == "gone") {
                gone += 1;
                assert_eq!(s(rec, "status"), "gone", "{url} answers {:?}", st.status);
            } else {
                assert_eq!(s(rec, "status"), "live", "{url}");
            }
        }
    }
    assert!(edits >= 4 && gone >= 2 && new >= 1, "fixture changed?");
    assert_eq!(n(&summary, "new_versions"), edits, "{summary}");
    assert_eq!(n(&summary, "gone"), gone, "{summary}");
    assert_eq!(n(&summary, "new_articles"), new, "{summary}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------ 4. per-host rate

#[test]
fn per_host_rate_is_kept_while_hosts_are_crawled_in_parallel() {
    const RATE: f64 = 2.0;
    const TOLERANCE: Duration = Duration::from_millis(30);
    let lab = Lab::new(
        50,
        &["tinhuy", "nukeviet"],
        &[("max_pages", "10")],
        |_, s| s.line(&format!("rate = {RATE:?}")),
    );
    for f in &lab.fixtures {
        f.server.set_robots(Robots::Absent);
    }
    lab.crawl(&[]);
    let min_gap = Duration::from_secs_f64(1.0 / RATE) - TOLERANCE;
    let mut spans = Vec::new();
    for f in &lab.fixtures {
        let mut at: Vec<Instant> = f.server.log().iter().map(|r| r.at).collect();
        at.sort();
        assert!(
            at.len() >= 3,
            "{}: only {} requests to measure",
            f.name,
            at.len()
        );
        for w in at.windows(2) {
            let gap = w[1] - w[0];
            assert!(
                gap >= min_gap,
                "{}: requests {gap:?} apart, rate {RATE}/s allows no less than {min_gap:?}",
                f.name
            );
        }
        spans.push((at[0], at[at.len() - 1]));
    }
    let (a, b) = (spans[0], spans[1]);
    assert!(
        a.0 < b.1 && b.0 < a.1,
        "the two hosts were not crawled in parallel: {:?} vs {:?}",
        (a.0, a.1 - a.0),
        (b.0, b.1 - b.0)
    );
}

// ------------------------------------------------------------------ 5. kill -9

/// Starts `crawl` in the background (output discarded).
fn spawn_crawl(config: &Path) -> std::process::Child {
    luutru()
        .arg("--config")
        .arg(config)
        .args(["crawl", "--json"])
        .env_remove("LUUTRU_CONFIG")
        .env_remove("LUUTRU_STORE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the luutru binary starts")
}

/// Every article stored once, one version each, version numbers 1..=n with distinct hashes.
fn assert_each_article_once(lab: &Lab, day: u32) {
    let records = lab.query();
    let expected_total: usize = lab
        .fixtures
        .iter()
        .map(|f| stored_groups(&f.exp, day).len())
        .sum();
    assert_eq!(
        records.len(),
        expected_total,
        "{:?}",
        records.iter().map(|r| s(r, "url")).collect::<Vec<_>>()
    );
    for fx in &lab.fixtures {
        for art in fx.exp.live_on(day) {
            let rec = record_of(&records, fx, art);
            let history = lab.history(s(rec, "url"));
            assert_eq!(n(rec, "versions") as usize, history.len(), "{rec}");
            assert_eq!(history.len(), 1, "{}: {history:?}", s(rec, "url"));
            for (i, h) in history.iter().enumerate() {
                assert_eq!(n(h, "version") as usize, i + 1, "{history:?}");
            }
        }
    }
}

#[test]
fn kill_9_mid_crawl_then_crawl_again_completes_with_each_article_once() {
    let lab = Lab::new(
        60,
        &["tinhuy", "nukeviet", "liferay"],
        &[("rate", "5.0")],
        |_, s| s,
    );
    let mut child = spawn_crawl(&lab.config);
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        child.try_wait().expect("child status").is_none(),
        "the crawl ended within 1 s: nothing left to interrupt"
    );
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let before: usize = lab.fixtures.iter().map(|f| f.server.log().len()).sum();
    assert!(before > 0, "the killed crawl sent no request");

    let summary = lab.crawl(&[]);
    assert_eq!(summary["resumed"], Value::Bool(true), "{summary}");
    assert_eq!(s(&summary, "outcome"), "completed", "{summary}");
    assert_eq!(n(&summary, "queued"), 0, "{summary}");
    assert_each_article_once(&lab, 1);
    lab.verify();
}

// ------------------------------------------------------------------ 6. WARC read back

/// One gzip member of a WARC file, read with flate2 and the `warc` crate (not luutru).
fn read_member(path: &Path, offset: u64, length: u64) -> warc::Record<warc::BufferedBody> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (o, l) = (offset as usize, length as usize);
    assert!(
        o + l <= bytes.len(),
        "{}: pointer past the end",
        path.display()
    );
    let member = &bytes[o..o + l];
    let mut gz = flate2::bufread::GzDecoder::new(member);
    let mut plain = Vec::new();
    gz.read_to_end(&mut plain)
        .unwrap_or_else(|e| panic!("{} @{offset}: not one gzip member: {e}", path.display()));
    let mut rest = Vec::new();
    gz.into_inner()
        .read_to_end(&mut rest)
        .expect("reading a slice");
    assert!(
        rest.is_empty(),
        "{} @{offset}+{length}: more than one gzip member",
        path.display()
    );
    let mut records = warc::WarcReader::new(&plain[..]).iter_records();
    let rec = records
        .next()
        .unwrap_or_else(|| panic!("{} @{offset}: no WARC record", path.display()))
        .unwrap_or_else(|e| panic!("{} @{offset}: bad WARC record: {e}", path.display()));
    assert!(records.next().is_none(), "more than one record in a member");
    rec
}

/// An HTTP/1.x response: status, headers (lower-case names), payload.
fn split_http(block: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let end = block
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head ending in a blank line");
    let head = String::from_utf8_lossy(&block[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("status line {status_line:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, block[end + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn warc_pointers_read_back_with_an_independent_reader_give_the_same_fields() {
    let lab = Lab::new(
        70,
        &["tinhuy", "nukeviet", "liferay", "legacy"],
        &[],
        |_, s| s,
    );
    // tinhuy's articles come gzip-encoded: the archive keeps them so, the parser decodes.
    lab.fixture("tinhuy")
        .server
        .add_fault("/news/Pages/new.aspx", common::Fault::Gzip);
    lab.crawl(&[]);
    lab.set_day(2);
    lab.crawl(&["--revisit-all"]);

    let config = luutru::config::Config::load(&lab.config).expect("the test config loads");
    let warc_dir = lab.store().join("warc");
    let records = lab.query();
    let (mut versions, mut gzipped) = (0, 0);
    for rec in &records {
        let url = s(rec, "url");
        let site = config.site(s(rec, "site")).expect("configured site");
        // The latest version without asking for its number; earlier ones by number.
        let latest = n(rec, "versions");
        for number in 1..=latest {
            let shown = lab.show(url, (number < latest).then_some(number));
            assert_eq!(n(&shown, "version"), number, "{url}");
            let ptr = &shown["warc"];
            let file = warc_dir.join(s(ptr, "file"));
            let record = read_member(&file, n(ptr, "offset"), n(ptr, "length"));
            assert_eq!(
                record.warc_type(),
                &warc::RecordType::Response,
                "{url} v{number}"
            );
            assert_eq!(record.warc_id(), s(ptr, "record_id"));
            let target = record
                .header(warc::WarcHeader::TargetURI)
                .expect("WARC-Target-URI")
                .to_string();
            assert_eq!(target, s(ptr, "target_uri"));
            assert_eq!(target, s(&shown, "fetched_url"), "{url}");
            let (status, headers, payload) = split_http(record.body());
            assert_eq!(u64::from(status), n(&shown, "http_status"));
            // The payload digest, computed here, is the one recorded.
            let digest = format!(
                "sha1:{}",
                data_encoding::BASE32.encode(&sha1::Digest::finalize(
                    <sha1::Sha1 as sha1::Digest>::new_with_prefix(&payload)
                ))
            );
            assert_eq!(digest, s(ptr, "payload_digest"), "{url}");
            assert_eq!(
                record
                    .header(warc::WarcHeader::PayloadDigest)
                    .map(|d| d.to_string()),
                Some(digest)
            );
            let decoded = match header(&headers, "content-encoding") {
                Some(enc) if enc.eq_ignore_ascii_case("gzip") => {
                    gzipped += 1;
                    let mut out = Vec::new();
                    flate2::read::GzDecoder::new(&payload[..])
                        .read_to_end(&mut out)
                        .expect("a gzip payload");
                    out
                }
                Some(other) => panic!("{url}: unexpected content-encoding {other}"),
                None => payload,
            };
            let page_url = url::Url::parse(&target).expect("a URL");
            let parsed = luutru::crawl::parse_response(
                &site.selectors,
                &page_url,
                &decoded,
                header(&headers, "content-type"),
                true,
                *record.date(),
            );
            let fields = serde_json::to_value(parsed.article.expect("an article"))
                .expect("fields serialize");
            for f in [
                "title",
                "published",
                "modified",
                "author",
                "summary",
                "body",
                "captions",
            ] {
                assert_eq!(fields[f], shown[f], "{url} v{number}: {f}");
            }
            versions += 1;
        }
    }
    assert!(versions > records.len(), "day 2 added versions: {versions}");
    assert!(gzipped > 0, "no gzip-encoded response was checked");

    // Every file reads from start to end with the warc crate, and is a WARC 1.1 file.
    let mut responses = 0;
    for file in warc_files(&lab.store()) {
        let reader = warc::WarcReader::from_path_gzip(&file).expect("open");
        for r in reader.iter_records() {
            let r = r.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(r.warc_version(), "1.1");
            responses += usize::from(r.warc_type() == &warc::RecordType::Response);
        }
    }
    assert!(
        responses >= versions,
        "{responses} responses, {versions} versions"
    );

    // warcio, where installed, agrees.
    let have_warcio = std::process::Command::new("python3")
        .args(["-c", "import warcio"])
        .status()
        .is_ok_and(|s| s.success());
    if have_warcio {
        for file in warc_files(&lab.store()) {
            // warcio has no `__main__`; its console script calls `warcio.cli.main`.
            let out = std::process::Command::new("python3")
                .args([
                    "-c",
                    "import sys; from warcio.cli import main; main(sys.argv[1:])",
                    "check",
                    "-v",
                ])
                .arg(&file)
                .output()
                .expect("python3 runs");
            let report = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "warcio check {}:\n{report}{}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                report.contains("digest pass"),
                "warcio checked no digest: {report}"
            );
        }
    } else {
        eprintln!("note: python3 warcio is not installed; `warcio check` skipped");
    }
}

// ------------------------------------------------------------------ 7. bad configs

/// Runs `crawl` on a config; asserts exit 2, nothing created, and returns stderr.
fn refused(text: &str) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = write_config(dir.path(), text);
    let r = run_with(&config, &["crawl", "--json"]);
    assert_eq!(r.code, 2, "a bad config must exit 2:\n{r}");
    assert!(
        !dir.path().join("store").exists(),
        "the store directory was created for a bad config"
    );
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("crawl.toml")]);
    r.stderr
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle} not in config"))
}

#[test]
fn bad_configs_are_refused_with_clear_errors_and_nothing_written() {
    let server = FixtureServer::start("127.0.2.80", "tinhuy");
    let good_site = fixture_site("tinhuy", &server);
    let good = format!("{}\n{}", crawl_table(&[]), good_site.build());
    // The good config is accepted (so the failures below are the edits').
    let dir = tempfile::tempdir().expect("a temporary directory");
    let r = run_with(&write_config(dir.path(), &good), &["query"]);
    assert_ne!(r.code, 2, "the base config is refused:\n{r}");

    // An unknown key: named with its table and line.
    let text = format!(
        "{}\n{}",
        crawl_table(&[("concurrenc", "4")]),
        good_site.build()
    );
    let err = refused(&text);
    let line = line_of(&text, "concurrenc =");
    assert!(err.contains("concurrenc"), "{err}");
    assert!(err.contains("crawl"), "the table is not named: {err}");
    assert!(
        err.contains(&format!(":{line}:")),
        "line {line} not named: {err}"
    );

    let text = format!(
        "{}\n{}",
        crawl_table(&[]),
        good_site.clone().line("colour = \"red\"").build()
    );
    let err = refused(&text);
    assert!(err.contains("colour") && err.contains("site"), "{err}");

    // A bad regex: site, field and text.
    let bad_regex = "/news/(Pages";
    let text = format!(
        "{}\n{}",
        crawl_table(&[]),
        good_site.clone().article(&[bad_regex]).build()
    );
    let err = refused(&text);
    for want in ["tinhuy", "article", bad_regex] {
        assert!(err.contains(want), "`{want}` not named: {err}");
    }

    // A bad selector: site, field and text.
    let bad_selector = "h1.title[";
    let selectors = common::selectors("tinhuy")
        .expect("tinhuy has selectors")
        .replace("\"h1.title\"", &format!("{bad_selector:?}"));
    assert!(selectors.contains(bad_selector));
    let text = format!(
        "{}\n{}",
        crawl_table(&[]),
        good_site.clone().selectors(Some(&selectors)).build()
    );
    let err = refused(&text);
    for want in ["tinhuy", "title", bad_selector] {
        assert!(err.contains(want), "`{want}` not named: {err}");
    }

    // Both at once: both listed.
    let text = format!(
        "{}\n{}",
        crawl_table(&[]),
        good_site
            .clone()
            .article(&[bad_regex])
            .selectors(Some(&selectors))
            .build()
    );
    let err = refused(&text);
    assert!(
        err.contains(bad_regex) && err.contains(bad_selector),
        "not every problem listed: {err}"
    );
}

// ------------------------------------------------------------------ 8. README

#[test]
fn the_readme_quick_start_crawl_command_works() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let quick = readme
        .split("## Quick start")
        .nth(1)
        .expect("a Quick start section");
    let block = quick
        .split("```")
        .nth(1)
        .expect("a code block in Quick start");
    let cmd = block
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .find(|l| l.contains(" crawl"))
        .expect("a crawl command in Quick start");
    let args: Vec<&str> = cmd
        .split_once(" -- ")
        .map(|(_, a)| a.split_whitespace().collect())
        .expect("`cargo run … -- <args>`");
    assert_eq!(args.first(), Some(&"crawl"), "{cmd}");

    // The command as written, in a directory whose crawl.toml points at a fixture site.
    let lab = Lab::new(90, &["nukeviet"], &[], |_, s| s);
    let out = luutru()
        .args(&args)
        .current_dir(lab.dir.path())
        .env_remove("LUUTRU_CONFIG")
        .env_remove("LUUTRU_STORE")
        .env("RUST_LOG", "warn")
        .output()
        .expect("luutru runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(lab.store().join("db").is_dir() && lab.store().join("warc").is_dir());
    let records = lab.query();
    let fx = lab.fixture("nukeviet");
    assert_eq!(records.len(), stored_groups(&fx.exp, 1).len());
}
