//! Polite and unbreakable (issue 6), end to end: the real `luutru` binary against fixture
//! servers that misbehave on purpose ([`Fault`], [`Robots`]). What the crawler did is read
//! from the server's request log, the `--json` summary, `query` and `verify`.
//!
//! Parts: robots.txt (rules for our token, `Crawl-delay`, a failing robots.txt), retries and
//! pacing (5xx, 429 + `Retry-After`), limits (hanging URL, huge body with the crawler's peak
//! memory measured, redirect loops and chains, redirects out of scope, non-HTML, calendar
//! traps, truncated bodies), decoding (gzip, malformed HTML), shutdown (SIGTERM, `verify`,
//! resume), and the exit code 2 for bad arguments and bad config values.
//!
//! Each test has its own loopback address (127.0.4.N) and its own temporary store, so they
//! run in parallel.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    crawl_table, expected, fixture_site, luutru, write_config, Fault, FixtureServer, LoggedRequest,
    Robots, SiteToml,
};
use serde_json::Value;

const A8601: &str = "/news/Pages/new.aspx?CateID=5&ItemID=8601";
const A8634: &str = "/news/Pages/new.aspx?CateID=5&ItemID=8634";
const A8702: &str = "/news/Pages/new.aspx?CateID=5&ItemID=8702";

// ------------------------------------------------------------------ helpers

/// Runs luutru to its end; a run that is not done after a minute is killed and fails the
/// test (a crawler that hangs must not hang the suite).
fn run(config: &Path, args: &[&str]) -> Output {
    run_within(config, args, Duration::from_secs(60))
}

fn run_within(config: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = spawn(config, args);
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll luutru") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("luutru {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn spawn(config: &Path, args: &[&str]) -> Child {
    luutru()
        .arg("--config")
        .arg(config)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn luutru")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `--json` summary: the last line of stdout.
fn summary(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no summary on stdout; stderr:\n{}", stderr(out)));
    serde_json::from_str(last).unwrap_or_else(|e| panic!("summary `{last}`: {e}"))
}

/// A crawl with `--json`; panics unless it exits with one of `codes`.
fn crawl_json(config: &Path, extra: &[&str], codes: &[i32]) -> Value {
    let mut args = vec!["crawl", "--json"];
    args.extend_from_slice(extra);
    let out = run(config, &args);
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "crawl exited {:?}, wanted one of {codes:?}; stderr:\n{}",
        out.status.code(),
        stderr(&out)
    );
    summary(&out)
}

/// `sites.<site>.reasons` of a summary as (reason, count) pairs.
fn reasons(summary: &Value, site: &str) -> Vec<(String, u64)> {
    summary["sites"][site]["reasons"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

fn reason_count(summary: &Value, site: &str, key: &str) -> u64 {
    reasons(summary, site)
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, n)| n)
        .sum()
}

/// Stored articles (`query --format jsonl`).
fn stored(config: &Path) -> Vec<Value> {
    let out = run(config, &["query", "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(0), "query: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("query line `{l}`: {e}")))
        .collect()
}

/// The stored article whose URL or an alias is `url`.
fn stored_article<'a>(articles: &'a [Value], url: &str) -> Option<&'a Value> {
    articles.iter().find(|a| {
        a["url"] == url
            || a["aliases"]
                .as_array()
                .is_some_and(|al| al.iter().any(|x| x == url))
    })
}

/// `[crawl]` with `overrides` plus these sites, written to `dir/crawl.toml`.
fn config(dir: &Path, overrides: &[(&str, &str)], sites: &[SiteToml]) -> PathBuf {
    let mut body = crawl_table(overrides);
    for s in sites {
        body.push('\n');
        body.push_str(&s.build());
    }
    write_config(dir, &body)
}

/// Requests other than for robots.txt, in arrival order.
fn page_requests(server: &FixtureServer) -> Vec<LoggedRequest> {
    server
        .log()
        .into_iter()
        .filter(|r| r.path() != "/robots.txt")
        .collect()
}

/// Seconds between consecutive requests.
fn gaps(reqs: &[LoggedRequest]) -> Vec<f64> {
    reqs.windows(2)
        .map(|w| w[1].at.duration_since(w[0].at).as_secs_f64())
        .collect()
}

/// The peak resident set of a finished command, in KiB: `/usr/bin/time -v` where present,
/// else VmHWM from /proc polled until the child exits.
fn run_measuring_memory(config: &Path, args: &[&str]) -> (Output, u64) {
    let bin = env!("CARGO_BIN_EXE_luutru");
    let time = Path::new("/usr/bin/time");
    if time.exists() {
        let out = std::process::Command::new(time)
            .arg("-v")
            .arg(bin)
            .arg("--config")
            .arg(config)
            .args(args)
            .output()
            .expect("run luutru under /usr/bin/time");
        let err = stderr(&out);
        let kib = err
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes):")
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
            .unwrap_or_else(|| panic!("no peak RSS in /usr/bin/time output:\n{err}"));
        return (out, kib);
    }
    let mut child = spawn(config, args);
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            for line in status.lines() {
                if let Some(v) = line.strip_prefix("VmHWM:") {
                    let kib = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak = peak.max(kib);
                }
            }
        }
        if child.try_wait().expect("poll child").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("collect child output");
    assert!(peak > 0, "could not read the crawler's memory from /proc");
    (out, peak)
}

fn wait_for_requests(server: &FixtureServer, n: usize) {
    let start = Instant::now();
    while page_requests(server).len() < n {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the crawl never made {n} requests"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The first line of stderr, which must name what is wrong.
fn first_line(out: &Output) -> String {
    stderr(out).lines().next().unwrap_or_default().to_string()
}

// ------------------------------------------------------------------ robots.txt

#[test]
fn robots_rules_for_our_token_keep_disallowed_paths_unrequested() {
    let server = FixtureServer::start("127.0.4.11", "tinhuy");
    // Everyone else is shut out; our token's group only closes two paths. If the token were
    // not matched, the `*` group would forbid everything.
    server.set_robots(Robots::Body(
        "User-agent: *\nDisallow: /\n\n\
         User-agent: luutru-test\n\
         Disallow: /news/Pages/list.aspx?CateID=7\n\
         Disallow: /news/Pages/new.aspx?CateID=5&ItemID=8634\n"
            .into(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[], &[fixture_site("tinhuy", &server)]);
    let s = crawl_json(&cfg, &[], &[0]);

    assert_eq!(
        server.hits("/robots.txt"),
        1,
        "robots.txt fetched once per run"
    );
    assert_eq!(server.hits("/news/Pages/list.aspx?CateID=7"), 0);
    assert_eq!(server.hits(A8634), 0);
    assert_eq!(server.hits("/"), 1);
    assert!(server.hits(A8601) >= 1, "allowed pages are crawled");
    assert_eq!(
        reason_count(&s, "tinhuy", "robots"),
        2,
        "both disallowed URLs were found and skipped: {s}"
    );
    let articles = stored(&cfg);
    assert!(stored_article(&articles, &server.url(A8634)).is_none());
    assert!(stored_article(&articles, &server.url(A8601)).is_some());
}

#[test]
fn robots_crawl_delay_spaces_requests_to_the_host() {
    let server = FixtureServer::start("127.0.4.12", "tinhuy");
    server.set_robots(Robots::Body(
        "User-agent: *\nCrawl-delay: 2\nDisallow: /_layouts/\n".into(),
    ));
    let dir = tempfile::tempdir().unwrap();
    // No configured limit (rate 0): the Crawl-delay alone must pace the host.
    let cfg = config(dir.path(), &[], &[fixture_site("tinhuy", &server)]);
    crawl_json(&cfg, &["--max-pages", "3"], &[0]);

    let log = server.log();
    assert_eq!(log.len(), 4, "robots.txt and three pages: {log:#?}");
    assert_eq!(log[0].path(), "/robots.txt");
    // robots.txt itself is the first request of the host's pace.
    for (i, gap) in gaps(&log).into_iter().enumerate() {
        assert!(
            gap >= 1.95,
            "gap {i} between requests is {gap:.3}s, Crawl-delay asks for 2s"
        );
    }
}

#[test]
fn robots_server_error_disallows_the_host_for_the_run() {
    let server = FixtureServer::start("127.0.4.13", "tinhuy");
    server.set_robots(Robots::Status(500));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[], &[fixture_site("tinhuy", &server)]);
    let out = run(&cfg, &["crawl"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "crawl: {}",
        stderr(&out)
    );
    let paths: Vec<String> = server
        .log()
        .iter()
        .map(|r| r.path_and_query.clone())
        .collect();
    assert_eq!(
        paths,
        vec!["/robots.txt".to_string()],
        "nothing else fetched"
    );
    // The text summary names the reason on the site's line.
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("tinhuy:"))
        .unwrap_or_else(|| panic!("no line for the site in the summary:\n{text}"));
    assert!(line.contains("robots: 1"), "{line}");
    assert!(stored(&cfg).is_empty());
}

// ------------------------------------------------------------------ retries and pacing

#[test]
fn server_errors_are_retried_with_backoff_until_the_page_is_stored() {
    let server = FixtureServer::start("127.0.4.14", "tinhuy");
    server.set_robots(Robots::Absent);
    server.add_fault(A8601, Fault::Status(500, 2));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[], &[fixture_site("tinhuy", &server)]);
    let s = crawl_json(&cfg, &[], &[0]);

    let tries: Vec<LoggedRequest> = server
        .log()
        .into_iter()
        .filter(|r| common::route_key(&r.path_and_query) == common::route_key(A8601))
        .collect();
    let statuses: Vec<Option<u16>> = tries.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(500), Some(200)]);
    let g = gaps(&tries);
    // Equal jitter: the n-th retry waits at least half of 0.5 s * 2^(n-1).
    assert!(g[0] >= 0.24 && g[1] >= 0.49, "backoff gaps {g:?}");
    assert_eq!(s["failed"], 0, "{s}");
    let articles = stored(&cfg);
    let a = stored_article(&articles, &server.url(A8601)).expect("8601 stored after retries");
    let exp = expected("tinhuy");
    let want = exp.articles.iter().find(|a| a.path == A8601).unwrap();
    assert_eq!(a["title"], want.title.as_str());
}

#[test]
fn retry_after_is_honoured_and_the_host_slows_down() {
    let server = FixtureServer::start("127.0.4.15", "tinhuy");
    server.set_robots(Robots::Absent);
    server.add_fault("/", Fault::RetryAfter(2));
    let dir = tempfile::tempdir().unwrap();
    let site = fixture_site("tinhuy", &server).line("rate = 4.0");
    let cfg = config(dir.path(), &[], &[site]);
    let s = crawl_json(&cfg, &["--max-pages", "3"], &[0]);
    assert_eq!(s["failed"], 0, "{s}");

    let reqs = page_requests(&server);
    assert_eq!(reqs.len(), 4, "{reqs:#?}");
    assert_eq!(reqs[0].path(), "/");
    assert_eq!(reqs[0].status, Some(429));
    assert_eq!(reqs[1].path(), "/", "the home page is retried first");
    assert_eq!(reqs[1].status, Some(200));
    let wait = reqs[1].at.duration_since(reqs[0].at).as_secs_f64();
    assert!(wait >= 1.95, "retried {wait:.3}s after a Retry-After: 2");
    // rate = 4.0 is 0.25 s between requests; after the 429 the host runs at half that
    // pace (0.5 s) and recovers by 10% per success, so the next gaps stay near 0.45 s.
    let after: Vec<f64> = gaps(&reqs[1..]);
    assert!(
        after.iter().all(|g| *g >= 0.38),
        "gaps after the 429 {after:?} do not show a slower pace than 0.25 s"
    );

    // The slowed pace is kept in the store: the next run (resuming this one) starts from it
    // (2.66 requests/s after three recoveries: 0.376 s), not from the configured 0.25 s.
    server.clear_log();
    crawl_json(&cfg, &["--max-pages", "2"], &[0]);
    let log = server.log();
    assert_eq!(log[0].path(), "/robots.txt", "{log:#?}");
    let first = gaps(&log[..2])[0];
    assert!(
        first >= 0.35,
        "the next run started at {first:.3}s between requests, not at the slowed pace"
    );
}

// ------------------------------------------------------------------ limits

#[test]
fn a_hanging_url_times_out_and_the_run_still_finishes_promptly() {
    let server = FixtureServer::start("127.0.4.16", "tinhuy");
    server.set_robots(Robots::Absent);
    server.add_fault(A8634, Fault::Hang);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &[("timeout", "\"2s\""), ("max_retries", "1")],
        &[fixture_site("tinhuy", &server)],
    );
    let started = Instant::now();
    let out = run_within(&cfg, &["crawl", "--json"], Duration::from_secs(30));
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let s = summary(&out);
    assert!(took < Duration::from_secs(15), "the run took {took:?}");

    assert_eq!(
        server.hits(A8634),
        2,
        "a timeout is retried (max_retries = 1)"
    );
    assert_eq!(reason_count(&s, "tinhuy", "timeout"), 1, "{s}");
    assert_eq!(s["failed"], 1, "{s}");
    let articles = stored(&cfg);
    assert!(stored_article(&articles, &server.url(A8634)).is_none());
    assert!(stored_article(&articles, &server.url(A8601)).is_some());
}

#[test]
fn a_huge_body_is_aborted_at_max_body_and_memory_stays_low() {
    let server = FixtureServer::start("127.0.4.17", "tinhuy");
    server.set_robots(Robots::Absent);
    server.add_fault(A8634, Fault::Huge(50 * 1024 * 1024));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &[("max_body", "\"1MiB\"")],
        &[fixture_site("tinhuy", &server)],
    );
    let (out, peak_kib) = run_measuring_memory(&cfg, &["crawl", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let s = summary(&out);
    assert_eq!(reason_count(&s, "tinhuy", "too-large"), 1, "{s}");
    assert_eq!(server.hits(A8634), 1, "a body over max_body is not retried");
    eprintln!("crawler peak resident memory: {peak_kib} KiB");
    // Buffering the 50 MB body (or any large part of it) would show here.
    assert!(
        peak_kib < 100 * 1024,
        "peak resident memory {} MiB",
        peak_kib / 1024
    );
    // Nothing of the aborted body is archived: the store holds a few small pages only.
    assert!(
        s["bytes_stored"].as_u64().unwrap() < 1024 * 1024,
        "{}",
        s["bytes_stored"]
    );
    assert!(stored_article(&stored(&cfg), &server.url(A8634)).is_none());
}

#[test]
fn redirect_loops_long_chains_and_redirects_out_of_scope_stop() {
    let server = FixtureServer::start("127.0.4.18", "tinhuy");
    let other = FixtureServer::start("127.0.4.19", "tinhuy");
    server.set_robots(Robots::Absent);
    other.set_robots(Robots::Absent);
    server.add_fault("/vong-lap", Fault::RedirectLoop);
    for i in 0..15 {
        server.add_fault(
            &format!("/chuyen/{i}"),
            Fault::RedirectTo(format!("/chuyen/{}", i + 1)),
        );
    }
    server.add_fault("/sang-trang-khac", Fault::RedirectTo(other.url(A8601)));
    let dir = tempfile::tempdir().unwrap();
    let site = SiteToml::new("tinhuy", &server)
        .article(&["/bai-viet/\\d+$"])
        .seeds(&[
            &server.url("/vong-lap"),
            &server.url("/chuyen/0"),
            &server.url("/sang-trang-khac"),
        ]);
    let cfg = config(dir.path(), &[], &[site]);
    let s = crawl_json(&cfg, &[], &[1]);

    let looped = server.hits_path("/vong-lap");
    assert!((2..=11).contains(&looped), "loop requests: {looped}");
    let chain: usize = (0..=15)
        .map(|i| server.hits_path(&format!("/chuyen/{i}")))
        .sum();
    assert!(
        (10..=11).contains(&chain),
        "a chain is followed for at most 10 hops: {chain} requests"
    );
    assert_eq!(server.hits_path("/chuyen/11"), 0);
    assert!(
        other.log().is_empty(),
        "the other domain was contacted: {:#?}",
        other.log()
    );
    assert_eq!(reason_count(&s, "tinhuy", "redirect loop"), 1, "{s}");
    assert_eq!(reason_count(&s, "tinhuy", "redirects"), 1, "{s}");
    assert_eq!(reason_count(&s, "tinhuy", "out of scope"), 1, "{s}");
    assert_eq!(s["failed"], 2, "{s}");
    assert_eq!(s["skipped"], 1, "{s}");
}

#[test]
fn non_html_responses_are_skipped_with_their_content_type() {
    let server = FixtureServer::start("127.0.4.20", "tinhuy");
    server.set_robots(Robots::Absent);
    server.add_fault(
        "/tai-lieu/bao-cao.pdf",
        Fault::ContentType("application/pdf".into()),
    );
    // An article URL answering with a PDF is not a page either.
    server.add_fault(A8702, Fault::ContentType("application/pdf".into()));
    let dir = tempfile::tempdir().unwrap();
    let mut site = fixture_site("tinhuy", &server);
    site.seeds.push(server.url("/tai-lieu/bao-cao.pdf"));
    let cfg = config(dir.path(), &[], &[site]);
    let s = crawl_json(&cfg, &[], &[0]);

    assert_eq!(server.hits("/tai-lieu/bao-cao.pdf"), 1);
    assert_eq!(server.hits(A8702), 1);
    let pdf: u64 = reasons(&s, "tinhuy")
        .into_iter()
        .filter(|(k, _)| k.contains("application/pdf"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(pdf, 2, "skips are grouped under their content type: {s}");
    assert_eq!(s["skipped"], 2, "{s}");
    assert_eq!(s["failed"], 0, "{s}");
    assert!(stored_article(&stored(&cfg), &server.url(A8702)).is_none());
}

#[test]
fn a_calendar_trap_is_cut_off_at_max_query_variants() {
    let server = FixtureServer::start("127.0.4.21", "tinhuy");
    server.set_robots(Robots::Absent);
    server.add_fault("/lich-cong-tac", Fault::Trap);
    let dir = tempfile::tempdir().unwrap();
    let site = SiteToml::new("tinhuy", &server)
        .seeds(&[&server.url("/lich-cong-tac")])
        .article(&["/bai-viet/\\d+$"])
        .follow(&["/lich-cong-tac"])
        .line("max_depth = 1000");
    // max_pages is only a safety net so that a missing guard fails instead of running away.
    let cfg = config(
        dir.path(),
        &[("max_query_variants", "20"), ("max_pages", "300")],
        &[site],
    );
    let s = crawl_json(&cfg, &[], &[0]);

    let hits = server.hits_path("/lich-cong-tac");
    assert!(
        (15..=21).contains(&hits),
        "the trap path got {hits} requests; at most 1 + 20 query variants allowed"
    );
    assert!(reason_count(&s, "tinhuy", "trap") > 0, "{s}");
    let queries: BTreeSet<String> = page_requests(&server)
        .iter()
        .map(|r| r.path_and_query.clone())
        .collect();
    assert_eq!(queries.len(), hits, "no variant fetched twice");
}

#[test]
fn a_truncated_body_fails_is_retried_and_is_never_stored() {
    let server = FixtureServer::start("127.0.4.22", "tinhuy");
    server.set_robots(Robots::Absent);
    server.add_fault(A8634, Fault::Truncated);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &[("max_retries", "1")],
        &[fixture_site("tinhuy", &server)],
    );
    let s = crawl_json(&cfg, &[], &[1]);

    assert_eq!(server.hits(A8634), 2, "retried once (max_retries = 1)");
    assert_eq!(reason_count(&s, "tinhuy", "truncated"), 1, "{s}");
    let articles = stored(&cfg);
    assert!(
        stored_article(&articles, &server.url(A8634)).is_none(),
        "half a page was stored"
    );
    assert!(stored_article(&articles, &server.url(A8601)).is_some());
    let show = run(&cfg, &["show", &server.url(A8634)]);
    assert_ne!(show.status.code(), Some(0), "show finds no such article");
    let verify = run(&cfg, &["verify"]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn malformed_html_and_gzip_bodies_are_extracted() {
    // Old ASP pages: tables, unclosed tags, windows-1258 declared only in a <meta> or
    // nowhere. Every listing and article comes gzip-compressed whatever we asked, so the
    // charset must be found after the content-coding is undone.
    let server = FixtureServer::start("127.0.4.23", "legacy");
    server.set_robots(Robots::Absent);
    server.add_fault("/tintuc/chitiet.asp", Fault::Gzip);
    server.add_fault("/tintuc/default.asp", Fault::Gzip);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[], &[fixture_site("legacy", &server)]);
    let s = crawl_json(&cfg, &[], &[0]);
    assert_eq!(s["failed"], 0, "{s}");

    let articles = stored(&cfg);
    let exp = expected("legacy");
    for want in exp.live_on(1) {
        assert!(
            server.hits(&want.path) >= 1,
            "{} never requested",
            want.path
        );
        let a = stored_article(&articles, &server.url(&want.path))
            .unwrap_or_else(|| panic!("{} not stored: {articles:#?}", want.path));
        // Twins that differ only in tone-mark placement are one article (whichever came
        // first), so compare folded text.
        let title = a["title"].as_str().unwrap_or_default();
        assert_eq!(
            common::fold(title),
            common::fold(&want.title),
            "{}",
            want.path
        );
        let body = common::fold(a["body"].as_str().unwrap_or_default());
        for p in &want.paragraphs {
            assert!(
                body.contains(&common::fold(p)),
                "{}: body lacks `{p}`:\n{body}",
                want.path
            );
        }
    }
}

// ------------------------------------------------------------------ shutdown

#[test]
fn sigterm_interrupts_verify_passes_and_the_next_run_resumes() {
    let server = FixtureServer::start("127.0.4.24", "tinhuy");
    server.set_robots(Robots::Absent);
    let dir = tempfile::tempdir().unwrap();
    let site = fixture_site("tinhuy", &server).line("rate = 3.0");
    let cfg = config(dir.path(), &[], &[site]);

    let child = spawn(&cfg, &["crawl", "--json"]);
    wait_for_requests(&server, 4);
    sigterm(&child);
    let out = child.wait_with_output().expect("wait for the crawl");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let first = summary(&out);
    assert_eq!(first["interrupted"], true, "{first}");
    assert_eq!(first["outcome"], "interrupted", "{first}");
    assert!(first["queued"].as_u64().unwrap() > 0, "{first}");
    let first_pages: BTreeSet<String> = page_requests(&server)
        .iter()
        .map(|r| common::route_key(&r.path_and_query))
        .collect();

    let verify = run(&cfg, &["verify"]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "verify after SIGTERM: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        stderr(&verify)
    );

    server.clear_log();
    let second = crawl_json(&cfg, &[], &[0, 1]);
    assert_eq!(second["resumed"], true, "{second}");
    assert_eq!(second["outcome"], "completed", "{second}");
    assert_eq!(second["queued"], 0, "{second}");
    let second_pages: BTreeSet<String> = page_requests(&server)
        .iter()
        .map(|r| common::route_key(&r.path_and_query))
        .collect();
    assert!(!second_pages.is_empty(), "the second run had work left");
    let again: Vec<&String> = first_pages.intersection(&second_pages).collect();
    assert!(again.is_empty(), "fetched again after resuming: {again:?}");
    let total = first["new_articles"].as_u64().unwrap() + second["new_articles"].as_u64().unwrap();
    assert_eq!(total as usize, expected("tinhuy").live_on(1).len());
}

fn sigterm(child: &Child) {
    let status = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn a_second_sigterm_exits_at_once_and_the_store_stays_usable() {
    let server = FixtureServer::start("127.0.4.29", "tinhuy");
    server.set_robots(Robots::Absent);
    // The article in flight never answers: the first signal waits for it (grace period),
    // the second must not.
    server.add_fault(A8601, Fault::Hang);
    let dir = tempfile::tempdir().unwrap();
    let site = fixture_site("tinhuy", &server).line("rate = 20.0");
    let cfg = config(dir.path(), &[("timeout", "\"60s\"")], &[site]);

    let mut child = spawn(&cfg, &["crawl", "--json"]);
    let start = Instant::now();
    while server.hits(A8601) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "8601 never requested"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    sigterm(&child);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().expect("poll the crawl").is_none(),
        "the first signal lets the page in flight finish (grace period)"
    );
    let second = Instant::now();
    sigterm(&child);
    let out = child.wait_with_output().expect("wait for the crawl");
    let took = second.elapsed();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        took < Duration::from_secs(3),
        "exited {took:?} after the second signal"
    );

    server.clear_faults();
    let verify = run(&cfg, &["verify"]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "verify after a second signal: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        stderr(&verify)
    );
    server.clear_log();
    let next = crawl_json(&cfg, &[], &[0]);
    assert_eq!(next["resumed"], true, "{next}");
    assert_eq!(next["outcome"], "completed", "{next}");
    assert_eq!(
        server.hits("/"),
        0,
        "the home page was done before the signal"
    );
    let articles = stored(&cfg);
    assert!(
        stored_article(&articles, &server.url(A8601)).is_some(),
        "the page cut off by the second signal is fetched by the next run"
    );
}

// ------------------------------------------------------------------ bad input

#[test]
fn bad_command_line_arguments_exit_2_naming_the_problem() {
    let server = FixtureServer::start("127.0.4.25", "tinhuy");
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[], &[fixture_site("tinhuy", &server)]);
    let cases: [(&[&str], &[&str]); 5] = [
        (&["crawl", "--bogus"], &["--bogus"]),
        (&["crawl", "--max-pages", "abc"], &["--max-pages", "abc"]),
        (&["crawl", "--site", "khong-co"], &["khong-co"]),
        (&["query", "--since", "2021-13-45"], &["2021-13-45"]),
        (&["query", "--until", "hôm qua"], &["hôm qua"]),
    ];
    for (args, names) in cases {
        let out = run(&cfg, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let line = first_line(&out);
        assert!(line.starts_with("error:"), "{args:?}: first line `{line}`");
        for n in names {
            assert!(line.contains(n), "{args:?}: `{line}` does not name `{n}`");
        }
        assert!(
            !dir.path().join("store").exists(),
            "{args:?}: a bad argument must not create the store"
        );
    }
    assert!(server.log().is_empty(), "nothing was fetched");
}

#[test]
fn bad_config_values_exit_2_naming_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let site = "[[site]]\nname = \"tinhuy\"\nseeds = [\"http://127.0.4.26:9/\"]\n\
                allow = ['^http://127\\.0\\.4\\.26:9/']\narticle = []\nfollow = []\n";
    let cases = [
        ("rate", "-1", "-1"),
        ("timeout", "\"soon\"", "soon"),
        ("max_body", "\"lots\"", "lots"),
    ];
    for (key, value, shown) in cases {
        let cfg = write_config(
            dir.path(),
            &format!("{}\n{site}", crawl_table(&[(key, value)])),
        );
        let out = run(&cfg, &["crawl"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{key} = {value}: {}",
            stderr(&out)
        );
        let err = stderr(&out);
        let line = err
            .lines()
            .find(|l| l.contains(key))
            .unwrap_or_else(|| panic!("{key} = {value}: no line names `{key}`:\n{err}"));
        assert!(
            line.contains(shown),
            "{key} = {value}: `{line}` does not show the value"
        );
        assert!(
            !dir.path().join("store").exists(),
            "{key} = {value}: a bad config must not create the store"
        );
    }
}

// ------------------------------------------------------------------ summary

#[test]
fn the_summary_groups_failures_by_reason_per_site() {
    let tinhuy = FixtureServer::start("127.0.4.27", "tinhuy");
    let nukeviet = FixtureServer::start("127.0.4.28", "nukeviet");
    tinhuy.set_robots(Robots::Absent);
    tinhuy.add_fault(A8634, Fault::Status(500, 100));
    tinhuy.add_fault(A8702, Fault::ContentType("application/pdf".into()));
    let a2856 =
        "/news/nong-nghiep-nong-thon/hoi-nghi-tong-ket-san-xuat-vu-lua-mua-nam-2022-2856.html";
    let a2863 = "/news/tin-tuc-su-kien/nang-cap-duong-tinh-392-doan-qua-huyen-thanh-mien-2863.html";
    nukeviet.set_robots(Robots::Body(format!("User-agent: *\nDisallow: {a2856}\n")));
    nukeviet.add_fault(a2863, Fault::Status(503, 100));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &[("max_retries", "0")],
        &[
            fixture_site("tinhuy", &tinhuy),
            fixture_site("nukeviet", &nukeviet),
        ],
    );
    let s = crawl_json(&cfg, &[], &[1]);

    let t = reasons(&s, "tinhuy");
    assert_eq!(
        t.iter().map(|(k, n)| (k.as_str(), *n)).collect::<Vec<_>>(),
        vec![("content-type application/pdf", 1), ("http 500", 1)],
        "{s}"
    );
    assert_eq!(s["sites"]["tinhuy"]["failed"], 1, "{s}");
    assert_eq!(s["sites"]["tinhuy"]["skipped"], 1, "{s}");
    let n = reasons(&s, "nukeviet");
    assert_eq!(
        n.iter().map(|(k, n)| (k.as_str(), *n)).collect::<Vec<_>>(),
        vec![("http 503", 1), ("robots", 1)],
        "{s}"
    );
    assert_eq!(s["sites"]["nukeviet"]["failed"], 1, "{s}");
    assert_eq!(s["failed"], 2, "{s}");
    assert_eq!(nukeviet.hits(a2856), 0);
}
