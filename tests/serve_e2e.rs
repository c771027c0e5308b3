//! `luutru serve` over fixture stores built by crawling fixture servers with the real
//! binary (issue 9): every API route answers what the CLI's json says (status codes,
//! fields, bad input), search agrees with the fixtures' own oracle with and without the
//! full-text index, the HTML pages render, every response carries the security headers,
//! the store stays locked while serving, and archived script payloads stay text on every
//! page while the raw page is sandboxed.

mod common;
#[path = "browser/support.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path;

use common::http::HttpResponse;
use common::{expected, fold, FixtureServer};
use serde_json::Value;
use support::{cli, crawl_two_days, enc, Serve, XssSite};

/// stdout of a successful CLI command, as JSON.
fn cli_json(config: &Path, args: &[&str]) -> Value {
    let out = cli(config, args);
    assert!(
        out.status.success(),
        "luutru {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("luutru {args:?}: {e}"))
}

/// The UI's policy headers.
fn check_headers(r: &HttpResponse, what: &str) {
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(!csp.contains("script-src"), "{what}: {csp}");
    assert!(!csp.contains("allow-scripts"), "{what}: {csp}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
}

fn get_html(serve: &Serve, path: &str, status: u16) -> String {
    let r = serve.get(path);
    assert_eq!(r.status, status, "{path}: {}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{path}"
    );
    check_headers(&r, path);
    r.text()
}

fn api(serve: &Serve, path: &str) -> Value {
    let r = serve.get(path);
    check_headers(&r, path);
    let (status, v) = serve.json(path);
    assert_eq!(status, 200, "{path}: {v}");
    v
}

/// A bad request: the status and a message naming what was wrong.
fn api_error(serve: &Serve, path: &str, status: u16, needle: &str) {
    let r = serve.get(path);
    check_headers(&r, path);
    let (got, v) = serve.json(path);
    assert_eq!(got, status, "{path}: {v}");
    assert_eq!(v["status"], status, "{path}: {v}");
    let msg = v["error"].as_str().unwrap_or_default();
    assert!(msg.contains(needle), "{path}: `{msg}` lacks `{needle}`");
}

fn urls(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|r| r["url"].as_str().expect("url").to_string())
        .collect()
}

fn set(v: Vec<String>) -> BTreeSet<String> {
    v.into_iter().collect()
}

/// Words of a list of tokens, punctuation left out (as the fixtures list them).
fn words(tokens: &Value) -> Vec<String> {
    tokens
        .as_array()
        .expect("a token list")
        .iter()
        .filter_map(|t| t.as_str())
        .flat_map(|t| {
            t.split(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What the CLI printed before serve took the store.
struct CliAnswers {
    query: Value,
    query_nukeviet: Value,
    query_march: Value,
    query_changed: Value,
    query_as_of: Value,
    /// `query --text Q --status live`, per query of [`QUERIES`].
    text: BTreeMap<&'static str, Value>,
    text_as_of: Value,
    /// The capture time of the edited article's first version.
    first_capture: String,
    show: Value,
    show_v1: Value,
    history: Value,
    diff: Value,
    runs: Value,
    run1: Value,
    sites: Value,
}

/// The canonical URL the store keeps for a fixture path (through any alias).
fn canonical(serve: &Serve, url: &str) -> String {
    let v = api(serve, &format!("/api/show?url={}", enc(url)));
    v["url"].as_str().expect("url").to_string()
}

/// Text searches checked against the fixtures' oracle and the CLI.
const QUERIES: [&str; 4] = [
    "camera giam sat",
    "CHI LINH",
    "hoi nghi",
    "\"thanh uy chi linh\"",
];

/// Text searches: the articles the fixtures' oracle names (live on day 2), the records the
/// CLI prints (in the same order when both use the index), matched words marked.
fn check_search(serve: &Serve, servers: &[&FixtureServer], cli: &CliAnswers, same_order: bool) {
    for q in QUERIES {
        let mut want = BTreeSet::new();
        for s in servers {
            for a in expected(s.site()).query(2, q) {
                want.insert(canonical(serve, &s.url(&a.path)));
            }
        }
        let got = api(
            serve,
            &format!("/api/query?q={}&status=live&limit=0", enc(q)),
        );
        assert_eq!(set(urls(&got)), want, "query {q}");
        if same_order {
            assert_eq!(got, cli.text[q], "query {q}: not what the CLI prints");
        } else {
            let by_url: BTreeMap<String, &Value> = cli.text[q]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r["url"].as_str().unwrap().to_string(), r))
                .collect();
            for r in got.as_array().unwrap() {
                assert_eq!(Some(&r), by_url.get(r["url"].as_str().unwrap()), "{q}");
            }
        }
        for item in got.as_array().unwrap() {
            let snippet = item["snippet"].as_str().expect("snippet");
            let marked: Vec<&str> = snippet
                .split('«')
                .skip(1)
                .filter_map(|s| s.split('»').next())
                .collect();
            assert!(!marked.is_empty(), "{q}: nothing marked in {snippet}");
            for m in marked {
                let m = fold(m);
                assert!(
                    m.split_whitespace().all(|w| fold(q).contains(w)),
                    "{q}: marked `{m}` in {snippet}"
                );
            }
        }
    }
    assert!(
        !urls(&api(serve, "/api/query?q=chi+linh&limit=0")).is_empty(),
        "the fixtures mention Chí Linh"
    );
    // Time travel: the older wording, found by it.
    let got = api(
        serve,
        &format!(
            "/api/query?q={}&as_of={}&limit=0",
            enc("cu tru o 19 xa"),
            enc(&cli.first_capture)
        ),
    );
    assert_eq!(got, cli.text_as_of);
    assert_eq!(got.as_array().unwrap().len(), 1, "{got}");
    assert_eq!(got[0]["version"], 1);
}

fn check_api(serve: &Serve, servers: &[&FixtureServer], cli: &CliAnswers, url: &str, single: &str) {
    // query: the same records as `luutru query --format json`, the same filters.
    let all = api(serve, "/api/query?limit=0");
    let by_url: BTreeMap<String, &Value> = cli
        .query
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["url"].as_str().unwrap().to_string(), r))
        .collect();
    assert_eq!(set(urls(&all)), by_url.keys().cloned().collect());
    for r in all.as_array().unwrap() {
        assert_eq!(Some(&r), by_url.get(r["url"].as_str().unwrap()), "record");
    }
    let dates: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["published"].as_str())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest publication first");
    assert_eq!(
        set(urls(&api(serve, "/api/query?site=nukeviet&limit=0"))),
        set(urls(&cli.query_nukeviet))
    );
    assert_eq!(
        set(urls(&api(
            serve,
            "/api/query?since=2021-03&until=2021-03&limit=0"
        ))),
        set(urls(&cli.query_march))
    );
    let mut gone_want = BTreeSet::new();
    for s in servers {
        for a in &expected(s.site()).articles {
            if a.on_day(1).is_live() && !a.on_day(2).is_live() {
                gone_want.insert(canonical(serve, &s.url(&a.path)));
            }
        }
    }
    assert_eq!(
        gone_want.len(),
        2,
        "the fixtures delete two articles on day 2"
    );
    let gone = api(serve, "/api/query?status=gone&limit=0");
    assert_eq!(set(urls(&gone)), gone_want);
    // Pages of a list are slices of the whole list.
    let first6 = urls(&api(serve, "/api/query?limit=6"));
    let mut paged = urls(&api(serve, "/api/query?limit=3"));
    paged.extend(urls(&api(serve, "/api/query?limit=3&offset=3")));
    assert_eq!(paged, first6);
    assert_eq!(first6.len(), 6);
    assert_eq!(
        set(urls(&api(serve, "/api/query?changed=1&limit=0"))),
        set(urls(&cli.query_changed))
    );
    let as_of = api(
        serve,
        &format!("/api/query?as_of={}&limit=0", enc(&cli.first_capture)),
    );
    let cli_as_of: BTreeMap<String, &Value> = cli
        .query_as_of
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["url"].as_str().unwrap().to_string(), r))
        .collect();
    assert_eq!(set(urls(&as_of)), cli_as_of.keys().cloned().collect());
    for r in as_of.as_array().unwrap() {
        assert_eq!(Some(&r), cli_as_of.get(r["url"].as_str().unwrap()), "as_of");
    }
    check_search(serve, servers, cli, false);

    // show, history, diff: exactly the CLI's json.
    assert_eq!(api(serve, &format!("/api/show?url={}", enc(url))), cli.show);
    assert_eq!(
        api(serve, &format!("/api/show?url={}&version=1", enc(url))),
        cli.show_v1
    );
    let alias = url.replace("CateID=5", "CateID=12");
    assert_eq!(
        api(serve, &format!("/api/show?url={}", enc(&alias)))["url"],
        cli.show["url"],
        "an alias finds the article"
    );
    assert_eq!(
        api(serve, &format!("/api/history?url={}", enc(url))),
        cli.history
    );
    assert_eq!(api(serve, &format!("/api/diff?url={}", enc(url))), cli.diff);
    assert_eq!(
        api(serve, &format!("/api/diff?url={}&from=1&to=2", enc(url))),
        cli.diff
    );
    // runs, sites: exactly the CLI's json.
    assert_eq!(api(serve, "/api/runs"), cli.runs);
    assert_eq!(api(serve, "/api/runs/1"), cli.run1);
    assert_eq!(api(serve, "/api/sites"), cli.sites);

    // changes: exactly the fixtures' day-2 edits and deletions.
    let changes = api(serve, "/api/changes?limit=0");
    let list = changes.as_array().unwrap();
    let mut want = 0;
    for s in servers {
        for (a, c) in expected(s.site()).changes_on(2) {
            let u = canonical(serve, &s.url(&a.path));
            if c.is_edit() {
                want += 1;
                let e = list
                    .iter()
                    .find(|e| e["url"] == u.as_str() && e["kind"] == "edited")
                    .unwrap_or_else(|| panic!("no edit listed for {u}: {changes}"));
                assert_eq!(e["from"], 1, "{u}");
                assert_eq!(e["version"], 2, "{u}");
                assert_eq!(e["fields"], serde_json::json!(c.fields), "{u}");
                assert_eq!(words(&e["added"]), c.added, "{u}: added");
                assert_eq!(words(&e["removed"]), c.removed, "{u}: removed");
                assert_eq!(e["site"], s.site());
            } else if c.status == 404 || c.status == 410 {
                want += 1;
                let e = list
                    .iter()
                    .find(|e| e["url"] == u.as_str() && e["kind"] == "gone")
                    .unwrap_or_else(|| panic!("no deletion listed for {u}: {changes}"));
                assert_eq!(e["status"], "gone");
            }
        }
    }
    assert_eq!(list.len(), want, "{changes}");
    assert!(
        want >= 6,
        "the fixtures change at least six articles on day 2"
    );
    let ats: Vec<&str> = list.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = ats.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ats, sorted, "newest change first");
    let tinhuy_only = api(serve, "/api/changes?site=tinhuy&limit=0");
    assert!(tinhuy_only
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["site"] == "tinhuy"));
    assert!(!tinhuy_only.as_array().unwrap().is_empty());
    assert_eq!(api(serve, "/api/changes?until=2001"), serde_json::json!([]));
    assert_eq!(
        api(serve, "/api/changes?limit=2").as_array().unwrap().len(),
        2
    );

    // Bad input: 400 with a message naming the problem; unknown things: 404.
    for (path, status, needle) in [
        ("/api/query?since=31/03/2021", 400, "since"),
        ("/api/query?until=2021-13", 400, "until"),
        ("/api/query?status=deleted", 400, "status"),
        ("/api/query?limit=abc", 400, "limit"),
        ("/api/query?limit=-1", 400, "limit"),
        ("/api/query?offset=x", 400, "offset"),
        ("/api/query?sort=random", 400, "sort"),
        ("/api/query?foo=1", 400, "foo"),
        ("/api/query?site=Bad%20Site", 400, "site"),
        ("/api/query?q=a&q=b", 400, "more than once"),
        ("/api/query?since=2022&until=2021", 400, "since"),
        ("/api/query?as_of=hom-qua", 400, "as_of"),
        ("/api/query?changed=maybe", 400, "changed"),
        ("/api/show", 400, "url"),
        (
            "/api/show?url=http%3A%2F%2F127.0.7.1%3A1%2Fnone",
            404,
            "no article",
        ),
        ("/api/history?url=nothing", 404, "no article"),
        ("/api/changes?since=yesterday", 400, "since"),
        ("/api/runs/999", 404, "999"),
        ("/api/runs/abc", 400, "abc"),
        ("/api/runs?limit=x", 400, "limit"),
        ("/api/sites?x=1", 400, "x"),
        ("/api/nope", 404, "/api/nope"),
        ("/api", 404, "/api"),
    ] {
        api_error(serve, path, status, needle);
    }
    api_error(
        serve,
        &format!("/api/show?url={}&version=99", enc(url)),
        404,
        "version 99",
    );
    api_error(
        serve,
        &format!("/api/show?url={}&version=0", enc(url)),
        400,
        "version",
    );
    api_error(
        serve,
        &format!("/api/diff?url={}&from=7", enc(url)),
        404,
        "version 7",
    );
    api_error(
        serve,
        &format!("/api/diff?url={}", enc(single)),
        400,
        "only one version",
    );

    // Read-only: GET and HEAD only.
    for (method, path) in [
        ("POST", "/api/query"),
        ("PUT", "/article"),
        ("DELETE", "/"),
        ("PATCH", "/api/runs/1"),
    ] {
        let r = serve.request(method, path);
        assert_eq!(r.status, 405, "{method} {path}");
        check_headers(&r, path);
    }
    // A request for another host name (a DNS-rebinding page) is refused.
    for path in ["/api/query", "/"] {
        let addr = serve.base.trim_start_matches("http://").to_string();
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .write_all(
                format!(
                    "GET {path} HTTP/1.1\r\nHost: evil.example:{}\r\nConnection: close\r\n\r\n",
                    addr.rsplit(':').next().unwrap()
                )
                .as_bytes(),
            )
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 421"), "{path}: {answer}");
        assert!(answer.contains("default-src 'none'"), "{answer}");
        assert!(answer.contains("evil.example"), "{answer}");
    }
    let head = serve.request("HEAD", "/");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

fn check_pages(serve: &Serve, url: &str, title: &str) {
    // The store keys the article by whichever of its URLs the crawl met first.
    let url = canonical(serve, url);
    let other = if url.contains("CateID=5") {
        "CateID=12"
    } else {
        "CateID=5"
    };
    let u = enc(&url);
    let home = get_html(serve, "/", 200);
    for needle in [r#"lang="vi""#, r#"name="q""#, "Tìm", r#"name="viewport""#] {
        assert!(home.contains(needle), "/ lacks {needle}");
    }
    let found = get_html(serve, "/?q=cu+tru+o+21+xa", 200);
    assert!(found.contains(&format!("/article?url={u}")), "{found}");
    assert!(found.contains("<mark>cư trú ở 21 xã</mark>"), "{found}");
    let page2 = get_html(serve, "/?page=2", 200);
    assert!(page2.contains(r#"rel="prev""#));
    let two = get_html(serve, "/?site=tinhuy&site=nukeviet&changed=1", 200);
    assert!(two.contains(r#"name="site" multiple"#), "{two}");
    assert!(two.contains(r#"<option value="nukeviet" selected>"#));
    assert!(two.contains(r#"name="changed" value="1" checked"#));
    assert!(two.contains("/article?url="), "changed articles are listed");
    get_html(serve, "/?page=0", 400);
    get_html(serve, "/?status=x", 400);

    let article = get_html(serve, &format!("/article?url={u}"), 200);
    for needle in [
        title,
        "Các phiên bản",
        "Phiên bản 2",
        "thay đổi: nội dung",
        &format!("/diff?url={u}&amp;from=1&amp;to=2"),
        &format!("/raw?url={u}&amp;version=1"),
        other,
    ] {
        assert!(article.contains(needle), "article page lacks {needle}");
    }
    let diff = get_html(serve, &format!("/diff?url={u}"), 200);
    assert!(diff.contains("<del>19</del>"), "{diff}");
    assert!(diff.contains("<ins>21</ins>"), "{diff}");
    assert!(diff.contains(r#"class="sides""#));
    get_html(serve, &format!("/diff?url={u}&from=9"), 404);

    let raw = get_html(serve, &format!("/raw?url={u}&version=1"), 200);
    assert!(raw.contains(r#"<iframe class="raw" sandbox="""#), "{raw}");
    assert!(raw.contains(&format!(r#"src="/raw/content?url={u}&amp;version=1""#)));
    let source = get_html(serve, &format!("/raw?url={u}&version=1&view=source"), 200);
    assert!(source.contains("cư trú ở 19 xã"));
    assert!(source.contains("&lt;/html&gt;") || source.contains("&lt;/HTML&gt;"));
    let content = serve.get(&format!("/raw/content?url={u}&version=1"));
    assert_eq!(content.status, 200);
    let csp = content.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("sandbox;") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(content.text().contains("cư trú ở 19 xã"));

    let sites = get_html(serve, "/sites", 200);
    assert!(sites.contains("tinhuy") && sites.contains("nukeviet"));
    let runs = get_html(serve, "/runs", 200);
    assert!(runs.contains(r#"href="/runs/1""#) && runs.contains(r#"href="/runs/2""#));
    let run = get_html(serve, "/runs/2", 200);
    assert!(run.contains("Lượt thu thập 2"));
    get_html(serve, "/runs/999", 404);
    get_html(serve, "/runs/x", 400);
    let changes = get_html(serve, "/changes", 200);
    assert!(changes.contains("<del>19</del>") && changes.contains("<ins>21</ins>"));
    get_html(serve, "/changes?since=hom-qua", 400);
    get_html(serve, "/khong-co", 404);
    let css = serve.get("/style.css");
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
}

#[test]
fn api_and_pages_answer_like_the_cli() {
    let tinhuy = FixtureServer::start("127.0.7.1", "tinhuy");
    let nukeviet = FixtureServer::start("127.0.7.2", "nukeviet");
    let servers = [&tinhuy, &nukeviet];
    let dir = tempfile::tempdir().unwrap();
    let config = crawl_two_days(dir.path(), &servers);

    let exp = expected("tinhuy");
    let (edited, _) = exp
        .changes_on(2)
        .into_iter()
        .find(|(_, c)| c.kind == "number")
        .expect("tinhuy changes a number on day 2");
    let url = tinhuy.url(&edited.path);
    let single = tinhuy.url(
        &exp.live_on(2)
            .iter()
            .find(|a| a.changes_on(2).is_empty() && a.first_day == 1)
            .expect("an unchanged article")
            .path,
    );
    let history = cli_json(&config, &["history", &url, "--format", "json"]);
    let first_capture = history[0]["fetched_at"]
        .as_str()
        .expect("fetched_at")
        .to_string();
    let mut text = BTreeMap::new();
    for q in QUERIES {
        text.insert(
            q,
            cli_json(
                &config,
                &["query", "--text", q, "--status", "live", "--format", "json"],
            ),
        );
    }
    let answers = CliAnswers {
        query: cli_json(&config, &["query", "--format", "json"]),
        query_nukeviet: cli_json(
            &config,
            &["query", "--site", "nukeviet", "--format", "json"],
        ),
        query_march: cli_json(
            &config,
            &[
                "query", "--since", "2021-03", "--until", "2021-03", "--format", "json",
            ],
        ),
        query_changed: cli_json(&config, &["query", "--changed", "--format", "json"]),
        query_as_of: cli_json(
            &config,
            &["query", "--as-of", &first_capture, "--format", "json"],
        ),
        text,
        text_as_of: cli_json(
            &config,
            &[
                "query",
                "--text",
                "cu tru o 19 xa",
                "--as-of",
                &first_capture,
                "--format",
                "json",
            ],
        ),
        first_capture: first_capture.clone(),
        show: cli_json(&config, &["show", &url, "--format", "json"]),
        show_v1: cli_json(
            &config,
            &["show", &url, "--version", "1", "--format", "json"],
        ),
        history,
        diff: cli_json(&config, &["diff", &url, "--format", "json"]),
        runs: cli_json(&config, &["runs", "--format", "json"]),
        run1: cli_json(&config, &["runs", "show", "1"]),
        sites: cli_json(&config, &["sites", "--format", "json"]),
    };
    assert!(answers.query.as_array().unwrap().len() > 6);
    assert!(!answers.query_march.as_array().unwrap().is_empty());

    // A lost index is rebuilt from the store at start-up (it is derived data).
    let store = dir.path().join("store");
    let _ = std::fs::remove_dir_all(store.join("index"));
    let serve = Serve::start(&config, "127.0.7.3");
    assert!(serve.banner.contains("full-text index"), "{}", serve.banner);
    check_api(&serve, &servers, &answers, &url, &single);
    check_pages(&serve, &url, &edited.title);

    // serve holds the store: other commands are refused and told who holds it.
    let out = cli(&config, &["query"]);
    assert_eq!(out.status.code(), Some(4), "{:?}", out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("serve"));
    // SIGTERM stops it cleanly and frees the store.
    assert!(serve.stop().success());
    assert!(cli(&config, &["query"]).status.success());

    // With an index that covers the store, search uses it, with the same answers.
    {
        let s = luutru::store::Store::open(&store, "test: build the index").unwrap();
        let mut index = luutru::search::SearchIndex::open(&store).unwrap();
        index.rebuild(&s).unwrap();
    }
    let serve = Serve::start(&config, "127.0.7.3");
    assert!(serve.banner.contains("full-text index"), "{}", serve.banner);
    check_search(&serve, &servers, &answers, true);
    let all = api(&serve, "/api/query?limit=0");
    assert_eq!(set(urls(&all)), set(urls(&answers.query)));
    assert_eq!(
        set(urls(&api(&serve, "/api/query?status=gone&limit=0"))).len(),
        2
    );
    check_pages(&serve, &url, &edited.title);
}

#[test]
fn archived_payloads_stay_text_and_raw_pages_are_sandboxed() {
    use support::{BODY_PAYLOAD, DAY2_PAYLOAD, IMG_PAYLOAD, TITLE_PAYLOAD, XSS_ARTICLE};
    let site = XssSite::start("127.0.7.4");
    let dir = tempfile::tempdir().unwrap();
    let config = site.crawl_two_days(dir.path());
    let serve = Serve::start(&config, "127.0.7.5");
    let url = site.url(XSS_ARTICLE);
    let u = enc(&url);

    // The payloads really are in the archive, as text.
    let show = api(&serve, &format!("/api/show?url={u}"));
    let title = show["title"].as_str().unwrap();
    assert!(title.contains(TITLE_PAYLOAD), "{title}");
    assert!(title.contains(IMG_PAYLOAD), "{title}");
    let body = show["body"].as_str().unwrap();
    assert!(body.contains(BODY_PAYLOAD), "{body}");
    assert!(body.contains(DAY2_PAYLOAD), "{body}");
    assert_eq!(show["versions"], 2);
    let beacons = site.beacons();

    let pages = [
        "/?q=camera+giam+sat".to_string(),
        "/?q=xss".to_string(),
        "/?site=xss".to_string(),
        format!("/article?url={u}"),
        format!("/article?url={u}&version=1"),
        format!("/diff?url={u}"),
        format!("/raw?url={u}"),
        format!("/raw?url={u}&version=1&view=source"),
        "/changes".to_string(),
    ];
    for path in &pages {
        let html = get_html(&serve, path, 200);
        let lower = html.to_lowercase();
        for tag in ["<script", "<img", "<b ", "onerror=alert(1)>", "javascript:"] {
            assert!(!lower.contains(tag), "{path}: `{tag}` is markup: {html}");
        }
        assert!(
            html.contains("&lt;script&gt;"),
            "{path}: the payload is not shown as text"
        );
        if !path.contains("view=source") {
            assert!(
                html.contains("onerror=alert(1)&gt;")
                    || path.starts_with("/?q=xss")
                    || path.starts_with("/diff")
                    || path.starts_with("/changes"),
                "{path}"
            );
        }
    }
    let article = get_html(&serve, &format!("/article?url={u}"), 200);
    assert!(
        article.contains("<title>&lt;script&gt;alert(&quot;xss-title&quot;)&lt;/script&gt;"),
        "{article}"
    );
    let diff = get_html(&serve, &format!("/diff?url={u}"), 200);
    assert!(diff.contains("<ins>"), "{diff}");
    assert!(diff.contains("&lt;b onmouseover=alert(2)&gt;"), "{diff}");

    // Payloads in the request itself are echoed as text too.
    for path in [
        "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_string(),
        "/article?url=%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_string(),
        "/%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_string(),
        "/?since=%3Cscript%3E".to_string(),
    ] {
        let r = serve.get(&path);
        check_headers(&r, &path);
        assert!(
            !r.text().to_lowercase().contains("<script"),
            "{path}: {}",
            r.text()
        );
    }

    // The raw page frames the archived HTML in a sandbox; the HTML itself comes with a
    // sandboxing policy, so even opened directly it cannot run script or load anything.
    let frame = get_html(&serve, &format!("/raw?url={u}"), 200);
    assert!(frame.contains(r#"sandbox="""#), "{frame}");
    assert!(!frame.contains("allow-scripts"));
    for version in ["1", "2"] {
        let r = serve.get(&format!("/raw/content?url={u}&version={version}"));
        assert_eq!(r.status, 200);
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.starts_with("sandbox;"), "{csp}");
        assert!(!csp.contains("allow-scripts") && !csp.contains("allow-same-origin"));
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(
            r.text().contains("<script>window.__xss"),
            "the raw page is the page as fetched"
        );
    }
    assert_eq!(
        site.beacons(),
        beacons,
        "serve never contacts the archived site"
    );
}
