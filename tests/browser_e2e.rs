//! `luutru serve` in a real browser (issue 9): headless Chromium, driven over the DevTools
//! protocol, searches the fixture store without diacritics, opens the article, opens the
//! diff and finds the inserted and deleted words marked; the hostile fixture article's
//! payloads run nowhere (the article page, the raw page, and the archived HTML opened on
//! its own). Screenshots are saved under `target/tmp/browser-e2e/`.
//!
//! Needs `/usr/bin/chromium` (Debian's `chromium`, installed by `.ci/run`; another binary
//! with `LUUTRU_CHROMIUM`). Without it the test says why and passes without running.
//!
//! Parts: [`Chromium`] (the browser process, its profile, the DevTools port), [`Page`] (a
//! minimal DevTools client over one WebSocket: call, evaluate, wait, type, screenshot) and
//! the test.

mod common;
#[path = "browser/support.rs"]
mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{crawl_table, expected, fixture_site, write_config, FixtureServer, Robots};
use serde_json::{json, Value};
use support::{cli, enc, Serve, XssSite, TITLE_PAYLOAD, XSS_ARTICLE};

const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// A phone's viewport: the UI must work there.
const WIDTH: u32 = 412;
const HEIGHT: u32 = 915;

/// A headless Chromium with a throw-away profile, killed on Drop.
struct Chromium {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts the browser, or says why it cannot.
    fn start() -> Result<Chromium, String> {
        let bin = std::env::var("LUUTRU_CHROMIUM").unwrap_or_else(|_| DEFAULT_CHROMIUM.into());
        if !Path::new(&bin).exists() {
            return Err(format!(
                "{bin} not found (install Debian's `chromium` package, as .ci/run does, or set LUUTRU_CHROMIUM)"
            ));
        }
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = std::fs::File::create(profile.path().join("chromium.log"))
            .map_err(|e| e.to_string())?;
        let child = Command::new(&bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-default-apps",
                "--no-first-run",
                "--no-default-browser-check",
                "--no-pings",
                "--mute-audio",
                // Nothing resolves but loopback addresses: the pages under test are on
                // 127.x.y.z, and nothing else may be contacted.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.*",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                &format!("--window-size={WIDTH},{HEIGHT}"),
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {bin}: {e}"))?;
        let mut chromium = Chromium {
            child,
            port: 0,
            _profile: profile,
        };
        // Chromium writes the port it picked into the profile.
        let port_file = chromium._profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u16>().ok()))
            {
                chromium.port = port;
                return Ok(chromium);
            }
            if let Ok(Some(status)) = chromium.child.try_wait() {
                let log = std::fs::read_to_string(chromium._profile.path().join("chromium.log"))
                    .unwrap_or_default();
                return Err(format!("{bin} exited at start ({status}): {log}"));
            }
            if Instant::now() > deadline {
                return Err(format!("{bin} did not open its DevTools port within 30 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The page target's DevTools connection.
    fn page(&self) -> Page {
        let list = common::http::get(&format!("http://127.0.0.1:{}/json/list", self.port))
            .expect("DevTools target list");
        let targets: Value = serde_json::from_slice(&list.body).expect("target list is JSON");
        let ws = targets
            .as_array()
            .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .unwrap_or_else(|| panic!("no page target: {targets}"))
            .to_string();
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("DevTools socket");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("read timeout");
        let (socket, _) = tungstenite::client(ws.as_str(), stream).expect("DevTools handshake");
        Page { socket, next: 0 }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One page, driven over the DevTools protocol.
struct Page {
    socket: tungstenite::WebSocket<TcpStream>,
    next: u64,
}

impl Page {
    /// Sends a command and returns its result (events in between are dropped).
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        self.socket
            .send(tungstenite::Message::text(msg))
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        loop {
            let m = self
                .socket
                .read()
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            let tungstenite::Message::Text(text) = m else {
                continue;
            };
            let v: Value = serde_json::from_str(text.as_str()).expect("DevTools sends JSON");
            if v["id"] != id {
                continue;
            }
            if !v["error"].is_null() {
                panic!("{method}: {}", v["error"]);
            }
            return v["result"].clone();
        }
    }

    /// Evaluates `expr` in the page and returns its value.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        );
        if !r["exceptionDetails"].is_null() {
            panic!("{expr}: {}", r["exceptionDetails"]);
        }
        r["result"]["value"].clone()
    }

    /// Waits until the page at `path` (and a query containing `query`) has loaded.
    fn wait_loaded(&mut self, path: &str, query: &str) {
        let expr = format!(
            "location.protocol === 'http:' && document.readyState === 'complete' && location.pathname === {} && location.search.includes({})",
            json!(path),
            json!(query)
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.eval(&expr) != json!(true) {
            assert!(
                Instant::now() < deadline,
                "page {path} ({query}) did not load; at {}",
                self.eval("location.href")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
    }

    /// Clicks the element `selector` matches (it must exist).
    fn click(&mut self, selector: &str) {
        let done = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; e.click(); return true; }})()",
            json!(selector)
        ));
        assert_eq!(done, json!(true), "nothing matches {selector}");
    }

    /// Focuses `selector` and types `text` as keyboard input.
    fn type_into(&mut self, selector: &str, text: &str) {
        let focused = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return 'no such element'; e.focus(); e.value = ''; return document.activeElement === e || 'not focused'; }})()",
            json!(selector)
        ));
        assert_eq!(focused, json!(true), "cannot focus {selector}");
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// A full-page PNG.
    fn screenshot(&mut self, path: &Path) {
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let height = metrics["cssContentSize"]["height"]
            .as_f64()
            .unwrap_or(f64::from(HEIGHT))
            .ceil();
        let shot = self.call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": { "x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1 },
            }),
        );
        let png = data_encoding::BASE64
            .decode(shot["data"].as_str().expect("screenshot data").as_bytes())
            .expect("base64 PNG");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        println!("screenshot: {}", path.display());
    }

    /// The attributes of the document's root element, read through the DOM domain (no
    /// script needed, so it works on pages that may run none).
    fn root_attributes(&mut self) -> Vec<String> {
        let doc = self.call("DOM.getDocument", json!({ "depth": 1 }));
        let html = doc["root"]["children"]
            .as_array()
            .and_then(|c| c.iter().find(|n| n["nodeName"] == "HTML"))
            .cloned()
            .unwrap_or_else(|| panic!("no <html> node: {doc}"));
        html["attributes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-e2e");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

#[test]
fn search_article_and_diff_in_headless_chromium() {
    let chromium = match Chromium::start() {
        Ok(c) => c,
        Err(why) => {
            println!("SKIPPED browser_e2e: {why}");
            eprintln!("SKIPPED browser_e2e: {why}");
            return;
        }
    };

    // A store of the tinhuy fixture after its day-2 edits, and the hostile article.
    let tinhuy = FixtureServer::start("127.0.7.6", "tinhuy");
    tinhuy.set_robots(Robots::Absent);
    let xss = XssSite::start("127.0.7.8");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "{}\n{}\n{}",
            crawl_table(&[]),
            fixture_site("tinhuy", &tinhuy).build(),
            xss.site_toml()
        ),
    );
    assert!(cli(&config, &["crawl"])
        .status
        .code()
        .is_some_and(|c| c <= 1));
    tinhuy.set_day(2);
    xss.set_day(2);
    assert!(cli(&config, &["crawl", "--revisit-all"])
        .status
        .code()
        .is_some_and(|c| c <= 1));
    let exp = expected("tinhuy");
    let (article, change) = exp
        .changes_on(2)
        .into_iter()
        .find(|(_, c)| c.kind == "number")
        .expect("tinhuy changes a number on day 2");
    let title = article.title.clone();

    let serve = Serve::start(&config, "127.0.7.7");
    let shots = artifacts();
    let mut page = chromium.page();
    page.call("Page.enable", json!({}));
    page.call("DOM.enable", json!({}));
    // A headless page never has window focus; typing needs a focused field.
    page.call(
        "Emulation.setFocusEmulationEnabled",
        json!({ "enabled": true }),
    );
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": true }),
    );

    // Search without diacritics: "cư trú ở 21 xã" typed as "cu tru o 21 xa".
    page.goto(&serve.url("/"));
    page.wait_loaded("/", "");
    page.type_into("input[name=q]", "cu tru o 21 xa");
    page.click("form.search button[type=submit]");
    page.wait_loaded("/", "q=cu+tru+o+21+xa");
    // The stylesheet loads under the UI's CSP.
    assert_eq!(
        page.eval("getComputedStyle(document.querySelector('header')).backgroundColor"),
        json!("rgb(122, 31, 31)")
    );
    let titles =
        page.eval("[...document.querySelectorAll('a.result-title')].map(a => a.textContent)");
    assert!(
        titles.as_array().is_some_and(|t| t.contains(&json!(title))),
        "{title} not among the results {titles}"
    );
    let marked =
        page.eval("[...document.querySelectorAll('.snippet mark')].map(m => m.textContent)");
    assert!(
        marked
            .as_array()
            .is_some_and(|m| m.contains(&json!("cư trú ở 21 xã"))),
        "matched words not marked: {marked}"
    );
    page.screenshot(&shots.join("search.png"));

    // Open the article from the results.
    let clicked = page.eval(&format!(
        "(() => {{ const a = [...document.querySelectorAll('a.result-title')].find(a => a.textContent === {}); if (!a) return false; a.click(); return true; }})()",
        json!(title)
    ));
    assert_eq!(clicked, json!(true));
    page.wait_loaded("/article", "url=");
    assert_eq!(
        page.eval("document.querySelector('h1').textContent"),
        json!(title)
    );
    assert_eq!(
        page.eval("document.querySelectorAll('ol.timeline li').length"),
        json!(2),
        "two versions in the timeline"
    );
    page.screenshot(&shots.join("article.png"));

    // Open the diff of the two versions.
    page.click("a.diff-link");
    page.wait_loaded("/diff", "from=1");
    let ins =
        page.eval("[...document.querySelectorAll('.inline ins')].map(e => e.textContent.trim())");
    let del =
        page.eval("[...document.querySelectorAll('.inline del')].map(e => e.textContent.trim())");
    assert_eq!(ins, json!(change.added), "inserted words");
    assert_eq!(del, json!(change.removed), "deleted words");
    assert_eq!(
        page.eval(
            "[...document.querySelectorAll('.sides .new ins')].map(e => e.textContent.trim())"
        ),
        json!(change.added)
    );
    assert_eq!(
        page.eval(
            "[...document.querySelectorAll('.sides .old del')].map(e => e.textContent.trim())"
        ),
        json!(change.removed)
    );
    assert_ne!(
        page.eval("getComputedStyle(document.querySelector('.inline ins')).backgroundColor"),
        json!("rgba(0, 0, 0, 0)"),
        "inserted words are highlighted"
    );
    page.screenshot(&shots.join("diff.png"));

    // The hostile article: its payloads are text, and nothing of it runs.
    let beacons = xss.beacons();
    let u = enc(&xss.url(XSS_ARTICLE));
    for (path, check) in [
        (format!("/article?url={u}"), "/article"),
        (format!("/diff?url={u}"), "/diff"),
        ("/?q=xss".to_string(), "/"),
    ] {
        page.goto(&serve.url(&path));
        page.wait_loaded(check, "");
        assert_eq!(
            page.eval("document.documentElement.getAttribute('data-xss') === null && typeof window.__xss === 'undefined' && document.scripts.length === 0"),
            json!(true),
            "{path}: a payload ran"
        );
    }
    page.goto(&serve.url(&format!("/article?url={u}")));
    page.wait_loaded("/article", "");
    let h1 = page.eval("document.querySelector('h1').textContent");
    assert!(
        h1.as_str().is_some_and(|t| t.contains(TITLE_PAYLOAD)),
        "the title payload shows as text: {h1}"
    );
    // The raw page: the archived HTML in a sandboxed frame with an opaque origin.
    page.goto(&serve.url(&format!("/raw?url={u}")));
    page.wait_loaded("/raw", "");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        page.eval("(() => { const f = document.querySelector('iframe'); return f.hasAttribute('sandbox') && f.getAttribute('sandbox') === '' && f.contentDocument === null; })()"),
        json!(true),
        "the frame is sandboxed without same-origin access"
    );
    assert_eq!(
        page.eval("document.documentElement.getAttribute('data-xss')"),
        Value::Null
    );
    page.screenshot(&shots.join("raw.png"));
    // Even opened on its own, the archived HTML runs no script and loads nothing.
    page.goto(&serve.url(&format!("/raw/content?url={u}")));
    std::thread::sleep(Duration::from_millis(1000));
    let attrs = page.root_attributes();
    assert!(
        !attrs.iter().any(|a| a == "data-xss"),
        "a payload ran in the raw page: {attrs:?}"
    );
    assert_eq!(
        xss.beacons(),
        beacons,
        "the browser requested something from the archived site"
    );
    drop(page);
    drop(chromium);
    assert!(serve.stop().success());
}
