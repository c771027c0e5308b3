//! `luutru reextract` (issue 4): stored raw pages re-extracted with new selectors create a
//! version, marked re-extracted, only where the extracted content really differs; running it
//! again changes nothing.

mod common;

use common::{
    crawl_table, expected, fixture_site, json, run, selectors, write_config, FixtureServer, Robots,
};

#[test]
fn reextract_adds_versions_only_where_the_new_selectors_change_the_text() {
    let server = FixtureServer::start("127.0.9.1", "tinhuy");
    server.set_robots(Robots::Absent);
    let dir = tempfile::tempdir().unwrap();
    let good = selectors("tinhuy").expect("tinhuy selectors");
    // A careless first body selector: the whole detail block (title, date, author lines).
    let sloppy = good.replace(
        "body = \".news-detail .content\"",
        "body = \".news-detail\"",
    );
    assert_ne!(
        sloppy, good,
        "the fixture selectors changed: update this test"
    );
    let config_with = |sel: &str| {
        let body = format!(
            "{}\n{}",
            crawl_table(&[]),
            fixture_site("tinhuy", &server).selectors(Some(sel)).build()
        );
        write_config(dir.path(), &body)
    };
    let config = config_with(&sloppy);
    assert!(run(&config, &["crawl"]).status.success());
    let before = json(run(&config, &["query", "--format", "json"]));
    let before = before.as_array().unwrap();
    assert!(!before.is_empty());

    // Same selectors: nothing to do.
    let out = run(&config, &["reextract"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 new version(s)"),
        "{out:?}"
    );

    // Good selectors: every article's body changes to the expected one, in a new version.
    let config = config_with(&good);
    let out = run(&config, &["reextract"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exp = expected("tinhuy");
    for old in before {
        let url = old["url"].as_str().unwrap();
        let now = json(run(&config, &["show", url, "--format", "json"]));
        let u = url::Url::parse(url).unwrap();
        let path_and_query = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        };
        let want = exp.article(&path_and_query);
        assert_eq!(now["version"], 2, "{url}");
        assert_eq!(now["changed"], serde_json::json!(["body"]), "{url}");
        for p in &want.paragraphs {
            assert!(
                now["body"].as_str().unwrap().contains(p.as_str()),
                "{url}: {p}"
            );
        }
        let history = json(run(&config, &["history", url, "--format", "json"]));
        let history = history.as_array().unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1]["reextracted"], true);
        assert_eq!(history[0]["reextracted"], false);
        // Same raw page, same capture time: only the extraction differs.
        assert_eq!(history[0]["fetched_at"], history[1]["fetched_at"]);
    }

    // Again: nothing differs any more.
    let out = run(&config, &["reextract"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 new version(s)"),
        "{out:?}"
    );
    assert!(run(&config, &["verify"]).status.success());
}
