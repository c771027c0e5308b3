//! The archive outlives its database: rebuilding sled from the WARC files, re-extracting
//! stored pages with new selectors, and verifying a store.
//!
//! The WARC files are the durable record; sled holds what can be derived from them. Parts:
//! [`rebuild_db`] (`luutru reindex-db`: replay every archived response in the order it was
//! written, through the same extraction and commit path as a crawl), [`reextract`]
//! (`luutru reextract`: new versions only where the extracted content really differs,
//! marked as re-extracted) and [`verify`] (`luutru verify`: every pointer, digest and hash
//! checked).

use std::collections::HashMap;
use std::path::Path;

use chrono::Utc;
use serde::Serialize;
use url::Url;

use crate::config::{Config, PageKind};
use crate::crawl::parse_response;
use crate::dedup::content_hash;
use crate::fetch::decode_content;
use crate::store::model::{FrontierEntry, FrontierState};
use crate::store::warc::{self, HttpResponse, WarcPtr};
use crate::store::{ArticleStore, Commit, CommitResult, EnqueuePolicy, FetchedArticle, Store};
use crate::{Error, Result};

/// What a rebuild or re-extraction did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RebuildStats {
    pub records: u64,
    pub responses: u64,
    pub articles: u64,
    pub versions: u64,
    pub unchanged: u64,
    pub gone: u64,
    /// Responses of URLs that no configured site claims.
    pub out_of_scope: u64,
    /// Unreadable records (a crash mid-write leaves at most one per file).
    pub damaged: u64,
}

fn header<'a>(resp: &'a HttpResponse, name: &str) -> Option<&'a str> {
    resp.header(name)
}

fn decoded_body(resp: &HttpResponse) -> Option<Vec<u8>> {
    decode_content(&resp.body, header(resp, "content-encoding"), u64::MAX).ok()
}

fn done_entry(url: &str, site: &str) -> FrontierEntry {
    FrontierEntry {
        url: url.to_string(),
        site: site.to_string(),
        depth: 0,
        kind: PageKind::Article,
        state: FrontierState::Done,
        run: 0,
        attempts: 0,
        last_error: None,
        queued: None,
    }
}

/// Rebuilds the database of the store at `dir` from its WARC files alone. An existing
/// `db/` is moved aside to `db.old-<time>` (never deleted); the rebuild then replays every
/// archived response in file order.
pub fn rebuild_db(config: &Config, dir: &Path, command: &str) -> Result<RebuildStats> {
    let db = dir.join("db");
    if db.exists() {
        let aside = dir.join(format!("db.old-{}", Utc::now().format("%Y%m%d%H%M%S")));
        std::fs::rename(&db, &aside).map_err(|e| Error::OpenStore {
            path: dir.to_path_buf(),
            message: format!(
                "cannot move the old database aside to {}: {e}",
                aside.display()
            ),
        })?;
        tracing::info!(old = %aside.display(), "old database moved aside");
    }
    let store = Store::open(dir, command)?;
    let mut stats = RebuildStats::default();
    let policy = EnqueuePolicy {
        run: 0,
        fresh_after: Utc::now(),
        revisit_walk: false,
    };
    // Redirect targets → the article URLs that redirected there (aliases).
    let mut redirects: HashMap<String, Vec<String>> = HashMap::new();
    // Which article each alias was filed under by the crawl (first pass over the files).
    let mut keys: HashMap<String, String> = HashMap::new();
    for rec in warc::scan_dir(&store.warc_dir())?.flatten() {
        if rec.warc_type() == Some("metadata")
            && rec.header("Content-Type") == Some(crate::store::KEY_CONTENT_TYPE)
        {
            if let Ok(k) = serde_json::from_slice::<crate::store::KeyRecord>(&rec.block) {
                keys.insert(k.url, k.key);
            }
        }
    }

    for rec in warc::scan_dir(&store.warc_dir())? {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("skipping a damaged WARC record: {e}");
                stats.damaged += 1;
                continue;
            }
        };
        stats.records += 1;
        let kind = rec.warc_type().unwrap_or("").to_string();
        if kind == "metadata" && rec.header("Content-Type") == Some(crate::store::SEEN_CONTENT_TYPE)
        {
            replay_seen(config, &store, &rec.block, policy, &mut stats)?;
            continue;
        }
        if kind != "response" && kind != "revisit" {
            continue;
        }
        let Some(mut ptr) = rec.to_ptr() else {
            stats.damaged += 1;
            continue;
        };
        let resp = if kind == "revisit" {
            match store.payload_ptr(&ptr.payload_digest)? {
                Some(original) => {
                    ptr.original = Some(Box::new(original));
                    match warc::read_response(&store.warc_dir(), &ptr) {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!("revisit {}: {e}", ptr.record_id);
                            stats.damaged += 1;
                            continue;
                        }
                    }
                }
                None => {
                    stats.damaged += 1;
                    continue;
                }
            }
        } else {
            match rec.http_response() {
                Ok(r) => {
                    if !r.body.is_empty() {
                        store.note_payload(&ptr)?;
                    }
                    r
                }
                Err(e) => {
                    tracing::warn!("{e}");
                    stats.damaged += 1;
                    continue;
                }
            }
        };
        stats.responses += 1;
        let mut state = Replay {
            config,
            keys: &keys,
            store: &store,
            policy,
            redirects: &mut redirects,
            stats: &mut stats,
        };
        replay(&mut state, &ptr, &resp)?;
    }
    // The search index describes the old database: re-index everything at the next query.
    store.mark_all_search_pending()?;
    store.apply_near_pending()?;
    store.flush()?;
    Ok(stats)
}

/// A "seen unchanged" record: the article was fetched and had not changed.
fn replay_seen(
    config: &Config,
    store: &Store,
    block: &[u8],
    policy: EnqueuePolicy,
    stats: &mut RebuildStats,
) -> Result<()> {
    // One fact per line (a record from before batching holds one, as its whole block).
    for line in block
        .split(|&b| b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
    {
        let Ok(seen) = serde_json::from_slice::<crate::store::SeenRecord>(line) else {
            stats.damaged += 1;
            continue;
        };
        let Some(site) = Url::parse(&seen.url)
            .ok()
            .and_then(|u| config.site_for(&u).map(|s| s.name.clone()))
        else {
            stats.out_of_scope += 1;
            continue;
        };
        let commit = Commit::NotModified {
            at: seen.at,
            status: seen.status,
            validators: (seen.status != 304)
                .then(|| (seen.etag.clone(), seen.last_modified.clone())),
        };
        if let CommitResult::Unchanged { .. } =
            store.commit(&done_entry(&seen.url, &site), &commit, &[], policy)?
        {
            stats.unchanged += 1;
        }
    }
    Ok(())
}

/// What replaying one response needs from the rebuild around it.
struct Replay<'a> {
    config: &'a Config,
    /// Which article each alias was filed under (key records).
    keys: &'a HashMap<String, String>,
    store: &'a Store,
    policy: EnqueuePolicy,
    /// Redirect targets → the article URLs that redirected there.
    redirects: &'a mut HashMap<String, Vec<String>>,
    stats: &'a mut RebuildStats,
}

fn replay(r: &mut Replay<'_>, ptr: &WarcPtr, resp: &HttpResponse) -> Result<()> {
    let (config, keys, store, policy) = (r.config, r.keys, r.store, r.policy);
    let (redirects, stats) = (&mut *r.redirects, &mut *r.stats);
    let Ok(raw) = Url::parse(&ptr.target_uri) else {
        return Ok(());
    };
    let url = crate::canon::canonicalize(&raw);
    let Some(site) = config.site_for(&url) else {
        stats.out_of_scope += 1;
        return Ok(());
    };
    let is_article = site.classify(&url) == Some(PageKind::Article);
    let status = resp.status;
    if (300..400).contains(&status) && status != 304 {
        if let Some(next) = header(resp, "location").and_then(|l| url.join(l).ok()) {
            let next = crate::canon::canonicalize(&next).to_string();
            if is_article
                && site.classify(&Url::parse(&next).unwrap_or(url.clone()))
                    == Some(PageKind::Article)
            {
                let mut chain = redirects.remove(url.as_str()).unwrap_or_default();
                chain.push(url.to_string());
                redirects.insert(next, chain);
            } else if is_article {
                // An article redirecting to a listing or the home page: gone.
                if let CommitResult::Gone { .. } = store.commit(
                    &done_entry(url.as_str(), &site.name),
                    &Commit::Gone {
                        at: ptr.date,
                        status,
                    },
                    &[],
                    policy,
                )? {
                    stats.gone += 1;
                }
            }
        }
        return Ok(());
    }
    if !is_article {
        return Ok(());
    }
    let entry = done_entry(url.as_str(), &site.name);
    let commit = match status {
        304 => Commit::NotModified {
            at: ptr.date,
            status,
            validators: None,
        },
        404 | 410 => Commit::Gone {
            at: ptr.date,
            status,
        },
        200..=299 => {
            let ct = header(resp, "content-type");
            let is_html = ct.is_none_or(|c| {
                let c = c.to_ascii_lowercase();
                c.contains("html") || c.contains("xml")
            });
            let Some(body) = decoded_body(resp).filter(|_| is_html) else {
                return Ok(());
            };
            let parsed = parse_response(&site.selectors, &url, &body, ct, true, ptr.date);
            let Some(fields) = parsed.article else {
                return Ok(());
            };
            let declared_canonical = parsed
                .canonical
                .map(|c| crate::canon::canonicalize(&c))
                .filter(|c| site.in_scope(c) && site.classify(c) == Some(PageKind::Article))
                .map(|c| c.to_string());
            Commit::Article(Box::new(FetchedArticle {
                site: site.name.clone(),
                fetched_url: url.to_string(),
                redirected_from: redirects.remove(url.as_str()).unwrap_or_default(),
                declared_canonical,
                key_hint: keys.get(url.as_str()).cloned(),
                content_hash: content_hash(&fields),
                fields,
                http_status: status,
                fetched_at: ptr.date,
                warc: ptr.clone(),
                etag: header(resp, "etag").map(str::to_string),
                last_modified: header(resp, "last-modified").map(str::to_string),
            }))
        }
        _ => return Ok(()),
    };
    match store.commit(&entry, &commit, &[], policy)? {
        CommitResult::NewArticle { .. } => stats.articles += 1,
        CommitResult::NewVersion { .. } => stats.versions += 1,
        CommitResult::Unchanged { .. } => stats.unchanged += 1,
        CommitResult::Gone { .. } => stats.gone += 1,
        _ => {}
    }
    Ok(())
}

/// Re-extracts the latest raw page of every article (of `site`, or all) with the current
/// selectors; appends a version, marked re-extracted, only where the content differs.
pub fn reextract(config: &Config, store: &Store, site: Option<&str>) -> Result<RebuildStats> {
    let mut stats = RebuildStats::default();
    let keys: Vec<String> = store
        .articles()
        .filter_map(|a| a.ok())
        .filter(|a| site.is_none_or(|s| s == a.site))
        .map(|a| a.url)
        .collect();
    for key in keys {
        let Some(article) = store.article(&key)? else {
            continue;
        };
        let Some(site_cfg) = config.site(&article.site) else {
            continue;
        };
        let Some(latest) = store.versions(&key)?.pop() else {
            continue;
        };
        stats.responses += 1;
        let resp = warc::read_response(&store.warc_dir(), &latest.warc)?;
        let Some(body) = decoded_body(&resp) else {
            stats.damaged += 1;
            continue;
        };
        let url = Url::parse(&latest.fetched_url).map_err(|e| Error::InvalidUrl {
            url: latest.fetched_url.clone(),
            message: e.to_string(),
        })?;
        let parsed = parse_response(
            &site_cfg.selectors,
            &url,
            &body,
            resp.header("content-type"),
            true,
            latest.warc.date,
        );
        let Some(fields) = parsed.article else {
            continue;
        };
        let hash = content_hash(&fields);
        if hash == latest.content_hash {
            stats.unchanged += 1;
        } else {
            let body = fields.body.clone();
            store.append_reextracted(&key, &latest, fields, hash)?;
            store.index_near_duplicate(&key, &body)?;
            store.mark_search_pending(&key)?;
            stats.versions += 1;
        }
    }
    store.apply_near_pending()?;
    store.flush()?;
    Ok(stats)
}

/// One problem `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub url: String,
    pub message: String,
}

/// Checks every article: versions numbered 1..n, each version's WARC record readable with
/// its digests intact, stored hashes equal to the hash of the stored fields, aliases
/// pointing back. Returns the problems found (empty = the store is sound).
pub fn verify(store: &Store) -> Result<(u64, Vec<Problem>)> {
    let mut problems = Vec::new();
    let mut checked = 0;
    for a in store.articles() {
        let a = match a {
            Ok(a) => a,
            Err(e) => {
                problems.push(Problem {
                    url: "(articles)".into(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        checked += 1;
        let mut p = |message: String| {
            problems.push(Problem {
                url: a.url.clone(),
                message,
            })
        };
        let versions = match store.versions(&a.url) {
            Ok(v) => v,
            Err(e) => {
                p(e.to_string());
                continue;
            }
        };
        if versions.len() as u32 != a.versions {
            p(format!(
                "record says {} versions, {} stored",
                a.versions,
                versions.len()
            ));
        }
        for (i, v) in versions.iter().enumerate() {
            if v.number != i as u32 + 1 {
                p(format!("version {} stored in place {}", v.number, i + 1));
            }
            if content_hash(&v.fields) != v.content_hash {
                p(format!(
                    "version {}: stored hash does not match its fields",
                    v.number
                ));
            }
            if let Err(e) = warc::read_response(&store.warc_dir(), &v.warc) {
                p(format!("version {}: {e}", v.number));
            }
        }
        if versions
            .last()
            .is_some_and(|v| v.content_hash != a.content_hash)
        {
            p("article hash differs from its latest version's".into());
        }
        for alias in a.aliases.iter().chain(std::iter::once(&a.url)) {
            match store.resolve(alias) {
                Ok(Some(k)) if k == a.url => {}
                Ok(other) => p(format!("alias {alias} resolves to {other:?}")),
                Err(e) => p(e.to_string()),
            }
        }
    }
    for problem in store.check_queue()? {
        problems.push(Problem {
            url: "(queue)".into(),
            message: problem,
        });
    }
    for problem in store.check_touched()? {
        problems.push(Problem {
            url: "(last fetches)".into(),
            message: problem,
        });
    }
    Ok((checked, problems))
}
