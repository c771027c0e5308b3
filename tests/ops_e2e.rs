//! Scheduled archival runs (issue 7): one crawl per store at a time, a killed crawl never
//! blocks the next, run records with the right counts, machine-readable logs.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{crawl_table, fixture_site, luutru, run, write_config, FixtureServer, Robots};

fn spawn(config: &std::path::Path, args: &[&str]) -> Child {
    luutru()
        .arg("--config")
        .arg(config)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn luutru")
}

/// Waits until the crawl has made at least `n` requests to the server.
fn wait_for_requests(server: &FixtureServer, n: usize) {
    let start = Instant::now();
    while server.log().len() < n {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "crawl never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn slow_config(dir: &std::path::Path, server: &FixtureServer, rate: &str) -> std::path::PathBuf {
    let body = format!(
        "{}\n{}",
        crawl_table(&[]),
        fixture_site("tinhuy", server)
            .line(&format!("rate = {rate}"))
            .build()
    );
    write_config(dir, &body)
}

#[test]
fn a_second_crawl_exits_with_the_holder_and_a_killed_crawl_never_blocks() {
    let server = FixtureServer::start("127.0.5.1", "tinhuy");
    server.set_robots(Robots::Absent);
    let dir = tempfile::tempdir().unwrap();
    let config = slow_config(dir.path(), &server, "4.0");

    let mut first = spawn(&config, &["crawl"]);
    wait_for_requests(&server, 2);
    let second = run(&config, &["crawl"]);
    assert_eq!(second.status.code(), Some(4), "second crawl: {second:?}");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("in use"), "{err}");
    assert!(
        err.contains(&first.id().to_string()),
        "names the holder's pid: {err}"
    );
    assert!(err.contains("crawl"), "names the holder's command: {err}");
    // A read command says why it cannot read, with the same code.
    let query = run(&config, &["query"]);
    assert_eq!(query.status.code(), Some(4), "{query:?}");

    first.kill().unwrap(); // SIGKILL: no cleanup at all
    first.wait().unwrap();
    let next = run(&config, &["crawl", "--json"]);
    assert!(
        matches!(next.status.code(), Some(0)),
        "crawl after kill -9: {}",
        String::from_utf8_lossy(&next.stderr)
    );
    let last = String::from_utf8_lossy(&next.stdout);
    let summary: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(summary["outcome"], "completed");
}

#[test]
fn runs_records_count_what_the_server_saw_including_an_interrupted_run() {
    let server = FixtureServer::start("127.0.5.2", "tinhuy");
    server.set_robots(Robots::Absent);
    let dir = tempfile::tempdir().unwrap();
    let config = slow_config(dir.path(), &server, "5.0");

    // Run 1: interrupted by SIGTERM.
    let child = spawn(&config, &["crawl"]);
    wait_for_requests(&server, 3);
    let status = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first_requests = server
        .log()
        .iter()
        .filter(|r| r.path() != "/robots.txt")
        .count();

    // Run 2 resumes and completes; run 3 finds everything fresh.
    server.clear_log();
    let out = run(&config, &["crawl"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second_requests = server
        .log()
        .iter()
        .filter(|r| r.path() != "/robots.txt")
        .count();
    let out = run(&config, &["crawl"]);
    assert_eq!(out.status.code(), Some(0));

    let out = run(&config, &["runs", "--format", "json"]);
    assert!(out.status.success());
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 3, "{runs:#?}");
    // Newest first.
    let (third, second, first) = (&runs[0], &runs[1], &runs[2]);
    assert_eq!(first["outcome"], "interrupted");
    assert_eq!(second["outcome"], "completed");
    assert_eq!(second["resumed"], true);
    assert_eq!(third["outcome"], "completed");
    // Pages finished before the interrupt plus pages fetched after it: every request the
    // server answered is a fetched page (a page in flight at SIGTERM is finished, not lost).
    assert_eq!(first["fetched"].as_u64().unwrap() as usize, first_requests);
    assert_eq!(
        second["fetched"].as_u64().unwrap() as usize,
        second_requests
    );
    let new_total =
        first["new_articles"].as_u64().unwrap() + second["new_articles"].as_u64().unwrap();
    let expected = common::expected("tinhuy").live_on(1).len() as u64;
    assert_eq!(
        new_total, expected,
        "every article stored once over the two runs"
    );
    assert_eq!(third["new_articles"], 0);
    assert!(first["config_digest"].as_str().unwrap().len() == 64);
    assert!(second["hosts"]
        .as_object()
        .unwrap()
        .values()
        .all(|h| h["requests"].as_u64().unwrap() > 0));

    // `runs show ID` gives the whole record; the table lists all three.
    let id = first["id"].as_u64().unwrap().to_string();
    let out = run(&config, &["runs", "show", &id]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["outcome"], "interrupted");
    let table = String::from_utf8_lossy(&run(&config, &["runs"]).stdout).to_string();
    assert!(
        table.contains("interrupted") && table.matches("completed").count() == 2,
        "{table}"
    );
    let sites = String::from_utf8_lossy(&run(&config, &["sites"]).stdout).to_string();
    assert!(
        sites.contains("tinhuy") && sites.contains(&format!(" {expected} ")),
        "{sites}"
    );
}

#[test]
fn json_logs_parse_and_quiet_prints_only_the_summary() {
    let server = FixtureServer::start("127.0.5.3", "tinhuy");
    server.set_robots(Robots::Absent);
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "{}\n{}",
        crawl_table(&[]),
        fixture_site("tinhuy", &server).build()
    );
    let config = write_config(dir.path(), &body);

    let out = run(&config, &["--log-format", "json", "crawl"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "a crawl logs something at info level");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v.get("level").is_some(), "{line}");
    }

    server.set_day(2);
    let out = run(&config, &["--quiet", "crawl", "--revisit-all"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "quiet run printed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("run "), "summary only: {stdout}");
}
