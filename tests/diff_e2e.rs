//! `luutru diff`: after the fixture sites' day-2 edits, the JSON diff of each edited article
//! names exactly the words that changed (issue 4), and the unified form marks them.

mod common;

use common::{crawl_table, expected, fixture_site, run, write_config, FixtureServer, Robots};

/// Inserted and deleted words of a `diff --format json` document (punctuation left out, as
/// the fixtures' word lists do).
fn words(diff: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    let (mut ins, mut del) = (Vec::new(), Vec::new());
    for field in diff["fields"].as_array().expect("fields") {
        for op in field["ops"].as_array().expect("ops") {
            let text = op["text"].as_str().unwrap_or("");
            let target = match op["op"].as_str() {
                Some("insert") => &mut ins,
                Some("delete") => &mut del,
                _ => continue,
            };
            target.extend(
                text.split(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
                    .filter(|w| !w.is_empty())
                    .map(str::to_string),
            );
        }
    }
    (ins, del)
}

#[test]
fn diff_names_exactly_the_changed_words() {
    let tinhuy = FixtureServer::start("127.0.6.1", "tinhuy");
    let nukeviet = FixtureServer::start("127.0.6.2", "nukeviet");
    for s in [&tinhuy, &nukeviet] {
        s.set_robots(Robots::Absent);
    }
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "{}\n{}\n{}",
        crawl_table(&[]),
        fixture_site("tinhuy", &tinhuy).build(),
        fixture_site("nukeviet", &nukeviet).build()
    );
    let config = write_config(dir.path(), &body);
    assert!(run(&config, &["crawl"]).status.success());
    tinhuy.set_day(2);
    nukeviet.set_day(2);
    let out = run(&config, &["crawl", "--revisit-all"]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut checked = 0;
    for server in [&tinhuy, &nukeviet] {
        let exp = expected(server.site());
        for (article, change) in exp.changes_on(2) {
            if !change.is_edit() {
                continue;
            }
            let url = server.url(&article.path);
            let out = run(&config, &["diff", &url, "--format", "json"]);
            assert!(
                out.status.success(),
                "{url}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(d["from"], 1, "{url}");
            assert_eq!(d["to"], 2, "{url}");
            let (ins, del) = words(&d);
            assert_eq!(ins, change.added, "{url}: inserted words");
            assert_eq!(del, change.removed, "{url}: deleted words");
            let fields: Vec<&str> = d["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["field"].as_str().unwrap())
                .collect();
            assert_eq!(
                fields,
                change.fields.iter().map(String::as_str).collect::<Vec<_>>(),
                "{url}: fields"
            );

            // The unified form (no terminal: no colour) marks the same words.
            let out = run(&config, &["diff", &url]);
            let text = String::from_utf8_lossy(&out.stdout);
            for w in &change.added {
                assert!(
                    text.contains(w.as_str()),
                    "{url}: unified diff lacks {w}: {text}"
                );
            }
            assert!(text.contains("{+") || text.contains("[-"), "{text}");
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "the fixtures define at least four edits, checked {checked}"
    );

    // An article with one version has nothing to diff: a clear error, not an empty diff.
    let one = tinhuy.url(
        &expected("tinhuy")
            .live_on(2)
            .iter()
            .find(|a| a.changes_on(2).is_empty())
            .unwrap()
            .path,
    );
    let out = run(&config, &["diff", &one]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only one version"));
}
