//! Being a good guest: per-host request pacing and robots.txt.
//!
//! Parts:
//! - [`host_key`]: the "host:port" key both parts use.
//! - [`HostLimiters`]: one governor limiter per host (burst 1), since a keyed limiter shares one
//!   quota over all keys and hosts need their own rates. A host's pace is the slowest of its
//!   configured rate, its robots.txt `Crawl-delay` and the slowdown after 429/503 answers
//!   ([`HostLimiters::penalize`], undone step by step by [`HostLimiters::recover`]).
//! - [`Robots`]: robots.txt fetched once per origin per run (RFC 9309: 4xx allows all, 5xx or
//!   unreachable disallows all), cached, and asked per URL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::OnceCell;
use url::{Position, Url};

use crate::fetch::Fetcher;

/// The slowest pace [`HostLimiters::penalize`] goes down to: one request a minute.
pub const MIN_PENALIZED_RATE: f64 = 1.0 / 60.0;
/// Rate a host without a configured limit drops to at its first 429/503.
pub const UNLIMITED_PENALTY_RATE: f64 = 1.0;
/// Factor by which [`HostLimiters::recover`] raises a slowed rate.
pub const RECOVERY_FACTOR: f64 = 1.1;
/// No interval is longer than this (a `Crawl-delay: 1e9` would otherwise stall a run forever).
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// RFC 9309 asks crawlers to parse at least 500 KiB of robots.txt; we read that much.
pub const ROBOTS_MAX_BYTES: u64 = 500 * 1024;
/// RFC 9309: follow at least five consecutive redirects for robots.txt.
pub const ROBOTS_MAX_REDIRECTS: usize = 5;

/// "host:port" with the scheme's default port filled in (`example.org:80`).
pub fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// The interval between requests for a rate in requests per second; None means no limit.
fn interval_for(rate: f64) -> Option<Duration> {
    if rate.is_nan() || rate <= 0.0 || rate.is_infinite() {
        return None;
    }
    let interval = Duration::try_from_secs_f64(1.0 / rate).unwrap_or(MAX_INTERVAL);
    (!interval.is_zero()).then(|| interval.min(MAX_INTERVAL))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded maps stay consistent even if a holder panicked; keep going.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Default)]
struct HostState {
    /// Slowest rate any caller configured for this host (None: no limit / not seen).
    configured: Option<Duration>,
    /// From robots.txt `Crawl-delay`.
    min_interval: Option<Duration>,
    /// Rate after 429/503 slowdowns, requests per second.
    slowed: Option<f64>,
    /// Current effective interval and the limiter enforcing it.
    interval: Option<Duration>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    /// Bumped when the limiter is replaced, so waiters on the old one wait again.
    generation: u64,
    /// Whether any request was let through yet.
    granted: bool,
}

impl HostState {
    fn effective_interval(&self) -> Option<Duration> {
        [
            self.configured,
            self.min_interval,
            self.slowed.and_then(interval_for),
        ]
        .into_iter()
        .flatten()
        .max()
    }

    /// Replaces the limiter when the effective interval changed. A new governor limiter would
    /// let the next request through at once; taking its first cell right away keeps the gap
    /// after the last request at least one new interval.
    fn rebuild(&mut self) {
        let interval = self.effective_interval();
        if interval == self.interval {
            return;
        }
        self.interval = interval;
        self.generation += 1;
        self.limiter = interval.and_then(Quota::with_period).map(|quota| {
            let limiter = RateLimiter::direct(quota);
            if self.granted {
                // A fresh burst-1 limiter always has its one cell; taking it cannot fail, and if
                // it somehow did the only effect would be one earlier request.
                let _ = limiter.check();
            }
            Arc::new(limiter)
        });
    }

    fn current_rate(&self) -> Option<f64> {
        self.effective_interval().map(|i| 1.0 / i.as_secs_f64())
    }
}

/// Per-host pacing for one run. Share it behind an `Arc`.
#[derive(Default)]
pub struct HostLimiters {
    hosts: Mutex<HashMap<String, HostState>>,
}

impl HostLimiters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits until this host may get its next request. `rate` is requests per second; `<= 0`
    /// means no limit. When callers pass different rates for one host (two sites on one server)
    /// the slowest wins: it is one server either way.
    pub async fn wait(&self, host_key: &str, rate: f64) {
        loop {
            let (limiter, generation) = {
                let mut hosts = lock(&self.hosts);
                let state = hosts.entry(host_key.to_string()).or_default();
                if let Some(wanted) = interval_for(rate) {
                    if state.configured.is_none_or(|current| wanted > current) {
                        state.configured = Some(wanted);
                        state.rebuild();
                    }
                }
                match &state.limiter {
                    None => {
                        state.granted = true;
                        return;
                    }
                    Some(limiter) => (Arc::clone(limiter), state.generation),
                }
            };
            limiter.until_ready().await;
            let mut hosts = lock(&self.hosts);
            let Some(state) = hosts.get_mut(host_key) else {
                return;
            };
            if state.generation == generation {
                state.granted = true;
                return;
            }
            // The pace changed while we waited: our slot was granted under the old one.
        }
    }

    /// Sets a lower bound on the gap between two requests to this host (robots.txt
    /// `Crawl-delay`). It only ever slows the host: the effective interval is the largest of
    /// all bounds.
    pub fn set_min_interval(&self, host_key: &str, interval: Duration) {
        let mut hosts = lock(&self.hosts);
        let state = hosts.entry(host_key.to_string()).or_default();
        let interval = interval.min(MAX_INTERVAL);
        if interval.is_zero() || state.min_interval.is_some_and(|m| m >= interval) {
            return;
        }
        state.min_interval = Some(interval);
        state.rebuild();
    }

    /// Halves the host's current rate after a 429 or 503 (not below [`MIN_PENALIZED_RATE`]).
    /// A host without any limit drops to [`UNLIMITED_PENALTY_RATE`].
    pub fn penalize(&self, host_key: &str) {
        let mut hosts = lock(&self.hosts);
        let state = hosts.entry(host_key.to_string()).or_default();
        let slowed = match state.current_rate() {
            Some(rate) => (rate / 2.0).max(MIN_PENALIZED_RATE),
            None => UNLIMITED_PENALTY_RATE,
        };
        state.slowed = Some(slowed);
        state.rebuild();
    }

    /// One step back towards the configured pace after a slowdown (rate times
    /// [`RECOVERY_FACTOR`]); the slowdown is dropped once it no longer binds. Call it on
    /// successful answers from a penalised host.
    pub fn recover(&self, host_key: &str) {
        let mut hosts = lock(&self.hosts);
        let Some(state) = hosts.get_mut(host_key) else {
            return;
        };
        let Some(slowed) = state.slowed else {
            return;
        };
        let raised = slowed * RECOVERY_FACTOR;
        let ceiling = state.configured.map(|i| 1.0 / i.as_secs_f64());
        state.slowed = match ceiling {
            Some(c) if raised < c => Some(raised),
            // With no configured limit the slowdown stays until it reaches the penalty start.
            None if raised < UNLIMITED_PENALTY_RATE => Some(raised),
            _ => None,
        };
        state.rebuild();
    }

    /// The slowed rate after 429/503, if any: kept in the store so the next run starts there.
    pub fn slowed_rate(&self, host_key: &str) -> Option<f64> {
        lock(&self.hosts).get(host_key).and_then(|s| s.slowed)
    }

    /// Restores a slowed rate saved by an earlier run (ignored unless positive and finite).
    pub fn set_slowed_rate(&self, host_key: &str, rate: f64) {
        if !(rate.is_finite() && rate > 0.0) {
            return;
        }
        let mut hosts = lock(&self.hosts);
        let state = hosts.entry(host_key.to_string()).or_default();
        state.slowed = Some(rate.max(MIN_PENALIZED_RATE));
        state.rebuild();
    }

    /// The gap currently enforced between two requests to this host (None: no limit).
    pub fn interval(&self, host_key: &str) -> Option<Duration> {
        lock(&self.hosts).get(host_key).and_then(|s| s.interval)
    }
}

/// What robots.txt says about one URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobotsVerdict {
    Allowed,
    Disallowed,
    /// robots.txt answered 5xx (or 429) or could not be fetched: RFC 9309 says to assume a
    /// complete disallow, which we keep for the rest of the run.
    Unavailable,
}

enum RobotsRules {
    AllowAll,
    Rules(texting_robots::Robot),
    Unreachable,
}

/// robots.txt per origin (scheme, host, port), fetched at most once per run.
pub struct Robots {
    token: String,
    origins: Mutex<HashMap<String, Arc<OnceCell<Arc<RobotsRules>>>>>,
}

impl Robots {
    /// `user_agent_token` is the product token of our User-Agent, e.g. "luutru".
    pub fn new(user_agent_token: &str) -> Self {
        Robots {
            token: user_agent_token.to_string(),
            origins: Mutex::new(HashMap::new()),
        }
    }

    /// Answers for `url`, fetching its origin's /robots.txt first if this run has not yet
    /// (concurrent callers for one origin share one fetch). The robots.txt request waits on
    /// `limiters` like any other; a `Crawl-delay` becomes the host's minimum interval (which
    /// only matters where it is slower than `rate`).
    pub async fn check(
        &self,
        url: &Url,
        fetcher: &Fetcher,
        limiters: &HostLimiters,
        rate: f64,
    ) -> RobotsVerdict {
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            // robots.txt has nothing to say here; the fetcher refuses such URLs anyway.
            return RobotsVerdict::Allowed;
        }
        let origin = url.origin().ascii_serialization();
        let cell = {
            let mut origins = lock(&self.origins);
            Arc::clone(origins.entry(origin).or_default())
        };
        let rules = cell
            .get_or_init(|| async { Arc::new(self.load(url, fetcher, limiters, rate).await) })
            .await;
        match rules.as_ref() {
            RobotsRules::AllowAll => RobotsVerdict::Allowed,
            RobotsRules::Unreachable => RobotsVerdict::Unavailable,
            RobotsRules::Rules(robot) => {
                if robot.allowed(&url[Position::BeforePath..Position::AfterQuery]) {
                    RobotsVerdict::Allowed
                } else {
                    RobotsVerdict::Disallowed
                }
            }
        }
    }

    /// The robots.txt `Crawl-delay` for our token at this URL's origin, once fetched.
    pub fn crawl_delay(&self, url: &Url) -> Option<Duration> {
        let origin = url.origin().ascii_serialization();
        let cell = lock(&self.origins).get(&origin).cloned()?;
        match cell.get()?.as_ref() {
            RobotsRules::Rules(robot) => delay_duration(robot.delay),
            _ => None,
        }
    }

    async fn load(
        &self,
        url: &Url,
        fetcher: &Fetcher,
        limiters: &HostLimiters,
        rate: f64,
    ) -> RobotsRules {
        let Ok(mut target) = url.join("/robots.txt") else {
            return RobotsRules::AllowAll;
        };
        // RFC 9309 2.3.1.2: after more than five redirects, robots.txt may be taken as
        // unavailable, which (like a 4xx) allows everything.
        for _ in 0..=ROBOTS_MAX_REDIRECTS {
            limiters.wait(&host_key(&target), rate).await;
            let response = match fetcher.fetch_prefix(&target, ROBOTS_MAX_BYTES).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(url = %target, error = %e, "robots.txt unreachable; host disallowed for this run");
                    return RobotsRules::Unreachable;
                }
            };
            match response.status {
                200..=299 => {
                    let text = response.decoded_prefix(ROBOTS_MAX_BYTES);
                    let robot = parse_robots(&self.token, &text);
                    if let Some(delay) = delay_duration(robot.delay) {
                        limiters.set_min_interval(&host_key(url), delay);
                    }
                    return RobotsRules::Rules(robot);
                }
                300..=399 => match response.location() {
                    Some(next) if matches!(next.scheme(), "http" | "https") => target = next,
                    _ => return RobotsRules::AllowAll,
                },
                // Many servers answer 429 to mean "slow down"; treating it like 4xx would let
                // us crawl a host that is asking us to stay away.
                429 => {
                    limiters.penalize(&host_key(&target));
                    return RobotsRules::Unreachable;
                }
                400..=499 => return RobotsRules::AllowAll,
                status => {
                    tracing::warn!(url = %target, status, "robots.txt server error; host disallowed for this run");
                    return RobotsRules::Unreachable;
                }
            }
        }
        RobotsRules::AllowAll
    }
}

fn delay_duration(delay: Option<f32>) -> Option<Duration> {
    let secs = f64::from(delay?);
    if !secs.is_finite() || secs <= 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).map_or(MAX_INTERVAL, |d| d.min(MAX_INTERVAL)))
}

/// Parses robots.txt for `token`. The parser rejects a whole file over one rule it cannot
/// compile; RFC 9309 asks to skip lines that do not parse, so on failure the bad lines are
/// dropped and the rest parsed again.
fn parse_robots(token: &str, text: &[u8]) -> texting_robots::Robot {
    if let Ok(robot) = texting_robots::Robot::new(token, text) {
        return robot;
    }
    let kept: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|line| texting_robots::Robot::new(token, line).is_ok())
        .collect();
    let cleaned = kept.join(&b'\n');
    texting_robots::Robot::new(token, &cleaned).unwrap_or_else(|_| {
        // Unreachable in practice: every kept line parses alone. An empty file allows all.
        texting_robots::Robot::new(token, b"").expect("an empty robots.txt always parses")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::FetchOptions;
    use axum::extract::State;
    use axum::http::{StatusCode, Uri};
    use axum::response::IntoResponse;
    use axum::routing::get;
    use axum::Router;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    #[test]
    fn host_keys_fill_default_ports() {
        let k = |s: &str| host_key(&Url::parse(s).unwrap());
        assert_eq!(k("http://TinhUyHaiDuong.vn/news"), "tinhuyhaiduong.vn:80");
        assert_eq!(k("https://example.org/"), "example.org:443");
        assert_eq!(k("http://127.0.0.2:8080/x"), "127.0.0.2:8080");
        assert_eq!(k("http://[::1]/"), "[::1]:80");
    }

    #[test]
    fn intervals_from_rates() {
        assert_eq!(interval_for(5.0), Some(Duration::from_millis(200)));
        assert_eq!(interval_for(0.5), Some(Duration::from_secs(2)));
        assert_eq!(interval_for(0.0), None);
        assert_eq!(interval_for(-1.0), None);
        assert_eq!(interval_for(f64::NAN), None);
        assert_eq!(interval_for(1e-30), Some(MAX_INTERVAL));
    }

    #[tokio::test]
    async fn limiter_spaces_one_host_and_not_the_other() {
        let limiters = Arc::new(HostLimiters::new());
        let t0 = Instant::now();
        limiters.wait("a:80", 5.0).await;
        assert!(
            t0.elapsed() < Duration::from_millis(150),
            "first request is not delayed"
        );
        let (a, b) = tokio::join!(
            async {
                limiters.wait("a:80", 5.0).await;
                t0.elapsed()
            },
            async {
                limiters.wait("b:80", 5.0).await;
                t0.elapsed()
            }
        );
        assert!(
            a >= Duration::from_millis(195),
            "second on host a after {a:?}"
        );
        assert!(b < Duration::from_millis(150), "host b waited {b:?}");
        let mut last = a;
        for _ in 0..3 {
            limiters.wait("a:80", 5.0).await;
            let now = t0.elapsed();
            assert!(
                now - last >= Duration::from_millis(195),
                "gap {:?}",
                now - last
            );
            last = now;
        }
        // No limit: never waits.
        let t1 = Instant::now();
        for _ in 0..20 {
            limiters.wait("c:80", 0.0).await;
        }
        assert!(t1.elapsed() < Duration::from_millis(150));
    }

    #[tokio::test]
    async fn concurrent_waiters_are_serialised() {
        let limiters = Arc::new(HostLimiters::new());
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let l = Arc::clone(&limiters);
            tasks.push(tokio::spawn(async move {
                l.wait("a:80", 10.0).await;
                t0.elapsed()
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap());
        }
        times.sort();
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(95), "{times:?}");
        }
    }

    #[tokio::test]
    async fn penalize_halves_and_recover_restores() {
        let limiters = HostLimiters::new();
        limiters.wait("a:80", 10.0).await;
        assert_eq!(limiters.interval("a:80"), Some(Duration::from_millis(100)));
        limiters.penalize("a:80");
        assert_eq!(limiters.interval("a:80"), Some(Duration::from_millis(200)));
        assert_eq!(limiters.slowed_rate("a:80"), Some(5.0));
        // The slower pace applies at once, counted from the penalty.
        let t0 = Instant::now();
        limiters.wait("a:80", 10.0).await;
        assert!(
            t0.elapsed() >= Duration::from_millis(195),
            "{:?}",
            t0.elapsed()
        );
        let t1 = Instant::now();
        limiters.wait("a:80", 10.0).await;
        assert!(
            t1.elapsed() >= Duration::from_millis(195),
            "{:?}",
            t1.elapsed()
        );
        limiters.penalize("a:80");
        assert_eq!(limiters.slowed_rate("a:80"), Some(2.5));
        for _ in 0..20 {
            limiters.recover("a:80");
        }
        assert_eq!(limiters.slowed_rate("a:80"), None);
        assert_eq!(limiters.interval("a:80"), Some(Duration::from_millis(100)));
        // Floor, and a host with no limit.
        for _ in 0..30 {
            limiters.penalize("a:80");
        }
        assert_eq!(limiters.slowed_rate("a:80"), Some(MIN_PENALIZED_RATE));
        limiters.penalize("free:80");
        assert_eq!(
            limiters.slowed_rate("free:80"),
            Some(UNLIMITED_PENALTY_RATE)
        );
        limiters.set_slowed_rate("saved:80", 0.25);
        assert_eq!(limiters.interval("saved:80"), Some(Duration::from_secs(4)));
    }

    #[tokio::test]
    async fn min_interval_only_slows() {
        let limiters = HostLimiters::new();
        limiters.set_min_interval("a:80", Duration::from_millis(300));
        limiters.wait("a:80", 10.0).await;
        assert_eq!(limiters.interval("a:80"), Some(Duration::from_millis(300)));
        limiters.set_min_interval("a:80", Duration::from_millis(50));
        assert_eq!(limiters.interval("a:80"), Some(Duration::from_millis(300)));
        let t0 = Instant::now();
        limiters.wait("a:80", 10.0).await;
        assert!(
            t0.elapsed() >= Duration::from_millis(295),
            "{:?}",
            t0.elapsed()
        );
        // Two sites on one host: the slower configured rate wins.
        limiters.wait("b:80", 10.0).await;
        limiters.wait("b:80", 2.0).await;
        assert_eq!(limiters.interval("b:80"), Some(Duration::from_millis(500)));
        limiters.wait("b:80", 10.0).await;
        assert_eq!(limiters.interval("b:80"), Some(Duration::from_millis(500)));
    }

    struct Site {
        status: StatusCode,
        body: &'static str,
        hits: AtomicUsize,
        robots_hits: AtomicUsize,
    }

    async fn handler(State(site): State<Arc<Site>>, uri: Uri) -> axum::response::Response {
        site.hits.fetch_add(1, Ordering::SeqCst);
        if uri.path() == "/robots.txt" {
            site.robots_hits.fetch_add(1, Ordering::SeqCst);
            return (site.status, site.body).into_response();
        }
        (StatusCode::OK, "<html></html>").into_response()
    }

    async fn robots_server(status: StatusCode, body: &'static str) -> (SocketAddr, Arc<Site>) {
        let site = Arc::new(Site {
            status,
            body,
            hits: AtomicUsize::new(0),
            robots_hits: AtomicUsize::new(0),
        });
        let app = Router::new()
            .fallback(get(handler))
            .with_state(Arc::clone(&site));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (addr, site)
    }

    fn fetcher() -> Fetcher {
        Fetcher::new(FetchOptions {
            user_agent: "luutru/0.1 (+https://example.org/luutru)".into(),
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            max_body: 1 << 20,
        })
        .unwrap()
    }

    fn at(addr: SocketAddr, path: &str) -> Url {
        Url::parse(&format!("http://{addr}{path}")).unwrap()
    }

    const ROBOTS: &str = "User-agent: *\nDisallow: /\n\n\
        User-agent: luutru\nDisallow: /Search/\nDisallow: /*?print=1\nAllow: /\nCrawl-delay: 2\n";

    #[tokio::test]
    async fn robots_rules_for_our_token_and_crawl_delay() {
        let (addr, site) = robots_server(StatusCode::OK, ROBOTS).await;
        let robots = Robots::new("luutru");
        let limiters = HostLimiters::new();
        let f = fetcher();
        let ask = |p: &'static str| {
            let (robots, limiters, f) = (&robots, &limiters, &f);
            async move { robots.check(&at(addr, p), f, limiters, 0.0).await }
        };
        let (v1, v2) = tokio::join!(ask("/news/Pages/new.aspx?ItemID=1"), ask("/Search/x"));
        assert_eq!(v1, RobotsVerdict::Allowed);
        assert_eq!(v2, RobotsVerdict::Disallowed);
        assert_eq!(ask("/news/a.aspx?print=1").await, RobotsVerdict::Disallowed);
        assert_eq!(
            site.robots_hits.load(Ordering::SeqCst),
            1,
            "fetched once per origin"
        );
        assert_eq!(
            site.hits.load(Ordering::SeqCst),
            1,
            "check never fetches the page itself"
        );
        let key = host_key(&at(addr, "/"));
        assert_eq!(limiters.interval(&key), Some(Duration::from_secs(2)));
        assert_eq!(
            robots.crawl_delay(&at(addr, "/")),
            Some(Duration::from_secs(2))
        );
        // Another token falls under `*`.
        let other = Robots::new("otherbot");
        assert_eq!(
            other
                .check(&at(addr, "/news/"), &f, &HostLimiters::new(), 0.0)
                .await,
            RobotsVerdict::Disallowed
        );
    }

    #[tokio::test]
    async fn robots_404_allows_all() {
        let (addr, _) = robots_server(StatusCode::NOT_FOUND, "no").await;
        let robots = Robots::new("luutru");
        let limiters = HostLimiters::new();
        let v = robots
            .check(&at(addr, "/Search/x"), &fetcher(), &limiters, 0.0)
            .await;
        assert_eq!(v, RobotsVerdict::Allowed);
        assert_eq!(limiters.interval(&host_key(&at(addr, "/"))), None);
    }

    #[tokio::test]
    async fn robots_500_is_unavailable_for_the_run() {
        let (addr, site) = robots_server(StatusCode::INTERNAL_SERVER_ERROR, "oops").await;
        let robots = Robots::new("luutru");
        let limiters = HostLimiters::new();
        let f = fetcher();
        for p in ["/", "/news/a.aspx", "/robots.txt"] {
            assert_eq!(
                robots.check(&at(addr, p), &f, &limiters, 0.0).await,
                RobotsVerdict::Unavailable
            );
        }
        assert_eq!(site.robots_hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn robots_unreachable_is_unavailable() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let v = Robots::new("luutru")
            .check(&at(addr, "/"), &fetcher(), &HostLimiters::new(), 0.0)
            .await;
        assert_eq!(v, RobotsVerdict::Unavailable);
    }

    #[tokio::test]
    async fn robots_fetch_is_rate_limited() {
        let (addr, _) = robots_server(StatusCode::NOT_FOUND, "").await;
        let limiters = HostLimiters::new();
        let key = host_key(&at(addr, "/"));
        limiters.wait(&key, 4.0).await;
        let t0 = Instant::now();
        Robots::new("luutru")
            .check(&at(addr, "/"), &fetcher(), &limiters, 4.0)
            .await;
        assert!(
            t0.elapsed() >= Duration::from_millis(245),
            "{:?}",
            t0.elapsed()
        );
    }

    #[test]
    fn unparseable_rule_does_not_void_the_file() {
        // A `$` rule with very many wildcards exceeds the parser's regex size limit.
        let txt = format!(
            "User-agent: *\nDisallow: /private/\nDisallow: /{}$\nDisallow: /tmp/\n",
            "A*B".repeat(20_000)
        );
        assert!(texting_robots::Robot::new("luutru", txt.as_bytes()).is_err());
        let robot = parse_robots("luutru", txt.as_bytes());
        assert!(!robot.allowed("/private/x"));
        assert!(!robot.allowed("/tmp/x"));
        assert!(robot.allowed("/public"));
        assert_eq!(delay_duration(Some(f32::INFINITY)), None);
        assert_eq!(delay_duration(Some(-1.0)), None);
        assert_eq!(delay_duration(Some(0.5)), Some(Duration::from_millis(500)));
        assert_eq!(delay_duration(Some(1e12)), Some(MAX_INTERVAL));
    }
}
