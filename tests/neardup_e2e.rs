//! A newspaper republishing a Party portal article ("Theo Tỉnh ủy Hải Dương", small edits)
//! is linked as a near-duplicate on both sides and both articles are kept (issue 4).

mod common;

use common::{crawl_table, expected, fixture_site, run, write_config, FixtureServer, Robots};

fn show(config: &std::path::Path, url: &str) -> serde_json::Value {
    let out = run(config, &["show", url, "--format", "json"]);
    assert!(
        out.status.success(),
        "{url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn near_urls(v: &serde_json::Value) -> Vec<String> {
    v["near_duplicates"]
        .as_array()
        .expect("near_duplicates")
        .iter()
        .map(|n| n["url"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn republished_article_is_a_near_duplicate_on_both_sites() {
    let tinhuy = FixtureServer::start("127.0.6.3", "tinhuy");
    let baomoi = FixtureServer::start("127.0.6.4", "baomoi");
    for s in [&tinhuy, &baomoi] {
        s.set_robots(Robots::Absent);
    }
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "{}\n{}\n{}",
        crawl_table(&[]),
        fixture_site("tinhuy", &tinhuy).build(),
        fixture_site("baomoi", &baomoi).build()
    );
    let config = write_config(dir.path(), &body);
    let out = run(&config, &["crawl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut pairs = 0;
    for a in &expected("baomoi").articles {
        for other in &a.near_duplicates {
            let copy = baomoi.url(&a.path);
            let original = tinhuy.url(other.trim_start_matches("tinhuy:"));
            let copy_view = show(&config, &copy);
            let original_view = show(&config, &original);
            // Two separate articles, each pointing at the other.
            assert_ne!(copy_view["url"], original_view["url"]);
            assert_eq!(
                near_urls(&copy_view),
                vec![original_view["url"].as_str().unwrap().to_string()]
            );
            assert_eq!(
                near_urls(&original_view),
                vec![copy_view["url"].as_str().unwrap().to_string()]
            );
            let sim = copy_view["near_duplicates"][0]["similarity"]
                .as_f64()
                .unwrap();
            assert!((0.5..1.0).contains(&sim), "similarity {sim}");
            pairs += 1;
        }
    }
    assert!(pairs >= 1, "the fixtures define a republished pair");

    // Every other article has no near-duplicate: unrelated articles on the same topics
    // (Chí Linh, Covid-19, camera giám sát) are not linked.
    let out = run(&config, &["query", "--format", "json"]);
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let linked = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| !near_urls(v).is_empty())
        .count();
    assert_eq!(linked, 2 * pairs, "only the republished pair is linked");
}
