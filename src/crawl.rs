//! One archival run: the scheduler over the store's frontier.
//!
//! The frontier lives in the store (`frontier` + `queue` trees), so memory holds only the
//! pages in flight and a small ready buffer, and a run stopped by Ctrl-C or `kill -9`
//! resumes where it stopped: a page leaves the queue only in the same transaction that
//! records its outcome. Known articles due for a revisit are not queued: the scheduler
//! walks the stored articles for them, one walk per origin ([`Store::due_articles`]), so an
//! unchanged revisit writes a few bytes; a resumed run walks again, and what it revisited
//! before the stop is fresh by then.
//!
//! Flow of one page (`process`): robots.txt → per-host rate limiter → global concurrency
//! permit → fetch (retries with backoff) → WARC (fsynced) → redirects followed hop by hop,
//! each hop archived and checked against the site's scope → decode → parse once (links and
//! article) → one store commit (article/version/aliases, links queued, page done).
//!
//! Parts: [`CrawlOptions`], [`run`], [`RunSummary`] / [`SiteCounts`], [`PageOutcome`].

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{FixedOffset, Utc};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use crate::config::{Config, PageKind, Site};
use crate::dedup::content_hash;
use crate::extract::{decode_html, parse_page};
use crate::fetch::{
    backoff_delay, parse_retry_after, Conditional, FetchFailure, FetchOptions, Fetcher, RawResponse,
};
use crate::politeness::{host_key, HostLimiters, Robots, RobotsVerdict};
use crate::store::model::{FrontierEntry, FrontierState};
use crate::store::{
    warc, ArticleStore, Commit, CommitResult, EnqueuePolicy, FetchedArticle, Store, WalkStep,
};
use crate::{Error, Result};

/// Most pages held in memory, ready to go, at once (the queue itself stays in the store).
pub const READY_MAX: usize = 4096;
/// Queued URLs one top-up of the ready buffer looks at, at most; the next one goes on from
/// there. Bounds the scheduler's work per finished page however long the queue is.
pub const QUEUE_SCAN_MAX: usize = 1024;
/// A host's places in flight plus ready, beyond its cap in flight: at least this many.
pub const READY_EXTRA_MIN: usize = 2;
/// Due articles a revisit walk reads from the store at once, per origin.
pub const WALK_CHUNK: usize = 256;
/// Seeds queued per transaction when a run starts.
pub const SEED_CHUNK: usize = 1000;
/// Redirect hops followed before a page fails.
pub const MAX_REDIRECTS: usize = 10;
/// How long in-flight pages may finish after a shutdown request before they are put back.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// First retry delay; doubled per attempt, with jitter.
pub const RETRY_BASE_DELAY: Duration = Duration::from_millis(500);
/// Vietnam's offset: stored dates are expressed in it.
pub const VN_OFFSET_SECS: i32 = 7 * 3600;

/// What the caller asks of one run.
#[derive(Debug, Clone, Default)]
pub struct CrawlOptions {
    /// Only these sites (empty = all).
    pub sites: Vec<String>,
    /// Overrides `[crawl].max_pages` when set.
    pub max_pages: Option<u64>,
    /// Fetch every known article again, however recent.
    pub revisit_all: bool,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

/// Counts for one site (or the whole run).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SiteCounts {
    pub fetched: u64,
    pub new_articles: u64,
    pub new_versions: u64,
    pub unchanged: u64,
    pub gone: u64,
    pub listings: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Left queued for the next run.
    pub deferred: u64,
    /// Failures and skips by reason.
    pub reasons: BTreeMap<String, u64>,
    /// Response bytes received (as sent: compressed if the server compressed).
    pub bytes_downloaded: u64,
    /// Bytes appended to the WARC files.
    pub bytes_stored: u64,
    /// Template health: per field, how many article pages got it from each kind of
    /// source (`selector`, `json-ld`, `meta`, `generic`, `heuristic`, `none`).
    pub field_sources: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Requests and latency for one host.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct HostStats {
    pub requests: u64,
    pub mean_latency_ms: f64,
}

/// The outcome of one run; also its record in the store (`luutru runs`).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RunSummary {
    /// This process's run record id.
    pub id: u64,
    /// The crawl pass (frontier run) it worked on; a resumed pass keeps its number.
    pub run: u64,
    pub resumed: bool,
    pub interrupted: bool,
    /// completed / interrupted / stopped (max_pages) / failed
    pub outcome: String,
    pub started: Option<chrono::DateTime<Utc>>,
    pub ended: Option<chrono::DateTime<Utc>>,
    /// blake3 of the config file the run used.
    pub config_digest: String,
    /// The error that stopped a failed run.
    pub error: Option<String>,
    pub fetched: u64,
    pub new_articles: u64,
    pub new_versions: u64,
    pub unchanged: u64,
    pub gone: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Still queued when the run stopped (max_pages or shutdown).
    pub queued: u64,
    /// Whether known articles due for a revisit were left for the next run (max_pages or
    /// shutdown; they are not queued, so not in `queued`).
    pub revisits_left: bool,
    pub bytes_downloaded: u64,
    pub bytes_stored: u64,
    pub sites: BTreeMap<String, SiteCounts>,
    pub hosts: BTreeMap<String, HostStats>,
    /// Loud warnings about sites whose selectors stopped matching.
    pub template_warnings: Vec<String>,
}

/// What one page cost: requests per host, bytes, and where its fields came from.
#[derive(Debug, Default)]
struct PageStats {
    requests: Vec<(String, Duration)>,
    bytes_downloaded: u64,
    bytes_stored: u64,
    sources: Option<crate::extract::FieldSources>,
}

/// What happened to one page. One bad page never stops a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome {
    NewArticle,
    NewVersion,
    Unchanged,
    Gone,
    Listing,
    Skipped(String),
    Failed(String),
    /// Not committed: left queued for the next run (a Retry-After beyond
    /// `max_retry_after`).
    Deferred(String),
}

struct Ctx {
    config: Config,
    store: Arc<Store>,
    fetcher: Fetcher,
    limiters: HostLimiters,
    robots: Robots,
    permits: Semaphore,
    /// Parses (parse and extract) running at once: one per core. More would not go faster,
    /// and memory would hold a parsed DOM per page in flight.
    cpu: Arc<Semaphore>,
    /// Store commits running at once, one per core too, but permits of their own: a commit
    /// is partly CPU (compression, signatures) and partly waiting (sled reads of nodes not
    /// cached, sled's locks). Sharing the parse permits left a core idle whenever a commit
    /// waited: a recrawl of 20,000 unchanged articles took 48.5 s that way, 36.4 s with
    /// separate permits.
    commits: Semaphore,
    policy: EnqueuePolicy,
    /// Distinct query strings seen per path this run (trap guard).
    variants: std::sync::Mutex<TrapGuard>,
}

/// Runs one archival crawl until the frontier is empty, `max_pages` is reached or
/// `shutdown` resolves (in-flight pages then get [`SHUTDOWN_GRACE`] to finish; the rest stay
/// queued for the next run).
pub async fn run(
    config: &Config,
    store: Arc<Store>,
    opts: CrawlOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<RunSummary> {
    check_sites(config, &opts.sites)?;
    let mut summary = RunSummary {
        id: store.next_record_id()?,
        started: Some(Utc::now()),
        config_digest: config.digest.clone(),
        ..Default::default()
    };
    let result = run_pass(config, &store, opts, shutdown, &mut summary).await;
    summary.ended = Some(Utc::now());
    summary.outcome = match &result {
        Err(e) => {
            summary.error = Some(e.to_string());
            "failed"
        }
        Ok(()) if summary.interrupted => "interrupted",
        Ok(()) if summary.queued > 0 || summary.revisits_left => "stopped",
        Ok(()) => "completed",
    }
    .to_string();
    summary.template_warnings = template_warnings(config, &summary);
    for w in &summary.template_warnings {
        tracing::warn!("{w}");
    }
    tracing::info!(
        run = summary.id,
        outcome = %summary.outcome,
        fetched = summary.fetched,
        new_articles = summary.new_articles,
        new_versions = summary.new_versions,
        unchanged = summary.unchanged,
        gone = summary.gone,
        failed = summary.failed,
        "crawl finished"
    );
    let record = serde_json::to_vec(&summary).expect("summary serializes");
    let saved = store
        .put_run_record(summary.id, &record)
        .and_then(|()| store.flush());
    result?;
    saved?;
    Ok(summary)
}

/// Fails unless every `--site` name is configured. Callers check before opening the store,
/// so a typo writes nothing.
pub fn check_sites(config: &Config, sites: &[String]) -> Result<()> {
    for name in sites {
        if config.site(name).is_none() {
            return Err(Error::InvalidConfig {
                path: config.path.clone(),
                message: format!(
                    "--site {name}: no such site (configured: {})",
                    config
                        .sites
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// Pages with a selector for a field, below which a run warns that the selector stopped
/// matching (the site probably changed its template).
pub const TEMPLATE_MIN_PAGES: u64 = 3;

/// Sites whose configured selectors matched on fewer than half of this run's article pages.
fn template_warnings(config: &Config, summary: &RunSummary) -> Vec<String> {
    let mut out = Vec::new();
    for (name, counts) in &summary.sites {
        let Some(site) = config.site(name) else {
            continue;
        };
        let sel = &site.selectors;
        for (field, configured) in [
            ("title", &sel.title),
            ("published", &sel.date),
            ("author", &sel.author),
            ("summary", &sel.summary),
            ("body", &sel.body),
        ] {
            let Some(spec) = configured else { continue };
            let Some(by_kind) = counts.field_sources.get(field) else {
                continue;
            };
            let pages: u64 = by_kind.values().sum();
            let matched = by_kind.get("selector").copied().unwrap_or(0);
            if pages >= TEMPLATE_MIN_PAGES && matched * 2 < pages {
                out.push(format!(
                    "TEMPLATE CHANGE? site {name}: the {field} selector `{}` matched on only {matched} of {pages} article pages this run (the rest fell back to {}); check it with `luutru extract --site {name}` on a saved page",
                    spec.text,
                    by_kind
                        .iter()
                        .filter(|(k, _)| k.as_str() != "selector")
                        .map(|(k, n)| format!("{k}: {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    out
}

async fn run_pass(
    config: &Config,
    store: &Arc<Store>,
    opts: CrawlOptions,
    shutdown: impl Future<Output = ()>,
    summary: &mut RunSummary,
) -> Result<()> {
    let selected = |name: &str| opts.sites.is_empty() || opts.sites.iter().any(|s| s == name);

    let run = match store.current_run()? {
        // A run killed while its seeds were being queued resumes, and queues the rest; one
        // killed while revisiting resumes, and revisits what it had not.
        Some(run) if store.queued() > 0 || store.seeding()? || store.revisiting()? => {
            summary.resumed = true;
            run
        }
        _ => store.begin_run(opts.sites.clone())?,
    };
    summary.run = run.id;
    let revisit = if opts.revisit_all {
        chrono::Duration::zero()
    } else {
        chrono::Duration::from_std(config.crawl.revisit).unwrap_or(chrono::Duration::MAX)
    };
    let policy = EnqueuePolicy {
        run: run.id,
        fresh_after: run
            .started
            .checked_sub_signed(revisit)
            .unwrap_or(run.started),
        revisit_walk: true,
    };
    if !summary.resumed || store.seeding()? {
        // A run killed meanwhile sees the mark and queues the seeds again (harmless: a URL
        // queued or done in this run is skipped).
        store.set_seeding(true)?;
        let mut seeds = Vec::new();
        for site in config.sites.iter().filter(|s| selected(&s.name)) {
            for seed in &site.seeds {
                seeds.push(FrontierEntry {
                    url: seed.to_string(),
                    site: site.name.clone(),
                    depth: 0,
                    kind: site.classify(seed).unwrap_or(PageKind::Seed),
                    state: FrontierState::Queued,
                    run: run.id,
                    attempts: 0,
                    last_error: None,
                    queued: None,
                });
                if seeds.len() >= SEED_CHUNK {
                    store.enqueue(&seeds, policy)?;
                    seeds.clear();
                }
            }
        }
        store.enqueue(&seeds, policy)?;
        // Known articles due for a revisit (gone ones too: they may come back) are not
        // queued: the scheduler walks the articles for them (see `Store::due_articles`).
        store.set_revisiting(true)?;
        store.set_seeding(false)?;
    }

    tracing::info!(
        pass = run.id,
        resumed = summary.resumed,
        queued = store.queued(),
        sites = ?opts.sites,
        "crawl started"
    );
    let c = &config.crawl;
    let fetcher = Fetcher::new(FetchOptions {
        user_agent: c.user_agent.clone(),
        timeout: c.timeout,
        connect_timeout: crate::fetch::DEFAULT_CONNECT_TIMEOUT.min(c.timeout),
        max_body: c.max_body,
    })?;
    let token = c
        .user_agent
        .split(['/', ' '])
        .next()
        .unwrap_or("luutru")
        .to_string();
    let limiters = HostLimiters::new();
    for (host, rate) in store.host_rates()? {
        limiters.set_slowed_rate(&host, rate);
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let ctx = Arc::new(Ctx {
        config: config.clone(),
        store: store.clone(),
        fetcher,
        limiters,
        robots: Robots::new(&token),
        permits: Semaphore::new(c.concurrency),
        cpu: Arc::new(Semaphore::new(cores)),
        commits: Semaphore::new(cores),
        policy,
        variants: Default::default(),
    });

    let max_pages = opts.max_pages.unwrap_or(c.max_pages);
    let progress = if opts.progress {
        let pb = indicatif::ProgressBar::new(store.queued() as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {pos}/{len} pages {msg}",
            )
            .expect("static template"),
        );
        Some(pb)
    } else {
        None
    };

    let mut inflight: HashSet<String> = HashSet::new();
    // Deferred pages stay queued for the next run; this run must not pick them up again.
    let mut deferred: HashSet<String> = HashSet::new();
    let mut per_host: HashMap<String, usize> = HashMap::new();
    // Pages ready to go, with their host key, and their URLs (to skip them in the queue).
    let mut ready: VecDeque<(FrontierEntry, String)> = VecDeque::new();
    let mut ready_urls: HashSet<String> = HashSet::new();
    // Where the next look into the queue starts. The looks go round the queue, so a long
    // backlog of pages that cannot go yet is passed over once a round, not on every top-up.
    let mut cursor: Vec<u8> = Vec::new();
    // The walks of known articles due for a revisit: one per origin (articles sort by URL,
    // so an origin's are together), each with the key it goes on from, so that every host
    // gets its share of the revisits at once. Dropped when through; a resumed run starts
    // them over (what was revisited is fresh by then).
    let mut walks: Vec<Walk> = if store.revisiting()? {
        store
            .article_origins()?
            .into_iter()
            .map(|origin| Walk {
                origin,
                from: Some(Vec::new()),
                found: VecDeque::new(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let due = |a: &crate::store::model::ArticleRecord| {
        selected(&a.site) && a.last_seen <= policy.fresh_after && config.site(&a.site).is_some()
    };
    // "scheme://authority" → host key, so the queue scan needs no URL parse per page.
    let mut origins: HashMap<String, String> = HashMap::new();
    let mut tasks: JoinSet<(FrontierEntry, String, Result<PageOutcome>, PageStats)> =
        JoinSet::new();
    let mut dispatched: u64 = 0;
    let mut stopping = false;
    let mut exhausted = false;
    tokio::pin!(shutdown);
    let cap_of = |site: &str| {
        config
            .site(site)
            .map_or(1, |s| if s.rate > 0.0 { 2 } else { c.concurrency })
    };
    // A host's places in flight plus ready. A quarter of its cap more than its cap: a
    // top-up then finds room for a fair share of pages. With only two more, a host crawled
    // at full concurrency sent the scheduler back to the queue every third page, each time
    // reading QUEUE_SCAN_MAX entries past the host's waiting pages (5% of the CPU over
    // the crawl bench's first 3,000 pages). A rate-limited host keeps its two extra places.
    let places = |cap: usize| cap + (cap / 4).max(READY_EXTRA_MIN);
    // No host takes more places than this: its pages are passed over in the queue without
    // decoding them.
    let cap_max = places(
        config
            .sites
            .iter()
            .map(|s| cap_of(&s.name))
            .max()
            .unwrap_or(1),
    );

    loop {
        if !stopping && (max_pages == 0 || dispatched < max_pages) {
            // Top up the ready buffer when nothing in it can go. Pages of hosts at their cap
            // wait there, and each host gets only a few places in it, so one host's long
            // backlog never keeps the other hosts' pages out of reach.
            let can_go = |(e, host): &(FrontierEntry, String)| {
                per_host.get(host).copied().unwrap_or(0) < cap_of(&e.site)
            };
            if !exhausted && ready.len() < READY_MAX && !ready.iter().any(can_go) {
                let counts = std::cell::RefCell::new(per_host.clone());
                for (_, host) in &ready {
                    *counts.borrow_mut().entry(host.clone()).or_default() += 1;
                }
                let origins = std::cell::RefCell::new(&mut origins);
                let host_of = |url: &str| host_of_url(&mut origins.borrow_mut(), url);
                let mut hosts = Vec::new();
                let (batch, next) = store.pending_from(
                    &cursor,
                    c.concurrency * 4 + 16,
                    QUEUE_SCAN_MAX,
                    &mut |url| {
                        inflight.contains(url)
                            || deferred.contains(url)
                            || ready_urls.contains(url)
                            || counts.borrow().get(&host_of(url)).copied().unwrap_or(0) >= cap_max
                    },
                    &mut |e| {
                        if !selected(&e.site) {
                            return false;
                        }
                        let host = host_of(&e.url);
                        let mut counts = counts.borrow_mut();
                        let n = counts.entry(host.clone()).or_default();
                        if *n >= places(cap_of(&e.site)) {
                            return false;
                        }
                        *n += 1;
                        hosts.push(host);
                        true
                    },
                )?;
                cursor = next.unwrap_or_default();
                exhausted = batch.is_empty();
                let mut batch: Vec<_> = batch.into_iter().zip(hosts).collect();
                // Then due articles, into the room the queue left. A walk reads its
                // origin's articles WALK_CHUNK at a time (a sled range read copies a whole
                // node, too dear to do for every page), and hands them out as hosts have room.
                let mut w = 0;
                while w < walks.len() && batch.len() < READY_MAX / 2 {
                    let walk = &mut walks[w];
                    // A few looks at most: an origin with little due (a scheduled run
                    // shortly after the last) should not stall the pages that can go.
                    for _ in 0..8 {
                        let Some(from) = walk.from.as_ref().filter(|_| walk.found.is_empty())
                        else {
                            break;
                        };
                        let mut taken = 0;
                        let (found, next) = store.due_articles(
                            &walk.origin,
                            from,
                            QUEUE_SCAN_MAX,
                            policy.run,
                            &mut |a| {
                                if taken == WALK_CHUNK {
                                    WalkStep::Stop
                                } else if !due(a)
                                    || inflight.contains(&a.url)
                                    || deferred.contains(&a.url)
                                    || ready_urls.contains(&a.url)
                                {
                                    WalkStep::Skip
                                } else {
                                    taken += 1;
                                    WalkStep::Take
                                }
                            },
                        )?;
                        walk.found.extend(found);
                        walk.from = next;
                    }
                    while let Some(e) = walk.found.front() {
                        let host = host_of(&e.url);
                        let mut counts = counts.borrow_mut();
                        let n = counts.entry(host.clone()).or_default();
                        if *n >= places(cap_of(&e.site)) {
                            break;
                        }
                        *n += 1;
                        if let Some(e) = walk.found.pop_front() {
                            batch.push((e, host));
                        }
                    }
                    if walk.found.is_empty() && walk.from.is_none() {
                        walks.swap_remove(w);
                    } else {
                        w += 1;
                    }
                }
                exhausted &= batch.is_empty();
                for (e, host) in batch {
                    ready_urls.insert(e.url.clone());
                    ready.push_back((e, host));
                }
            }
            // Dispatch what the per-host caps allow; keep the rest for later.
            let mut held = VecDeque::new();
            while let Some((entry, host)) = ready.pop_front() {
                if max_pages != 0 && dispatched >= max_pages {
                    held.push_back((entry, host));
                    continue;
                }
                let Some(site) = config.site(&entry.site) else {
                    ready_urls.remove(&entry.url);
                    continue;
                };
                // A rate-limited host gets two slots (one waiting on its limiter, one in
                // flight) so a slow host cannot take every slot from the others.
                let cap = if site.rate > 0.0 { 2 } else { c.concurrency };
                let n = per_host.entry(host.clone()).or_default();
                if *n >= cap || tasks.len() >= c.concurrency * 2 {
                    held.push_back((entry, host));
                    continue;
                }
                ready_urls.remove(&entry.url);
                if Url::parse(&entry.url).is_err() {
                    continue;
                }
                *n += 1;
                dispatched += 1;
                inflight.insert(entry.url.clone());
                let ctx = ctx.clone();
                tasks.spawn(async move {
                    let stats = std::sync::Mutex::new(PageStats::default());
                    let out = process(&ctx, &entry, &stats).await;
                    (
                        entry,
                        host,
                        out,
                        stats.into_inner().unwrap_or_else(|p| p.into_inner()),
                    )
                });
            }
            ready = held;
        }

        if tasks.is_empty() {
            if stopping || (max_pages != 0 && dispatched >= max_pages) {
                break;
            }
            if ready.is_empty() {
                // Links committed since the last look may have refilled the queue; walks
                // not through yet have more to look at.
                if walks.is_empty() {
                    let skip: HashSet<String> = inflight.union(&deferred).cloned().collect();
                    let more = store.pending(1, &skip, &mut |e| selected(&e.site))?;
                    if more.is_empty() {
                        break;
                    }
                }
                exhausted = false;
            }
            continue;
        }

        tokio::select! {
            joined = tasks.join_next() => {
                let Some(joined) = joined else { continue };
                let (entry, host, out, stats) = match joined {
                    Ok(v) => v,
                    Err(e) => return Err(Error::FetchPage { url: "(task)".into(), message: format!("crawl task died: {e}") }),
                };
                inflight.remove(&entry.url);
                if let Some(n) = per_host.get_mut(&host) { *n = n.saturating_sub(1); }
                exhausted = false;
                let outcome = match out {
                    Ok(o) => o,
                    // A store error is not a page problem: stop the run.
                    Err(e) => return Err(e),
                };
                if let PageOutcome::Deferred(_) = &outcome {
                    deferred.insert(entry.url.clone());
                }
                record(summary, &entry, &outcome, &stats);
                if let Some(pb) = &progress {
                    pb.set_length(dispatched + store.queued() as u64);
                    pb.inc(1);
                    pb.set_message(format!("{} new, {} versions, {} failed", summary.new_articles, summary.new_versions, summary.failed));
                }
            }
            _ = &mut shutdown, if !stopping => {
                tracing::warn!("shutdown requested: finishing pages in flight, the rest stays queued");
                stopping = true;
                summary.interrupted = true;
                ready.clear();
                ready_urls.clear();
                let deadline = tokio::time::sleep(SHUTDOWN_GRACE);
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        joined = tasks.join_next() => {
                            match joined {
                                None => break,
                                Some(Ok((entry, _, Ok(outcome), stats))) => record(summary, &entry, &outcome, &stats),
                                Some(Ok((_, _, Err(e), _))) => return Err(e),
                                Some(Err(_)) => {}
                            }
                        }
                        _ = &mut deadline => {
                            // Pages still in flight were never committed: they stay queued.
                            tasks.abort_all();
                            break;
                        }
                    }
                }
            }
        }
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    // Hosts that were slowed (429/503) start the next scheduled run at the slower pace.
    for host in summary.hosts.keys() {
        store.set_host_rate(host, ctx.limiters.slowed_rate(host))?;
    }
    summary.queued = store.queued() as u64;
    // Walked articles still in the ready buffer (max_pages reached) are not in the queue.
    summary.revisits_left = !walks.is_empty()
        || ready.iter().try_fold(false, |left, (e, _)| {
            Ok::<_, Error>(left || !store.is_queued(&e.url)?)
        })?;
    if !summary.interrupted && !summary.revisits_left {
        store.set_revisiting(false)?;
    }
    if !summary.interrupted && summary.queued == 0 && !summary.revisits_left {
        store.finish_run()?;
    } else {
        store.flush()?;
    }
    Ok(())
}

/// A walk of one origin's known articles for those due for a revisit (see
/// [`Store::due_articles`]).
struct Walk {
    origin: String,
    /// The key to go on from; `None` once the walk has read the whole origin.
    from: Option<Vec<u8>>,
    /// Due articles read, not yet handed out.
    found: VecDeque<FrontierEntry>,
}

fn record(
    summary: &mut RunSummary,
    entry: &FrontierEntry,
    outcome: &PageOutcome,
    stats: &PageStats,
) {
    for (host, latency) in &stats.requests {
        let h = summary.hosts.entry(host.clone()).or_default();
        let total = h.mean_latency_ms * h.requests as f64 + latency.as_secs_f64() * 1000.0;
        h.requests += 1;
        h.mean_latency_ms = total / h.requests as f64;
    }
    summary.bytes_downloaded += stats.bytes_downloaded;
    summary.bytes_stored += stats.bytes_stored;
    match outcome {
        PageOutcome::NewArticle => {
            tracing::info!(url = %entry.url, site = %entry.site, "new article")
        }
        PageOutcome::NewVersion => {
            tracing::info!(url = %entry.url, site = %entry.site, "new version")
        }
        PageOutcome::Gone => tracing::info!(url = %entry.url, site = %entry.site, "article gone"),
        PageOutcome::Skipped(r) => {
            tracing::debug!(url = %entry.url, site = %entry.site, reason = %r, "skipped")
        }
        PageOutcome::Deferred(r) => {
            tracing::info!(url = %entry.url, site = %entry.site, reason = %r, "deferred")
        }
        _ => tracing::debug!(url = %entry.url, site = %entry.site, outcome = ?outcome, "page done"),
    }
    let site = summary.sites.entry(entry.site.clone()).or_default();
    site.bytes_downloaded += stats.bytes_downloaded;
    site.bytes_stored += stats.bytes_stored;
    if let Some(src) = &stats.sources {
        for (field, source) in [
            ("title", &src.title),
            ("published", &src.published),
            ("author", &src.author),
            ("summary", &src.summary),
            ("body", &src.body),
        ] {
            let kind = source
                .as_deref()
                .map(|s| s.split(':').next().unwrap_or(s).to_string())
                .unwrap_or_else(|| "none".into());
            *site
                .field_sources
                .entry(field.into())
                .or_default()
                .entry(kind)
                .or_default() += 1;
        }
    }
    let fetched = !matches!(outcome, PageOutcome::Skipped(_) | PageOutcome::Deferred(_));
    if fetched {
        site.fetched += 1;
    }
    match outcome {
        PageOutcome::NewArticle => site.new_articles += 1,
        PageOutcome::NewVersion => site.new_versions += 1,
        PageOutcome::Unchanged => site.unchanged += 1,
        PageOutcome::Gone => site.gone += 1,
        PageOutcome::Listing => site.listings += 1,
        PageOutcome::Skipped(r) => {
            site.skipped += 1;
            *site.reasons.entry(reason_key(r)).or_default() += 1;
        }
        PageOutcome::Deferred(r) => {
            site.deferred += 1;
            *site.reasons.entry(reason_key(r)).or_default() += 1;
        }
        PageOutcome::Failed(r) => {
            site.failed += 1;
            *site.reasons.entry(reason_key(r)).or_default() += 1;
            tracing::warn!(url = %entry.url, site = %entry.site, reason = %r, "page failed");
        }
    }
    let mut t = SiteCounts::default();
    for s in summary.sites.values() {
        t.fetched += s.fetched;
        t.new_articles += s.new_articles;
        t.new_versions += s.new_versions;
        t.unchanged += s.unchanged;
        t.gone += s.gone;
        t.skipped += s.skipped;
        t.failed += s.failed;
    }
    summary.fetched = t.fetched;
    summary.new_articles = t.new_articles;
    summary.new_versions = t.new_versions;
    summary.unchanged = t.unchanged;
    summary.gone = t.gone;
    summary.skipped = t.skipped;
    summary.failed = t.failed;
}

/// The reason's kind without its details ("http 503: …" → "http 503"). For a skipped
/// content type the media type is the kind ("content-type application/pdf"), so the summary
/// says what was skipped.
fn reason_key(r: &str) -> String {
    if let Some(ct) = r.strip_prefix("content-type:") {
        let mime = ct.split(';').next().unwrap_or(ct).trim();
        return format!("content-type {}", mime.to_ascii_lowercase());
    }
    r.split(':').next().unwrap_or(r).trim().to_string()
}

/// Fetches one page with retries; archives every response received.
async fn fetch_archived(
    ctx: &Ctx,
    stats: &std::sync::Mutex<PageStats>,
    site: &Site,
    url: &Url,
    cond: &Conditional,
    defer_final: bool,
) -> Result<std::result::Result<(RawResponse, Option<warc::WarcPtr>), FetchFailure>> {
    let host = host_key(url);
    let c = &ctx.config.crawl;
    let mut attempt: u32 = 0;
    loop {
        let result = {
            // Permit first, then the host's slot: a slot granted while waiting for a permit
            // would be used late and let the next request follow too closely.
            let _permit = ctx.permits.acquire().await.expect("semaphore never closed");
            ctx.limiters.wait(&host, site.rate).await;
            ctx.fetcher.fetch(url, cond).await
        };
        let retry_after;
        match result {
            Ok(resp) => {
                let status = resp.status;
                // An article's 200 or 304 is archived by the caller, and only if the
                // article changed: an unchanged revisit is recorded as seen, compactly.
                let ptr = if defer_final && (status == 304 || (200..300).contains(&status)) {
                    None
                } else {
                    Some(archive(ctx, stats, &resp).await?)
                };
                {
                    let mut st = stats.lock().unwrap_or_else(|p| p.into_inner());
                    st.requests.push((host.clone(), resp.elapsed));
                    st.bytes_downloaded += (resp.response_head.len() + resp.body.len()) as u64;
                }
                if (200..400).contains(&status) {
                    ctx.limiters.recover(&host);
                }
                if !(status == 429 || (500..600).contains(&status)) || attempt >= c.max_retries {
                    return Ok(Ok((resp, ptr)));
                }
                if status == 429 || status == 503 {
                    ctx.limiters.penalize(&host);
                }
                retry_after = resp
                    .header("retry-after")
                    .and_then(|v| parse_retry_after(v, Utc::now()));
                if retry_after.is_some_and(|d| d > c.max_retry_after) {
                    return Ok(Ok((resp, ptr)));
                }
                tracing::info!(url = %url, status, attempt, "retrying");
            }
            Err(fail) => {
                stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .requests
                    .push((host.clone(), Duration::ZERO));
                if !fail.is_retryable() || attempt >= c.max_retries {
                    return Ok(Err(fail));
                }
                retry_after = None;
                tracing::info!(url = %url, reason = fail.reason(), attempt, "retrying");
            }
        }
        attempt += 1;
        tokio::time::sleep(backoff_delay(attempt, RETRY_BASE_DELAY, retry_after)).await;
    }
}

async fn archive(
    ctx: &Ctx,
    stats: &std::sync::Mutex<PageStats>,
    resp: &RawResponse,
) -> Result<warc::WarcPtr> {
    let ptr = archive_raw(ctx, resp).await?;
    stats.lock().unwrap_or_else(|p| p.into_inner()).bytes_stored += ptr.length;
    Ok(ptr)
}

/// Writes the compact "seen unchanged" record of `url`; returns its time (as stored, so a
/// rebuild reads the same value back).
async fn archive_seen(
    ctx: &Ctx,
    url: &Url,
    resp: &RawResponse,
    validators: Option<(Option<String>, Option<String>)>,
) -> Result<chrono::DateTime<Utc>> {
    let store = ctx.store.clone();
    let (etag, last_modified) = validators.unwrap_or_default();
    let seen = crate::store::SeenRecord {
        url: url.to_string(),
        // WARC dates keep microseconds: the block says the same as the record's header.
        at: chrono::SubsecRound::trunc_subsecs(resp.fetched_at, 6),
        status: resp.status,
        etag,
        last_modified,
    };
    tokio::task::spawn_blocking(move || store.archive_seen(seen))
        .await
        .map_err(|e| Error::FetchPage {
            url: url.to_string(),
            message: format!("archiving task died: {e}"),
        })?
}

async fn archive_raw(ctx: &Ctx, resp: &RawResponse) -> Result<warc::WarcPtr> {
    let store = ctx.store.clone();
    let target = resp.url.to_string();
    let date = resp.fetched_at;
    let ip = resp.remote_ip;
    let req = resp.request_head.clone();
    let head = resp.response_head.clone();
    let body = resp.body.clone();
    tokio::task::spawn_blocking(move || {
        store.archive(&warc::Exchange {
            target_uri: &target,
            date,
            ip,
            request_head: &req,
            response_head: &head,
            body: &body,
            revisit_of: None,
        })
    })
    .await
    .map_err(|e| Error::FetchPage {
        url: resp.url.to_string(),
        message: format!("archiving task died: {e}"),
    })?
}

/// Fetches, archives, extracts and commits one frontier entry.
async fn process(
    ctx: &Ctx,
    entry: &FrontierEntry,
    stats: &std::sync::Mutex<PageStats>,
) -> Result<PageOutcome> {
    let Some(site) = ctx.config.site(&entry.site) else {
        return Ok(PageOutcome::Skipped("site no longer configured".into()));
    };
    let commit = |commit: Commit, links: Vec<FrontierEntry>| {
        let store = ctx.store.clone();
        let entry = entry.clone();
        let policy = ctx.policy;
        let commits = &ctx.commits;
        async move {
            let _commit = commits.acquire().await.expect("semaphore never closed");
            tokio::task::spawn_blocking(move || store.commit(&entry, &commit, &links, policy))
                .await
                .map_err(|e| Error::FetchPage {
                    url: "(commit)".into(),
                    message: format!("commit task died: {e}"),
                })?
        }
    };
    let fail = |reason: String| async move {
        commit(
            Commit::Failed {
                reason: reason.clone(),
            },
            Vec::new(),
        )
        .await?;
        Ok(PageOutcome::Failed(reason))
    };
    let skip = |reason: String| async move {
        commit(
            Commit::Failed {
                reason: format!("skipped: {reason}"),
            },
            Vec::new(),
        )
        .await?;
        Ok(PageOutcome::Skipped(reason))
    };

    let mut url = match Url::parse(&entry.url) {
        Ok(u) => u,
        Err(e) => return skip(format!("bad url: {e}")).await,
    };
    if !site.in_scope(&url) {
        return skip("out of scope".into()).await;
    }
    if trap_guard(ctx, &url) {
        return skip("trap: too many query variants under one path".into()).await;
    }

    // Validators are those of the article's own URL: an alias (another category id, a
    // print view) is another resource with its own ETag, so it is fetched unconditionally.
    // On the blocking pool, like every sled read of a page: a read waits while any
    // transaction holds sled's global lock, and an async worker waiting there stalls every
    // fetch it runs.
    let cond = if entry.kind == PageKind::Article {
        let store = ctx.store.clone();
        let key = entry.url.clone();
        tokio::task::spawn_blocking(move || -> Result<Conditional> {
            Ok(match store.resolve(&key)? {
                Some(k) if k == key => match store.article(&k)? {
                    Some(a) => Conditional {
                        etag: a.etag,
                        last_modified: a.last_modified,
                    },
                    None => Conditional::default(),
                },
                _ => Conditional::default(),
            })
        })
        .await
        .map_err(|e| Error::FetchPage {
            url: entry.url.clone(),
            message: format!("lookup task died: {e}"),
        })??
    } else {
        Conditional::default()
    };

    let mut visited = vec![url.clone()];
    let (resp, ptr) = loop {
        if ctx.config.crawl.respect_robots {
            match ctx
                .robots
                .check(&url, &ctx.fetcher, &ctx.limiters, site.rate)
                .await
            {
                RobotsVerdict::Allowed => {}
                RobotsVerdict::Disallowed => return skip("robots: disallowed".into()).await,
                RobotsVerdict::Unavailable => {
                    return skip("robots: robots.txt unavailable".into()).await
                }
            }
        }
        let is_article = entry.kind == PageKind::Article;
        let (resp, ptr) = match fetch_archived(ctx, stats, site, &url, &cond, is_article).await? {
            Ok(v) => v,
            Err(f) => return fail(format!("{}: {f}", f.reason())).await,
        };
        if !(300..400).contains(&resp.status) || resp.status == 304 {
            break (resp, ptr);
        }
        let Some(next) = resp.location() else {
            return fail(format!("http {}: redirect without Location", resp.status)).await;
        };
        let next = crate::canon::canonicalize(&next);
        if visited.contains(&next) {
            return fail(format!("redirect loop: {next}")).await;
        }
        if visited.len() > MAX_REDIRECTS {
            return fail(format!("redirects: more than {MAX_REDIRECTS} hops")).await;
        }
        if !matches!(next.scheme(), "http" | "https") || !site.in_scope(&next) {
            return skip(format!("out of scope: redirect to {next}")).await;
        }
        // An article that now redirects to the home page or a listing is gone.
        if entry.kind == PageKind::Article && site.classify(&next) != Some(PageKind::Article) {
            let at = ptr.as_ref().map_or(resp.fetched_at, |p| p.date);
            return match commit(
                Commit::Gone {
                    at,
                    status: resp.status,
                },
                Vec::new(),
            )
            .await?
            {
                CommitResult::Gone { .. } => Ok(PageOutcome::Gone),
                _ => Ok(PageOutcome::Skipped(format!(
                    "redirect to non-article {next}"
                ))),
            };
        }
        visited.push(next.clone());
        url = next;
    };

    let status = resp.status;
    // The capture time: the WARC record's when there is one (a rebuild reads that back).
    let at = ptr.as_ref().map_or(resp.fetched_at, |p| p.date);
    if status == 429 || status == 503 {
        let wait = resp
            .header("retry-after")
            .and_then(|v| parse_retry_after(v, Utc::now()));
        if let Some(wait) = wait.filter(|w| *w > ctx.config.crawl.max_retry_after) {
            return Ok(PageOutcome::Deferred(format!(
                "deferred: http {status} asks to wait {}s, more than max_retry_after",
                wait.as_secs()
            )));
        }
    }
    if status == 304 {
        let at = archive_seen(ctx, &url, &resp, None).await?;
        commit(
            Commit::NotModified {
                at,
                status,
                validators: None,
            },
            Vec::new(),
        )
        .await?;
        return Ok(PageOutcome::Unchanged);
    }
    if status == 404 || status == 410 {
        if entry.kind == PageKind::Article {
            if let CommitResult::Gone { .. } =
                commit(Commit::Gone { at, status }, Vec::new()).await?
            {
                return Ok(PageOutcome::Gone);
            }
        }
        return fail(format!("http {status}")).await;
    }
    if !(200..300).contains(&status) {
        return fail(format!("http {status}")).await;
    }
    // From here on a deferred 2xx is archived unless the article proves unchanged.
    let ptr = match ptr {
        None if !resp.is_html() => Some(archive(ctx, stats, &resp).await?),
        other => other,
    };
    if !resp.is_html() {
        return skip(format!(
            "content-type: {}",
            resp.content_type().unwrap_or("unknown")
        ))
        .await;
    }
    let decoded = match resp.decoded_body(ctx.config.crawl.max_body) {
        Ok(b) => b,
        Err(f) => {
            if ptr.is_none() {
                archive(ctx, stats, &resp).await?;
            }
            return fail(format!("{}: {f}", f.reason())).await;
        }
    };

    // Parse on the blocking pool: scraper's DOM is not Send and parsing is CPU work.
    let selectors = site.selectors.clone();
    let want_article = entry.kind == PageKind::Article;
    let content_type = resp.content_type().map(str::to_string);
    let base = url.clone();
    let fetched_at = resp.fetched_at;
    // The content hash and the stored one are looked up here too, off the async workers
    // (see the conditional lookup above); the stored hash only matters when this response
    // was not archived yet.
    let store = ctx.store.clone();
    let lookup = ptr.is_none();
    let cpu = ctx
        .cpu
        .clone()
        .acquire_owned()
        .await
        .expect("semaphore never closed");
    let (parsed, hash, stored) = tokio::task::spawn_blocking(move || {
        let parsed = parse_response(
            &selectors,
            &base,
            &decoded,
            content_type.as_deref(),
            want_article,
            fetched_at,
        );
        let hash = parsed.article.as_ref().map(content_hash);
        drop(cpu);
        let stored = match &hash {
            Some(_) if lookup => store.stored_hash(base.as_str()),
            _ => Ok(None),
        };
        (parsed, hash, stored)
    })
    .await
    .map_err(|e| Error::FetchPage {
        url: url.to_string(),
        message: format!("parser task died: {e}"),
    })?;
    let stored = stored?;

    let links: Vec<FrontierEntry> = if entry.depth < site.max_depth {
        let mut seen = HashSet::new();
        parsed
            .links
            .iter()
            .map(crate::canon::canonicalize)
            .filter(|l| site.in_scope(l))
            .filter_map(|l| site.classify(&l).map(|k| (l, k)))
            .filter(|(l, _)| seen.insert(l.to_string()))
            .map(|(l, kind)| FrontierEntry {
                url: l.to_string(),
                site: site.name.clone(),
                depth: entry.depth + 1,
                kind,
                state: FrontierState::Queued,
                run: ctx.policy.run,
                attempts: 0,
                last_error: None,
                queued: None,
            })
            .collect()
    } else {
        Vec::new()
    };

    let Some(fields) = parsed.article else {
        commit(Commit::Listing, links).await?;
        return Ok(PageOutcome::Listing);
    };
    let declared_canonical = parsed
        .canonical
        .map(|c| crate::canon::canonicalize(&c))
        .filter(|c| site.in_scope(c) && site.classify(c) == Some(PageKind::Article))
        .map(|c| c.to_string());
    stats.lock().unwrap_or_else(|p| p.into_inner()).sources = Some(fields.sources.clone());
    let hash = hash.unwrap_or_else(|| content_hash(&fields));
    let etag = resp.header("etag").map(str::to_string);
    let last_modified = resp.header("last-modified").map(str::to_string);
    if ptr.is_none() && stored.as_deref() == Some(hash.as_str()) {
        // Unchanged: a new date line or counter is not a new capture worth keeping.
        let validators = Some((etag, last_modified));
        let at = archive_seen(ctx, &url, &resp, validators.clone()).await?;
        commit(
            Commit::NotModified {
                at,
                status,
                validators,
            },
            links,
        )
        .await?;
        return Ok(PageOutcome::Unchanged);
    }
    let ptr = match ptr {
        Some(p) => p,
        None => archive(ctx, stats, &resp).await?,
    };
    let fa = FetchedArticle {
        site: site.name.clone(),
        fetched_url: url.to_string(),
        redirected_from: visited
            .iter()
            .filter(|u| **u != url && site.classify(u) == Some(PageKind::Article))
            .map(|u| u.to_string())
            .collect(),
        declared_canonical,
        key_hint: None,
        content_hash: hash,
        fields,
        http_status: status,
        fetched_at: ptr.date,
        warc: ptr,
        etag,
        last_modified,
    };
    let fetched_url = fa.fetched_url.clone();
    let result = commit(Commit::Article(Box::new(fa)), links).await?;
    if let CommitResult::NewArticle { url: key }
    | CommitResult::NewVersion { url: key, .. }
    | CommitResult::Unchanged { url: key } = &result
    {
        if *key != fetched_url {
            let store = ctx.store.clone();
            let key = key.clone();
            tokio::task::spawn_blocking(move || store.archive_key(&fetched_url, &key))
                .await
                .map_err(|e| Error::FetchPage {
                    url: url.to_string(),
                    message: format!("archiving task died: {e}"),
                })??;
        }
    }
    Ok(match result {
        CommitResult::NewArticle { .. } => PageOutcome::NewArticle,
        CommitResult::NewVersion { .. } => PageOutcome::NewVersion,
        CommitResult::Unchanged { .. } => PageOutcome::Unchanged,
        _ => PageOutcome::Listing,
    })
}

/// Decodes and parses one response body (content-encoding already undone): the one place
/// where crawl, re-extraction and rebuilds turn bytes into links and fields, so all three
/// agree.
pub fn parse_response(
    selectors: &crate::extract::SiteSelectors,
    url: &Url,
    decoded: &[u8],
    content_type: Option<&str>,
    want_article: bool,
    fetched_at: chrono::DateTime<Utc>,
) -> crate::extract::ParsedPage {
    let html = decode_html(decoded, content_type);
    let at =
        fetched_at.with_timezone(&FixedOffset::east_opt(VN_OFFSET_SECS).expect("valid offset"));
    parse_page(&html, url, selectors, want_article, at)
}

/// The host key of a URL, parsed once per origin ("scheme://authority").
fn host_of_url(origins: &mut HashMap<String, String>, url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    let origin = &url[..end];
    if let Some(host) = origins.get(origin) {
        return host.clone();
    }
    let host = Url::parse(origin).map(|u| host_key(&u)).unwrap_or_default();
    origins.insert(origin.to_string(), host.clone());
    host
}

/// True when this path has produced more distinct query strings this run than allowed.
fn trap_guard(ctx: &Ctx, url: &Url) -> bool {
    let Some(q) = url.query() else { return false };
    let limit = ctx.config.crawl.max_query_variants as usize;
    if limit == 0 {
        return false;
    }
    let key = format!("{}{}", host_key(url), url.path());
    let mut guard = ctx.variants.lock().unwrap_or_else(|p| p.into_inner());
    guard.is_trap(&key, q, limit)
}

/// Query strings remembered by the trap guard over all paths, at most; the memory it takes
/// stays bounded (about 16 bytes each) however many URLs a run meets.
pub const TRAP_GUARD_ENTRIES: usize = 500_000;

/// Distinct query strings per path (both as 64-bit hashes), bounded by
/// [`TRAP_GUARD_ENTRIES`]: when full, the paths with the fewest query strings are forgotten
/// first (a trap is a path with many; a path with one or two is an ordinary page).
#[derive(Default)]
struct TrapGuard {
    paths: HashMap<u64, HashSet<u64>>,
    entries: usize,
}

impl TrapGuard {
    fn is_trap(&mut self, path: &str, query: &str, limit: usize) -> bool {
        use xxhash_rust::xxh3::xxh3_64;
        let (p, q) = (xxh3_64(path.as_bytes()), xxh3_64(query.as_bytes()));
        let set = self.paths.entry(p).or_default();
        if set.contains(&q) {
            return false;
        }
        if set.len() >= limit {
            return true;
        }
        set.insert(q);
        self.entries += 1;
        if self.entries > TRAP_GUARD_ENTRIES {
            self.shrink();
        }
        false
    }

    /// Forgets the paths with fewest query strings until at most half the bound is used.
    fn shrink(&mut self) {
        let mut keep_above = 1;
        while self.entries > TRAP_GUARD_ENTRIES / 2 && !self.paths.is_empty() {
            self.paths.retain(|_, s| s.len() > keep_above);
            self.entries = self.paths.values().map(HashSet::len).sum();
            keep_above *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_url_gives_the_host_key_once_per_origin() {
        let mut origins = HashMap::new();
        for (url, key) in [
            (
                "http://tinhuyhaiduong.vn/news/Pages/new.aspx?ItemID=1",
                "tinhuyhaiduong.vn:80",
            ),
            ("https://baohaiduong.vn/a-1.html", "baohaiduong.vn:443"),
            ("http://127.0.0.1:8089/news/kinh-te/", "127.0.0.1:8089"),
            ("http://127.0.0.1:8089?x=1", "127.0.0.1:8089"),
            ("http://[::1]:8080/a", "[::1]:8080"),
        ] {
            assert_eq!(host_of_url(&mut origins, url), key, "{url}");
            let parsed = Url::parse(url).expect("test URL");
            assert_eq!(host_of_url(&mut origins, url), host_key(&parsed), "{url}");
        }
        assert_eq!(origins.len(), 4);
    }

    #[test]
    fn trap_guard_counts_distinct_query_strings_per_path() {
        let mut g = TrapGuard::default();
        for q in ["d=1", "d=2", "d=3"] {
            assert!(!g.is_trap("h:80/lich", q, 3));
        }
        assert!(
            g.is_trap("h:80/lich", "d=4", 3),
            "a fourth variant is a trap"
        );
        assert!(!g.is_trap("h:80/lich", "d=2", 3), "a known variant is not");
        assert!(!g.is_trap("h:80/khac", "d=4", 3), "other paths count apart");
    }

    #[test]
    fn trap_guard_memory_is_bounded_and_keeps_the_traps() {
        let mut g = TrapGuard::default();
        for q in 0..50 {
            assert!(!g.is_trap("h:80/calendar", &format!("d={q}"), 50));
        }
        for n in 0..TRAP_GUARD_ENTRIES + 10 {
            g.is_trap(&format!("h:80/tin/{n}.html"), "page=1", 50);
        }
        assert!(g.entries <= TRAP_GUARD_ENTRIES, "{} entries", g.entries);
        assert_eq!(g.entries, g.paths.values().map(HashSet::len).sum::<usize>());
        assert!(
            g.is_trap("h:80/calendar", "d=50", 50),
            "the path with many variants is still known"
        );
    }
}
