//! Shared by `serve_e2e.rs` and `browser_e2e.rs`: a fixture store built by crawling fixture
//! servers with the real binary, a `luutru serve` child process, and a tiny hostile site
//! whose article carries script payloads in its title and body.
//!
//! Parts: [`crawl_two_days`] (the tinhuy/nukeviet store after the day-2 edits), [`Serve`]
//! (start on a loopback address, GET, JSON, graceful stop; killed on Drop), [`XssSite`]
//! (the hostile site: day switch, beacon counter), [`enc`] (a query value).
//!
//! Each test crate includes it with `#[path = "browser/support.rs"] mod support;` next to
//! `mod common;` and uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::http::{self, HttpResponse};
use crate::common::{crawl_table, fixture_site, luutru, write_config, FixtureServer, Robots};

/// A query-string value, percent-encoded.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Runs `luutru --config CONFIG ARGS…` (the shared harness's `run`).
pub use crate::common::run as cli;

/// Crawls `servers` (named by their fixture site) on day 1, switches them to day 2 and
/// crawls again with `--revisit-all`; returns the config path.
pub fn crawl_two_days(dir: &Path, servers: &[&FixtureServer]) -> PathBuf {
    let mut body = crawl_table(&[]);
    for s in servers {
        s.set_robots(Robots::Absent);
        body.push('\n');
        body.push_str(&fixture_site(s.site(), s).build());
    }
    let config = write_config(dir, &body);
    let out = cli(&config, &["crawl"]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "day-1 crawl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for s in servers {
        s.set_day(2);
    }
    let out = cli(&config, &["crawl", "--revisit-all"]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "day-2 crawl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    config
}

/// A running `luutru serve`.
pub struct Serve {
    child: Child,
    /// `http://ip:port`, no trailing slash.
    pub base: String,
    /// The line serve printed when it started listening.
    pub banner: String,
}

impl Serve {
    /// Starts `luutru --config CONFIG serve --addr IP:0` and waits for its banner line.
    pub fn start(config: &Path, ip: &str) -> Serve {
        let mut child = luutru()
            .arg("--config")
            .arg(config)
            .args(["serve", "--addr", &format!("{ip}:0")])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn luutru serve");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let banner = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if !line.is_empty() => line,
            _ => {
                let _ = child.kill();
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("luutru serve did not start: {err}");
            }
        };
        let base = banner
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in the banner: {banner}"))
            .trim_end_matches('/')
            .to_string();
        Serve {
            child,
            base,
            banner,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    pub fn get(&self, path_and_query: &str) -> HttpResponse {
        http::get(&self.url(path_and_query)).unwrap_or_else(|e| panic!("GET {path_and_query}: {e}"))
    }

    pub fn request(&self, method: &str, path_and_query: &str) -> HttpResponse {
        http::request(
            method,
            &self.url(path_and_query),
            &[],
            Duration::from_secs(10),
        )
        .unwrap_or_else(|e| panic!("{method} {path_and_query}: {e}"))
    }

    /// GET an API route: status and JSON body (checked to be JSON).
    pub fn json(&self, path_and_query: &str) -> (u16, serde_json::Value) {
        let r = self.get(path_and_query);
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{path_and_query}"
        );
        let v = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("{path_and_query}: not JSON ({e}): {}", r.text()));
        (r.status, v)
    }

    /// Sends SIGTERM and waits (at most 15 s) for the process to exit.
    pub fn stop(mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("luutru serve did not stop within 15 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Payloads the hostile article carries, as they must read once extracted (text).
pub const TITLE_PAYLOAD: &str = "<script>alert(\"xss-title\")</script>";
pub const IMG_PAYLOAD: &str = "<img src=x onerror=alert(1)>";
pub const BODY_PAYLOAD: &str = "<script>alert(\"xss-body\")</script>";
/// The word inserted on day 2, itself a payload.
pub const DAY2_PAYLOAD: &str = "<b onmouseover=alert(2)>";

/// A tiny site on `ip` whose one article has script payloads as text (escaped in the HTML,
/// so the extracted title and body contain them) and as live markup (a `<script>` and an
/// `<img onerror>` in the page, which only the raw view could ever run). Running payloads
/// mark the document (`data-xss`) and request `/beacon` from this site.
pub struct XssSite {
    pub addr: SocketAddr,
    day: Arc<AtomicU32>,
    beacons: Arc<AtomicUsize>,
}

pub const XSS_ARTICLE: &str = "/bai/1.html";

fn xss_article(base: &str, day: u32) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let extra = if day >= 2 {
        format!(" Thêm {} mới.", esc(DAY2_PAYLOAD))
    } else {
        String::new()
    };
    format!(
        r#"<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>{title} Tin Chí Linh</title>
<script>window.__xss = "head"; document.documentElement.setAttribute("data-xss", "head"); new Image().src = "{base}/beacon?head";</script>
</head><body>
<h1 class="tieu-de">{title} Tin {img} Chí Linh</h1>
<div class="ngay">31/03/2021 08:35</div>
<div class="noi-dung">
<p>Đoạn một nói về camera giám sát {body} ở thành phố Chí Linh.{extra}</p>
<p>Đoạn hai {img} và “trích dẫn” &amp; ký hiệu.</p>
<img src="x" onerror="document.documentElement.setAttribute('data-xss', 'onerror'); new Image().src = '{base}/beacon?onerror';">
<img src="{base}/beacon?img" alt="">
<script>window.__xss = "body"; document.documentElement.setAttribute("data-xss", "body"); new Image().src = "{base}/beacon?body";</script>
</div>
</body></html>"#,
        title = esc(TITLE_PAYLOAD),
        img = esc(IMG_PAYLOAD),
        body = esc(BODY_PAYLOAD),
    )
}

impl XssSite {
    pub fn start(ip: &str) -> XssSite {
        use axum::extract::State;
        use axum::http::{header, StatusCode, Uri};
        use axum::response::IntoResponse;

        let listener = std::net::TcpListener::bind((ip, 0)).expect("bind the hostile site");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("address");
        let day = Arc::new(AtomicU32::new(1));
        let beacons = Arc::new(AtomicUsize::new(0));
        let state = (
            Arc::clone(&day),
            Arc::clone(&beacons),
            format!("http://{addr}"),
        );
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for the hostile site");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                type S = (Arc<AtomicU32>, Arc<AtomicUsize>, String);
                async fn handle(State((day, beacons, base)): State<S>, uri: Uri) -> axum::response::Response {
                    let html = |s: String| {
                        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], s).into_response()
                    };
                    match uri.path() {
                        "/" => html(format!(
                            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Trang chủ</title></head>\
                             <body><a href=\"{XSS_ARTICLE}\">Tin Chí Linh</a></body></html>"
                        )),
                        XSS_ARTICLE => html(xss_article(&base, day.load(Ordering::SeqCst))),
                        "/beacon" => {
                            beacons.fetch_add(1, Ordering::SeqCst);
                            StatusCode::NO_CONTENT.into_response()
                        }
                        _ => StatusCode::NOT_FOUND.into_response(),
                    }
                }
                let app = axum::Router::new().fallback(handle).with_state(state);
                let _ = axum::serve(listener, app).await;
            });
        });
        XssSite { addr, day, beacons }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    pub fn set_day(&self, day: u32) {
        self.day.store(day, Ordering::SeqCst);
    }

    /// Requests of `/beacon` so far: a payload ran somewhere, or a page loaded from here.
    pub fn beacons(&self) -> usize {
        self.beacons.load(Ordering::SeqCst)
    }

    /// The `[[site]]` block for this site.
    pub fn site_toml(&self) -> String {
        format!(
            r#"[[site]]
name = "xss"
seeds = ["{base}/"]
allow = ['^{re}/']
article = ['/bai/\d+\.html$']
follow = []

[site.selectors]
title = "h1.tieu-de"
date = ".ngay"
body = ".noi-dung"
"#,
            base = self.base(),
            re = regex::escape(&self.base()),
        )
    }

    /// Crawls the site on day 1 and day 2 (two versions of the article); returns the
    /// config path.
    pub fn crawl_two_days(&self, dir: &Path) -> PathBuf {
        let config = write_config(dir, &format!("{}\n{}", crawl_table(&[]), self.site_toml()));
        for day in [1, 2] {
            self.set_day(day);
            let mut args = vec!["crawl"];
            if day == 2 {
                args.push("--revisit-all");
            }
            let out = cli(&config, &args);
            assert!(
                out.status.success(),
                "crawl of the hostile site, day {day}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        config
    }
}
