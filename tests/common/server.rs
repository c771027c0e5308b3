//! The fixture HTTP server: serves one fixture site (`tests/fixtures/<site>/`) on a loopback
//! address, as it is on a chosen day, with per-request noise, validators and injected faults.
//!
//! Parts: [`FixtureServer`] (start, switch day, robots, faults, request log; stops on Drop),
//! [`Robots`], [`Fault`], [`LoggedRequest`], [`route_key`] (how a request finds its route),
//! the site loader (`routes.toml` of each day overlaid on the previous days) and the request
//! handler (faults, then robots, then the day's route: file / status / redirect / 404).
//!
//! The server runs on its own thread with its own tokio runtime so sync `#[test]` functions
//! can use it; dropping it shuts the runtime down, which also ends hung and streaming
//! responses. Fixture mistakes (a missing file, a bad routes.toml, an unknown placeholder)
//! panic at start; nothing a client sends can make the handler panic.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Timelike, Utc};
use serde::Deserialize;

/// What `/robots.txt` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Robots {
    /// The site's own `/robots.txt` route if it has one, else 404 (the default).
    Site,
    /// 404 whatever the site has.
    Absent,
    /// 200 `text/plain` with this body.
    Body(String),
    /// This status with an empty body (e.g. 500, 503, 403).
    Status(u16),
}

/// A misbehaviour injected for one path (see [`FixtureServer::add_fault`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer `code` to the first `times` requests, then serve normally.
    Status(u16, usize),
    /// 429 with `Retry-After: <secs>` once, then serve normally.
    RetryAfter(u64),
    /// 503 with `Retry-After: <HTTP-date secs from now>` once, then serve normally.
    RetryAfterDate(u64),
    /// Accept the request and never answer (until the server is dropped).
    Hang,
    /// 200 `text/html`, `bytes` bytes of filler streamed without a Content-Length.
    Huge(u64),
    /// 302 between `path` and `path?loop=1`, forever.
    RedirectLoop,
    /// 302 to this URL (absolute, or root-relative on this server).
    RedirectTo(String),
    /// Content-Length of the whole page, half of it sent, then the connection is cut.
    Truncated,
    /// The page gzip-compressed with `Content-Encoding: gzip` whatever the request asked.
    Gzip,
    /// The page (or, for a path without a route, a small body: a PDF when the type says
    /// pdf) under this Content-Type.
    ContentType(String),
    /// Wait this many milliseconds, then serve normally.
    Slow(u64),
    /// A calendar trap: every query of this path is a 200 page linking to every day of its
    /// month and to the neighbouring months (`?ngay=YYYY-MM-DD`), without end.
    Trap,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// When the request's headers had arrived.
    pub at: Instant,
    pub method: String,
    /// Exactly as sent (query order and `;jsessionid=` kept).
    pub path_and_query: String,
    /// Header names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    /// Status of the answer; `None` while it is being prepared or when it never came ([`Fault::Hang`]).
    pub status: Option<u16>,
}

impl LoggedRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without query and without `;jsessionid=…`.
    pub fn path(&self) -> String {
        let key = route_key(&self.path_and_query);
        key.split('?').next().unwrap_or_default().to_string()
    }
}

/// The key a request is routed by: `;jsessionid=…` path parameters dropped (as Tomcat does),
/// query parameters sorted so their order does not matter, empty query dropped.
pub fn route_key(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let path = strip_jsessionid(path);
    let mut params: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    if params.is_empty() {
        return path;
    }
    params.sort_unstable();
    format!("{path}?{}", params.join("&"))
}

fn strip_jsessionid(path: &str) -> String {
    let lower = path.to_ascii_lowercase();
    match lower.find(";jsessionid=") {
        None => path.to_string(),
        Some(start) => {
            let end = path[start..].find('/').map_or(path.len(), |i| start + i);
            format!("{}{}", &path[..start], &path[end..])
        }
    }
}

/// The same key without tracking parameters, which real servers ignore.
fn without_tracking(key: &str) -> Option<String> {
    let (path, query) = key.split_once('?')?;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| {
            let name = p.split('=').next().unwrap_or_default().to_ascii_lowercase();
            !(name.starts_with("utm_") || matches!(name.as_str(), "fbclid" | "gclid" | "_ga"))
        })
        .collect();
    let stripped = if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    (stripped != key).then_some(stripped)
}

// ------------------------------------------------------------------ site data

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutesFile {
    site: Option<SiteSettings>,
    #[serde(default)]
    routes: HashMap<String, RouteSpec>,
    #[serde(default)]
    status: HashMap<String, u16>,
    #[serde(default)]
    redirect: HashMap<String, String>,
    others: Option<Others>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteSettings {
    today_format: String,
    now_format: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RouteSpec {
    File(String),
    Full(FileSpec),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    file: String,
    content_type: Option<String>,
    charset: Option<String>,
    validators: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Others {
    show: usize,
    items: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder {
    Today,
    Now,
    Views,
    Session,
    Others,
}

#[derive(Debug)]
enum Segment {
    Bytes(std::ops::Range<usize>),
    Fill(Placeholder),
}

/// One fixture file, ready to serve: its template bytes cut at the placeholders.
#[derive(Debug)]
struct FilePage {
    spec: FileSpec,
    template: Vec<u8>,
    segments: Vec<Segment>,
    content_type: String,
    encoding: &'static encoding_rs::Encoding,
    validators: bool,
    etag: String,
    last_modified: DateTime<Utc>,
}

#[derive(Debug, Clone)]
enum Route {
    File(Arc<FilePage>),
    Status(u16),
    Redirect(String),
}

#[derive(Debug)]
struct DayData {
    routes: HashMap<String, Route>,
    others: Others,
}

#[derive(Debug)]
struct SiteData {
    settings: SiteSettings,
    days: Vec<DayData>,
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn parse_template(template: &[u8], file: &Path) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut lit = 0;
    while i + 1 < template.len() {
        if &template[i..i + 2] == b"{{" {
            if let Some(len) = template[i + 2..].windows(2).position(|w| w == b"}}") {
                let name = &template[i + 2..i + 2 + len];
                let ph = match name {
                    b"TODAY" => Placeholder::Today,
                    b"NOW" => Placeholder::Now,
                    b"VIEWS" => Placeholder::Views,
                    b"SESSION" => Placeholder::Session,
                    b"OTHERS" => Placeholder::Others,
                    other if other.iter().all(|b| b.is_ascii_uppercase() || *b == b'_') => panic!(
                        "{}: unknown placeholder {{{{{}}}}}",
                        file.display(),
                        String::from_utf8_lossy(other)
                    ),
                    _ => {
                        i += 2;
                        continue;
                    }
                };
                if lit < i {
                    out.push(Segment::Bytes(lit..i));
                }
                out.push(Segment::Fill(ph));
                i += 2 + len + 2;
                lit = i;
                continue;
            }
        }
        i += 1;
    }
    if lit < template.len() {
        out.push(Segment::Bytes(lit..template.len()));
    }
    out
}

fn charset_of(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

fn load_site(site: &str) -> SiteData {
    let root = fixtures_root().join(site);
    let mut days: Vec<DayData> = Vec::new();
    let mut settings: Option<SiteSettings> = None;
    // A file shared by several routes or days is loaded once.
    let mut pages: HashMap<(usize, FileSpec), Arc<FilePage>> = HashMap::new();
    for n in 1.. {
        let dir = root.join(format!("day{n}"));
        if !dir.is_dir() {
            break;
        }
        let routes_path = dir.join("routes.toml");
        let text = std::fs::read_to_string(&routes_path)
            .unwrap_or_else(|e| panic!("{}: {e}", routes_path.display()));
        let file: RoutesFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", routes_path.display()));
        if let Some(s) = file.site {
            settings = Some(s);
        }
        let (mut routes, mut others) = match days.last() {
            Some(prev) => (prev.routes.clone(), prev.others.clone()),
            None => (HashMap::new(), Others::default()),
        };
        if let Some(o) = file.others {
            others = o;
        }
        // Routes inherited from earlier days are resolved again: a file present in this
        // day's directory replaces the older one even when routes.toml does not name it.
        let mut specs: HashMap<String, FileSpec> = routes
            .iter()
            .filter_map(|(key, route)| match route {
                Route::File(page) if dir.join(&page.spec.file).is_file() => {
                    Some((key.clone(), page.spec.clone()))
                }
                _ => None,
            })
            .collect();
        for (path, spec) in file.routes {
            let spec = match spec {
                RouteSpec::File(file) => FileSpec {
                    file,
                    content_type: None,
                    charset: None,
                    validators: None,
                },
                RouteSpec::Full(f) => f,
            };
            specs.insert(route_key(&path), spec);
        }
        for (path, code) in file.status {
            specs.remove(&route_key(&path));
            routes.insert(route_key(&path), Route::Status(code));
        }
        for (path, to) in file.redirect {
            specs.remove(&route_key(&path));
            routes.insert(route_key(&path), Route::Redirect(to));
        }
        for (key, spec) in specs {
            let found = (1..=n)
                .rev()
                .find(|k| root.join(format!("day{k}")).join(&spec.file).is_file())
                .unwrap_or_else(|| {
                    panic!(
                        "{site} day {n}: route {key} names a missing file {}",
                        spec.file
                    )
                });
            let page = pages
                .entry((found, spec.clone()))
                .or_insert_with(|| {
                    Arc::new(load_page(&root.join(format!("day{found}")), found, spec))
                })
                .clone();
            routes.insert(key, Route::File(page));
        }
        days.push(DayData { routes, others });
    }
    assert!(!days.is_empty(), "{}: no day1/ directory", root.display());
    SiteData {
        settings: settings.unwrap_or_else(|| panic!("{site}: day1/routes.toml has no [site]")),
        days,
    }
}

fn load_page(dir: &Path, day: usize, spec: FileSpec) -> FilePage {
    let path = dir.join(&spec.file);
    let template = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let content_type = spec
        .content_type
        .clone()
        .unwrap_or_else(|| "text/html; charset=utf-8".to_string());
    let label = spec
        .charset
        .clone()
        .or_else(|| charset_of(&content_type).map(str::to_string))
        .unwrap_or_else(|| "utf-8".to_string());
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes())
        .unwrap_or_else(|| panic!("{}: unknown charset {label}", path.display()));
    // Validators come from the template, so per-request noise never changes them; the
    // Last-Modified grows with the day the file belongs to, so If-Modified-Since works
    // across days.
    let hash = blake3::hash(&template);
    let offset = u64::from_le_bytes(
        hash.as_bytes()[..8]
            .try_into()
            .expect("8 bytes of a 32-byte hash"),
    ) % 43_200;
    let base = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid fixed date");
    let last_modified = base
        + chrono::Duration::days(i64::try_from(day).unwrap_or(1) - 1)
        + chrono::Duration::seconds(i64::try_from(offset).expect("offset < 43200"));
    FilePage {
        segments: parse_template(&template, &path),
        etag: format!("\"{}\"", &hash.to_hex()[..16]),
        last_modified,
        template,
        content_type,
        encoding,
        validators: spec.validators.unwrap_or(true),
        spec,
    }
}

// ------------------------------------------------------------------ server

struct FaultEntry {
    key: String,
    fault: Fault,
    remaining: Option<usize>,
}

struct State_ {
    day: usize,
    robots: Robots,
    faults: Vec<FaultEntry>,
    log: Vec<LoggedRequest>,
    views: HashMap<String, u64>,
    requests: u64,
}

struct Shared {
    site: SiteData,
    state: Mutex<State_>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State_> {
        // A panicking test thread must not take the server down with a poisoned lock.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A fixture site served on `http://<ip>:<random port>`.
pub struct FixtureServer {
    addr: SocketAddr,
    site: String,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FixtureServer {
    /// Serves `tests/fixtures/<site>/` on `ip` (any 127.x.y.z) and a free port, on day 1.
    pub fn start(ip: &str, site: &str) -> FixtureServer {
        let data = load_site(site);
        let listener = std::net::TcpListener::bind((ip, 0))
            .unwrap_or_else(|e| panic!("fixture server {site}: cannot bind {ip}: {e}"));
        listener
            .set_nonblocking(true)
            .expect("a fresh listener accepts non-blocking mode");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let shared = Arc::new(Shared {
            site: data,
            state: Mutex::new(State_ {
                day: 1,
                robots: Robots::Site,
                faults: Vec::new(),
                log: Vec::new(),
                views: HashMap::new(),
                requests: 0,
            }),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app_state = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fixture-{site}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a tokio runtime for the fixture server");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("a std listener converts inside a runtime");
                    let app = Router::new().fallback(handle).with_state(app_state);
                    tokio::select! {
                        r = axum::serve(listener, app).into_future() => {
                            if let Err(e) = r {
                                eprintln!("fixture server stopped: {e}");
                            }
                        }
                        _ = rx => {}
                    }
                });
                // Hung and streaming responses are cancelled here rather than waited for.
                rt.shutdown_timeout(Duration::from_millis(200));
            })
            .expect("spawning the fixture server thread");
        FixtureServer {
            addr,
            site: site.to_string(),
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// `http://ip:port`, no trailing slash.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `base()` + a root-relative path and query.
    pub fn url(&self, path_and_query: &str) -> String {
        assert!(
            path_and_query.starts_with('/'),
            "not root-relative: {path_and_query}"
        );
        format!("{}{path_and_query}", self.base())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The fixture directory name this server serves.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// How many days the fixture has (day1/ … dayN/).
    pub fn days(&self) -> u32 {
        u32::try_from(self.shared.site.days.len()).unwrap_or(u32::MAX)
    }

    /// Serves the site as it is on `day` (1-based) from the next request on.
    pub fn set_day(&self, day: u32) {
        assert!(
            day >= 1 && day <= self.days(),
            "{} has days 1..={}, not {day}",
            self.site,
            self.days()
        );
        self.shared.lock().day = day as usize;
    }

    pub fn day(&self) -> u32 {
        u32::try_from(self.shared.lock().day).unwrap_or(u32::MAX)
    }

    /// Every request so far, in arrival order.
    pub fn log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    pub fn clear_log(&self) {
        self.shared.lock().log.clear();
    }

    /// Requests whose [`route_key`] equals that of `path_and_query` (query order and
    /// `;jsessionid=` ignored).
    pub fn hits(&self, path_and_query: &str) -> usize {
        let key = route_key(path_and_query);
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| route_key(&r.path_and_query) == key)
            .count()
    }

    /// Requests for `path` with any query (or none).
    pub fn hits_path(&self, path: &str) -> usize {
        let path = strip_jsessionid(path);
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.path() == path)
            .count()
    }

    /// What `/robots.txt` answers from now on.
    pub fn set_robots(&self, robots: Robots) {
        self.shared.lock().robots = robots;
    }

    /// Injects `fault` for `path`: a key with `?` matches that path and query (order
    /// insensitive), a key without matches the path with any query. The first matching
    /// fault applies. [`Fault::Status`] lasts `times` requests, the `RetryAfter*` faults one,
    /// the others until [`FixtureServer::clear_faults`].
    pub fn add_fault(&self, path: &str, fault: Fault) {
        let remaining = match &fault {
            Fault::Status(_, times) => Some(*times),
            Fault::RetryAfter(_) | Fault::RetryAfterDate(_) => Some(1),
            _ => None,
        };
        self.push_fault(path, fault, remaining);
    }

    /// Like [`FixtureServer::add_fault`], for the next `times` matching requests only.
    pub fn add_fault_n(&self, path: &str, fault: Fault, times: usize) {
        self.push_fault(path, fault, Some(times));
    }

    fn push_fault(&self, path: &str, fault: Fault, remaining: Option<usize>) {
        let key = if path.contains('?') {
            route_key(path)
        } else {
            strip_jsessionid(path)
        };
        self.shared.lock().faults.push(FaultEntry {
            key,
            fault,
            remaining,
        });
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// GETs a path on this server with the harness's own small client (no crawler involved).
    pub fn get(&self, path_and_query: &str) -> super::http::HttpResponse {
        super::http::get(&self.url(path_and_query))
            .unwrap_or_else(|e| panic!("GET {path_and_query}: {e}"))
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ------------------------------------------------------------------ request handling

/// What to answer, decided under the lock; the answer itself is built outside it.
enum Plan {
    Fault(Fault, Option<Rendered>),
    Robots(Robots),
    Page(Rendered),
    Status(u16),
    Redirect(String),
    NotFound,
    MethodNotAllowed,
}

struct Rendered {
    page: Arc<FilePage>,
    body: Vec<u8>,
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let at = Instant::now();
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let method = req.method().as_str().to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let (index, plan) = {
        let mut st = shared.lock();
        st.log.push(LoggedRequest {
            at,
            method: method.clone(),
            path_and_query: pq.clone(),
            headers: headers.clone(),
            status: None,
        });
        let index = st.log.len() - 1;
        st.requests += 1;
        let plan = plan(&shared.site, &mut st, &method, &pq);
        (index, plan)
    };
    let response = execute(plan, &pq, &headers).await;
    let status = response.status().as_u16();
    if let Some(entry) = shared.lock().log.get_mut(index) {
        entry.status = Some(status);
    }
    response
}

fn plan(site: &SiteData, st: &mut State_, method: &str, pq: &str) -> Plan {
    if method != "GET" && method != "HEAD" {
        return Plan::MethodNotAllowed;
    }
    let key = route_key(pq);
    let path = key.split('?').next().unwrap_or_default().to_string();
    let fault_pos = st.faults.iter().position(|f| {
        f.remaining != Some(0)
            && if f.key.contains('?') {
                f.key == key
            } else {
                f.key == path
            }
    });
    let day = &site.days[st.day.clamp(1, site.days.len()) - 1];
    let route = day
        .routes
        .get(&key)
        .or_else(|| without_tracking(&key).and_then(|k| day.routes.get(&k)))
        .cloned();
    let render = |st: &mut State_| match &route {
        Some(Route::File(page)) => Some(render_page(site, st, &key, page, day)),
        _ => None,
    };
    if let Some(i) = fault_pos {
        let fault = st.faults[i].fault.clone();
        if let Some(n) = st.faults[i].remaining.as_mut() {
            *n -= 1;
        }
        let page = render(st);
        return Plan::Fault(fault, page);
    }
    if path == "/robots.txt" && st.robots != Robots::Site {
        return Plan::Robots(st.robots.clone());
    }
    match route {
        Some(Route::File(_)) => match render(st) {
            Some(r) => Plan::Page(r),
            None => Plan::NotFound,
        },
        Some(Route::Status(code)) => Plan::Status(code),
        Some(Route::Redirect(to)) => Plan::Redirect(to),
        None => Plan::NotFound,
    }
}

fn render_page(
    site: &SiteData,
    st: &mut State_,
    key: &str,
    page: &Arc<FilePage>,
    day: &DayData,
) -> Rendered {
    let views = {
        let seed = blake3::hash(key.as_bytes()).as_bytes()[0];
        let v = st
            .views
            .entry(key.to_string())
            .or_insert(1000 + u64::from(seed) * 37);
        *v += 1;
        *v
    };
    let now = Utc::now().with_timezone(&FixedOffset::east_opt(7 * 3600).expect("+07:00 is valid"))
        + chrono::Duration::days(i64::try_from(st.day).unwrap_or(1) - 1);
    let session = format!("{:032X}", rand::random::<u128>());
    let others = {
        let o = &day.others;
        if o.items.is_empty() {
            String::new()
        } else {
            let start = usize::try_from(st.requests).unwrap_or(0) % o.items.len();
            (0..o.show.min(o.items.len()))
                .map(|i| o.items[(start + i) % o.items.len()].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    let mut body = Vec::with_capacity(page.template.len() + others.len() + 64);
    for seg in &page.segments {
        match seg {
            Segment::Bytes(r) => body.extend_from_slice(&page.template[r.clone()]),
            Segment::Fill(ph) => {
                let text = match ph {
                    Placeholder::Today => format_date(&site.settings.today_format, &now),
                    Placeholder::Now => format_date(&site.settings.now_format, &now),
                    Placeholder::Views => views.to_string(),
                    Placeholder::Session => session.clone(),
                    Placeholder::Others => others.clone(),
                };
                let (bytes, _, _) = page.encoding.encode(&text);
                body.extend_from_slice(&bytes);
            }
        }
    }
    Rendered {
        page: page.clone(),
        body,
    }
}

const THU_LOWER: [&str; 7] = [
    "Thứ hai",
    "Thứ ba",
    "Thứ tư",
    "Thứ năm",
    "Thứ sáu",
    "Thứ bảy",
    "Chủ nhật",
];
const THU_TITLE: [&str; 7] = [
    "Thứ Hai",
    "Thứ Ba",
    "Thứ Tư",
    "Thứ Năm",
    "Thứ Sáu",
    "Thứ Bảy",
    "Chủ Nhật",
];

/// The `{{TODAY}}`/`{{NOW}}` formats of `routes.toml`: `{thu}` "Thứ tư", `{Thu}` "Thứ Tư",
/// `{THU}` "THỨ TƯ", `{d}`/`{dd}`, `{m}`/`{mm}`, `{yyyy}`, `{HH}`, `{MI}`, `{SS}`.
pub fn format_date<Tz: TimeZone>(format: &str, t: &DateTime<Tz>) -> String {
    let wd = t.weekday().num_days_from_monday() as usize;
    format
        .replace("{thu}", THU_LOWER[wd])
        .replace("{Thu}", THU_TITLE[wd])
        .replace("{THU}", &THU_TITLE[wd].to_uppercase())
        .replace("{dd}", &format!("{:02}", t.day()))
        .replace("{d}", &t.day().to_string())
        .replace("{mm}", &format!("{:02}", t.month()))
        .replace("{m}", &t.month().to_string())
        .replace("{yyyy}", &t.year().to_string())
        .replace("{HH}", &format!("{:02}", t.hour()))
        .replace("{MI}", &format!("{:02}", t.minute()))
        .replace("{SS}", &format!("{:02}", t.second()))
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn response(status: u16, headers: &[(&str, String)], body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(*k), HeaderValue::from_str(v)) {
            r.headers_mut().append(name, value);
        }
    }
    r
}

fn small_page(title: &str, text: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>\n"
    )
    .into_bytes()
}

fn html(status: u16, body: Vec<u8>) -> Response {
    response(
        status,
        &[("content-type", "text/html; charset=utf-8".to_string())],
        Body::from(body),
    )
}

fn not_modified(page: &FilePage, headers: &[(String, String)]) -> bool {
    if !page.validators {
        return false;
    }
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    if let Some(inm) = get("if-none-match") {
        return inm
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == page.etag);
    }
    if let Some(ims) = get("if-modified-since") {
        if let Ok(since) = DateTime::parse_from_rfc2822(ims) {
            return page.last_modified <= since.with_timezone(&Utc);
        }
    }
    false
}

fn page_response(r: Rendered, headers: &[(String, String)]) -> Response {
    let mut h = vec![("content-type", r.page.content_type.clone())];
    if r.page.validators {
        h.push(("etag", r.page.etag.clone()));
        h.push(("last-modified", http_date(r.page.last_modified)));
    }
    if not_modified(&r.page, headers) {
        return response(304, &h, Body::empty());
    }
    response(200, &h, Body::from(r.body))
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

fn filler_page(pq: &str) -> Vec<u8> {
    let mut body = format!(
        "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Trang thử nghiệm</title></head>\
         <body><h1 class=\"title\">Trang thử nghiệm {pq}</h1>\n"
    );
    for i in 0..40 {
        body.push_str(&format!(
            "<p>Đoạn văn thử nghiệm số {i}: hội nghị, hạ tầng, nông nghiệp và camera giám sát.</p>\n"
        ));
    }
    body.push_str("</body></html>\n");
    body.into_bytes()
}

async fn execute(plan: Plan, pq: &str, headers: &[(String, String)]) -> Response {
    match plan {
        Plan::MethodNotAllowed => response(
            405,
            &[("allow", "GET, HEAD".to_string())],
            Body::from(small_page("405", "Phương thức không được hỗ trợ")),
        ),
        Plan::NotFound => html(
            404,
            small_page(
                "404 - Không tìm thấy trang",
                "Trang bạn yêu cầu không tồn tại.",
            ),
        ),
        Plan::Status(410) => html(
            410,
            small_page(
                "410 - Bài viết đã bị gỡ bỏ",
                "Bài viết này không còn được cung cấp.",
            ),
        ),
        Plan::Status(code) => html(
            code,
            small_page(&format!("Lỗi {code}"), "Không tìm thấy trang."),
        ),
        Plan::Redirect(to) => response(
            301,
            &[
                ("location", to),
                ("content-type", "text/html; charset=utf-8".to_string()),
            ],
            Body::from(small_page("Đã chuyển", "Trang đã được chuyển.")),
        ),
        Plan::Page(r) => page_response(r, headers),
        Plan::Robots(Robots::Body(text)) => response(
            200,
            &[("content-type", "text/plain".to_string())],
            Body::from(text),
        ),
        Plan::Robots(Robots::Status(code)) => response(code, &[], Body::empty()),
        Plan::Robots(_) => html(404, small_page("404", "robots.txt không tồn tại")),
        Plan::Fault(fault, page) => execute_fault(fault, page, pq, headers).await,
    }
}

async fn execute_fault(
    fault: Fault,
    page: Option<Rendered>,
    pq: &str,
    headers: &[(String, String)],
) -> Response {
    let body_or_filler = |page: Option<Rendered>| -> (Vec<u8>, String) {
        match page {
            Some(r) => (r.body, r.page.content_type.clone()),
            None => (filler_page(pq), "text/html; charset=utf-8".to_string()),
        }
    };
    match fault {
        Fault::Status(code, _) => html(
            code,
            small_page(&format!("Lỗi {code}"), "Máy chủ đang bận."),
        ),
        Fault::RetryAfter(secs) => response(
            429,
            &[
                ("retry-after", secs.to_string()),
                ("content-type", "text/html; charset=utf-8".to_string()),
            ],
            Body::from(small_page(
                "429 - Quá nhiều yêu cầu",
                "Vui lòng thử lại sau.",
            )),
        ),
        Fault::RetryAfterDate(secs) => {
            let at = Utc::now() + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(0));
            response(
                503,
                &[
                    ("retry-after", http_date(at)),
                    ("content-type", "text/html; charset=utf-8".to_string()),
                ],
                Body::from(small_page("503 - Máy chủ bảo trì", "Vui lòng thử lại sau.")),
            )
        }
        Fault::Hang => {
            std::future::pending::<()>().await;
            unreachable!("a pending future never completes")
        }
        Fault::Huge(total) => {
            let chunk = Bytes::from(
                "<p>Dữ liệu rất lớn dùng để kiểm tra giới hạn dung lượng trang.</p>\n".repeat(1024),
            );
            let stream = futures_util::stream::unfold(total, move |left| {
                let chunk = chunk.clone();
                async move {
                    if left == 0 {
                        return None;
                    }
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(chunk.len());
                    Some((
                        Ok::<Bytes, std::io::Error>(chunk.slice(..n)),
                        left - n as u64,
                    ))
                }
            });
            response(
                200,
                &[("content-type", "text/html; charset=utf-8".to_string())],
                Body::from_stream(stream),
            )
        }
        Fault::RedirectLoop => {
            let (path, query) = pq.split_once('?').unwrap_or((pq, ""));
            let looped = query.split('&').any(|p| p == "loop=1");
            let to = if looped {
                path.to_string()
            } else {
                format!("{path}?loop=1")
            };
            response(302, &[("location", to)], Body::empty())
        }
        Fault::RedirectTo(to) => response(302, &[("location", to)], Body::empty()),
        Fault::Truncated => {
            let (body, ct) = body_or_filler(page);
            let full = body.len();
            let half = Bytes::from(body).slice(..full / 2);
            // The pause lets hyper flush the headers and the half body before the error
            // makes it drop the connection.
            let cut = futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Err(std::io::Error::other(
                    "fixture: connection cut (Fault::Truncated)",
                ))
            });
            let stream = futures_util::StreamExt::chain(
                futures_util::stream::iter([Ok::<Bytes, std::io::Error>(half)]),
                cut,
            );
            response(
                200,
                &[("content-type", ct), ("content-length", full.to_string())],
                Body::from_stream(stream),
            )
        }
        Fault::Gzip => {
            let (body, ct) = body_or_filler(page);
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let gz = enc.write_all(&body).and_then(|_| enc.finish());
            match gz {
                Ok(gz) => response(
                    200,
                    &[
                        ("content-type", ct),
                        ("content-encoding", "gzip".to_string()),
                        ("vary", "Accept-Encoding".to_string()),
                    ],
                    Body::from(gz),
                ),
                Err(e) => html(500, small_page("500", &e.to_string())),
            }
        }
        Fault::ContentType(ct) => {
            let body = match page {
                Some(r) => r.body,
                None if ct.to_ascii_lowercase().contains("pdf") => PDF.to_vec(),
                None => filler_page(pq),
            };
            response(200, &[("content-type", ct)], Body::from(body))
        }
        Fault::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            match page {
                Some(r) => page_response(r, headers),
                None => html(
                    404,
                    small_page(
                        "404 - Không tìm thấy trang",
                        "Trang bạn yêu cầu không tồn tại.",
                    ),
                ),
            }
        }
        Fault::Trap => html(200, calendar_page(pq)),
    }
}

fn calendar_page(pq: &str) -> Vec<u8> {
    let (path, query) = pq.split_once('?').unwrap_or((pq, ""));
    let path = strip_jsessionid(path);
    let date = query
        .split('&')
        .find_map(|p| p.strip_prefix("ngay="))
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or_else(|| {
            chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("a valid fixed date")
        });
    let first = date.with_day(1).unwrap_or(date);
    let next_month = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let prev_month = first
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(first);
    let mut links = String::new();
    let mut d = first;
    while d < next_month {
        links.push_str(&format!(
            "<li><a href=\"{path}?ngay={d}\">Ngày {}/{}/{}</a></li>\n",
            d.day(),
            d.month(),
            d.year()
        ));
        d = d.succ_opt().unwrap_or(next_month);
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Lịch công tác</title></head><body>\
         <h1>Lịch công tác ngày {}</h1>\n<p><a href=\"{path}?ngay={prev_month}\">« Tháng trước</a> | \
         <a href=\"{path}?ngay={next_month}\">Tháng sau »</a></p>\n<ul>\n{links}</ul></body></html>\n",
        date.format("%d/%m/%Y")
    )
    .into_bytes()
}
