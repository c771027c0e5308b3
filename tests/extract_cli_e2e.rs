//! `luutru extract` on saved pages (issue 3: how a user writes selectors for a new site),
//! and template health: a selector that stops matching is reported loudly by the crawl.

mod common;

use common::{
    crawl_table, expected, fixture_site, fixtures_dir, run, selectors, write_config, FixtureServer,
    Robots,
};

#[test]
fn extract_prints_each_field_and_its_source_for_saved_pages() {
    let dir = tempfile::tempdir().unwrap();
    let server = FixtureServer::start("127.0.10.1", "tinhuy");
    let body = format!(
        "{}\n{}",
        crawl_table(&[]),
        fixture_site("tinhuy", &server).build()
    );
    let config = write_config(dir.path(), &body);
    let page = fixtures_dir().join("tinhuy/day1/article-8601.html");
    let page = page.to_str().unwrap();

    // With the site's selectors: every field from its selector.
    let out = run(
        &config,
        &["extract", "--site", "tinhuy", page, "--format", "jsonl"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = expected("tinhuy")
        .article("/news/Pages/new.aspx?CateID=5&ItemID=8601")
        .clone();
    assert_eq!(line["file"], page);
    assert_eq!(line["title"], want.title.as_str());
    assert_eq!(line["published"], want.published.as_str());
    for field in ["title", "published", "body"] {
        assert!(
            line["sources"][field]
                .as_str()
                .unwrap()
                .starts_with("selector:"),
            "{field}: {line}"
        );
    }
    // Without a site: the fallback chain, and the sources say so.
    let out = run(&config, &["extract", page, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["title"], want.title.as_str());
    assert!(!v[0]["sources"]["title"]
        .as_str()
        .unwrap()
        .starts_with("selector:"));
    // Text form names each field's source.
    let out = run(&config, &["extract", "--site", "tinhuy", page]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("title     [selector:"), "{text}");
    // A missing file and an unknown site are clear errors.
    let out = run(&config, &["extract", "/nonexistent/page.html"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/page.html"));
    let out = run(&config, &["extract", "--site", "khong-co", page]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_selector_that_stops_matching_is_reported_as_a_template_change() {
    let server = FixtureServer::start("127.0.10.2", "tinhuy");
    server.set_robots(Robots::Absent);
    let dir = tempfile::tempdir().unwrap();
    // The site "changed its template": the configured title selector matches nothing.
    let sel = selectors("tinhuy")
        .unwrap()
        .replace("title = \"h1.title\"", "title = \"h1.tieu-de-cu\"");
    let body = format!(
        "{}\n{}",
        crawl_table(&[]),
        fixture_site("tinhuy", &server)
            .selectors(Some(&sel))
            .build()
    );
    let config = write_config(dir.path(), &body);
    let out = run(&config, &["crawl", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let warnings = summary["template_warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{summary}");
    let w = warnings[0].as_str().unwrap();
    assert!(
        w.contains("TEMPLATE CHANGE?") && w.contains("title") && w.contains("h1.tieu-de-cu"),
        "{w}"
    );
    // Titles still came from a fallback, and the run record keeps the counts.
    let sources = &summary["sites"]["tinhuy"]["field_sources"]["title"];
    assert!(sources.get("selector").is_none(), "{sources}");
    assert!(
        sources
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>()
            >= 3
    );
    let out = run(&config, &["query", "--format", "json"]);
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["title"].as_str().is_some_and(|t| !t.is_empty())));
    // The human summary says it loudly too (a fresh store: revisits answered 304 are not
    // extracted, so they say nothing about the template).
    let dir2 = tempfile::tempdir().unwrap();
    let config2 = write_config(dir2.path(), &body);
    let out = run(&config2, &["crawl"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("WARNING: TEMPLATE CHANGE?"));
}
