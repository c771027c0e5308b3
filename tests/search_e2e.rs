//! Researchers' queries (issue 5) over a store crawled from the fixture sites: full text
//! without diacritics, mixed case, phrases, exclusions, and `--as-of` time travel. The
//! expected answers come from an independent oracle over expected.toml (tests/common).

mod common;

use std::collections::BTreeSet;

use common::{crawl_table, expected, fixture_site, json, run, write_config, FixtureServer, Robots};

/// Stored URLs of a query's result.
fn urls(config: &std::path::Path, args: &[&str]) -> BTreeSet<String> {
    let mut a = vec!["query", "--format", "json"];
    a.extend_from_slice(args);
    json(run(config, &a))
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["url"].as_str().unwrap().to_string())
        .collect()
}

struct Fixture {
    servers: Vec<FixtureServer>,
    config: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// The stored URL of each article the oracle returns for `q` on `day`.
    fn oracle(&self, day: u32, q: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for s in &self.servers {
            for a in expected(s.site()).query(day, q) {
                let v = json(run(
                    &self.config,
                    &["show", &s.url(&a.path), "--format", "json"],
                ));
                out.insert(v["url"].as_str().unwrap().to_string());
            }
        }
        out
    }
}

fn crawl_fixture(ips: [&str; 3]) -> Fixture {
    let servers: Vec<FixtureServer> =
        [("tinhuy", ips[0]), ("nukeviet", ips[1]), ("baomoi", ips[2])]
            .into_iter()
            .map(|(site, ip)| {
                let s = FixtureServer::start(ip, site);
                s.set_robots(Robots::Absent);
                s
            })
            .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut body = crawl_table(&[]);
    for s in &servers {
        body.push('\n');
        body.push_str(&fixture_site(s.site(), s).build());
    }
    let config = write_config(dir.path(), &body);
    let out = run(&config, &["crawl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Fixture {
        servers,
        config,
        _dir: dir,
    }
}

#[test]
fn text_search_folds_case_and_diacritics_and_honours_phrases_and_exclusions() {
    let f = crawl_fixture(["127.0.8.1", "127.0.8.2", "127.0.8.3"]);
    for q in [
        "chi linh",
        "CHÍ LINH",
        "camera giam sat",
        "\"camera giám sát\"",
        "\"giam sat camera\"",
        "chi linh -covid",
        "dich covid",
        "nong thon moi",
        "hoi nghi -tinh",
    ] {
        let want = f.oracle(1, q);
        let got = urls(&f.config, &["--text", q]);
        assert_eq!(got, want, "query {q:?}");
    }
    // The queries above are not all empty: the test would pass vacuously otherwise.
    assert!(!f.oracle(1, "chi linh").is_empty());
    assert!(f.oracle(1, "chi linh -covid").len() < f.oracle(1, "chi linh").len());

    // Table output marks the matched words in a snippet.
    let out = run(&f.config, &["query", "--text", "camera giam sat"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.to_lowercase().contains("camera"), "{table}");

    // A citation triple identifies the version quoted.
    let v = json(run(
        &f.config,
        &[
            "query", "--format", "json", "--text", "chi linh", "--limit", "1",
        ],
    ));
    let c = &v[0]["citation"];
    assert_eq!(c["url"], v[0]["url"]);
    assert_eq!(c["content_hash"], v[0]["content_hash"]);
    assert!(c["captured_at"].as_str().is_some());
}

#[test]
fn as_of_returns_the_older_wording_of_an_edited_article() {
    let f = crawl_fixture(["127.0.8.4", "127.0.8.5", "127.0.8.6"]);
    // A moment between the two crawls.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let between = chrono::Utc::now().to_rfc3339();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for s in &f.servers {
        s.set_day(2);
    }
    let out = run(&f.config, &["crawl", "--revisit-all"]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let exp = expected("tinhuy");
    let (article, change) = exp
        .changes_on(2)
        .into_iter()
        .find(|(_, c)| c.is_edit() && !c.removed.is_empty())
        .expect("an edit that removes words");
    let url = f.servers[0].url(&article.path);
    let key = json(run(&f.config, &["show", &url, "--format", "json"]))["url"]
        .as_str()
        .unwrap()
        .to_string();
    let old_words = change.removed.join(" ");

    // Now: the article reads the new way...
    let now = json(run(&f.config, &["show", &url, "--format", "json"]));
    assert_eq!(now["version"], 2);
    // ...as of the moment between the crawls it reads the old way.
    let then = json(run(
        &f.config,
        &[
            "query", "--format", "json", "--as-of", &between, "--site", "tinhuy",
        ],
    ));
    let then = then
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["url"] == key.as_str())
        .expect("article existed then");
    assert_eq!(then["version"], 1);
    let old_body = then["body"].as_str().unwrap();
    for w in &change.removed {
        assert!(old_body.contains(w.as_str()), "old wording has {w}");
    }
    // Text search as of then finds the old words in that article.
    let hits = urls(&f.config, &["--text", &old_words, "--as-of", &between]);
    assert!(
        hits.contains(&key),
        "{old_words:?} as of {between}: {hits:?}"
    );

    // --changed lists exactly the articles with a second version or gone.
    let changed = urls(&f.config, &["--changed"]);
    assert!(changed.contains(&key));
    let all = urls(&f.config, &[]);
    assert!(changed.len() < all.len());
    let gone = urls(&f.config, &["--status", "gone"]);
    assert!(gone.is_subset(&changed));
    assert!(!gone.is_empty(), "day 2 deletes articles");
}
