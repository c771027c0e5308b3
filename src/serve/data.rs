//! What the pages and the API read from the store. Both render the same values, so the web
//! UI never shows something the API (and so the CLI's json) would not.
//!
//! Parts: [`SearchBackend`] (the full-text index when it covers the store, else a scan),
//! [`search`] / [`SearchRequest`] / [`SearchPage`] (through `luutru query`'s own
//! `query::search` / `query::select_at`), [`article`] / [`ArticleDetail`] and
//! [`ShowJson`] (`luutru show --format json`), [`history`] (`luutru history --format json`),
//! [`diff`] (`luutru diff`'s defaults), [`changes`] / [`ChangeEntry`] (articles edited or
//! gone in a period), [`runs`] / [`run`] and [`sites`] (what `luutru runs` / `luutru sites`
//! compute, by calling them), and [`raw_html`] (the archived page as fetched).

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use super::params::Failure;
use super::AppState;
use crate::crawl::RunSummary;
use crate::query::{ArticleView, Filter};
// Shared with the command line, which prints the same things.
pub use crate::query::{diff, find, history};
use crate::search::{SearchIndex, SearchOrder};
use crate::store::model::{ArticleRecord, ArticleStatus, VersionRecord};
use crate::store::warc::WarcPtr;
use crate::store::{ArticleStore, Store};
use crate::{Error, Result};

/// How text searches are answered.
pub enum SearchBackend {
    /// The tantivy index under `<store>/index`, which holds every article (as
    /// `luutru query --text` uses it).
    Index(Box<SearchIndex>),
    /// No usable index (missing, behind the store, unreadable): each search scans the
    /// store as it reads now, which is exact but slow on a large store.
    Scan { reason: String },
}

impl SearchBackend {
    /// The index of `store`, brought up to date with the articles the store lists as
    /// changed since (what every `luutru query --text` does first), if it then holds one
    /// document per article (`articles` counted by the caller); else a scan, with the
    /// reason.
    pub fn choose(store: &Store, articles: u64) -> SearchBackend {
        let opened = SearchIndex::open(store.dir()).and_then(|mut index| {
            crate::query::refresh_index(store, &mut index)?;
            Ok(index)
        });
        match opened {
            Ok(index) if index.num_docs() == articles => SearchBackend::Index(Box::new(index)),
            Ok(index) => SearchBackend::Scan {
                reason: format!(
                    "the search index holds {} document(s) for {articles} article(s); run `luutru reindex`",
                    index.num_docs()
                ),
            },
            Err(e) => SearchBackend::Scan {
                reason: e.to_string(),
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            SearchBackend::Index(i) => format!("full-text index ({} documents)", i.num_docs()),
            SearchBackend::Scan { reason } => format!("scanning the store ({reason})"),
        }
    }
}

/// What a search page or `/api/query` asks: `luutru query`'s options.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// `--text` (empty: no text search).
    pub text: String,
    pub filter: Filter,
    /// `--as-of`.
    pub as_of: Option<DateTime<FixedOffset>>,
    /// `--changed`.
    pub changed: bool,
    /// `--sort` (text searches; browsing is newest first).
    pub order: SearchOrder,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// As `luutru query --format json` prints them (`snippet` set for text searches).
    pub items: Vec<ArticleView>,
    /// Results exist beyond this page.
    pub more: bool,
}

/// `luutru query` with an offset: `limit` records (0 = all) after skipping `offset`,
/// computed by the same library calls as the CLI. With `fast_browse`, a listing without
/// text, as-of or changed goes through the index when it covers the store (same articles
/// and order as the scan, ties aside, each with its opening lines as snippet).
pub fn search(
    state: &AppState,
    req: &SearchRequest,
    offset: usize,
    limit: usize,
    fast_browse: bool,
) -> Result<SearchPage> {
    // One more than asked: whether a next page exists, without counting every match.
    let want = if limit == 0 {
        0
    } else {
        offset.saturating_add(limit).saturating_add(1)
    };
    let indexed = matches!(state.search, SearchBackend::Index(_));
    let store = &state.store;
    let mut views = if !req.text.trim().is_empty() {
        // Without a complete index, "now" through the scan gives the present state.
        let as_of = match (req.as_of, indexed) {
            (Some(t), _) => Some(t),
            (None, true) => None,
            (None, false) => Some(Utc::now().fixed_offset()),
        };
        crate::query::search(
            store,
            &req.text,
            &req.filter,
            as_of,
            req.changed,
            req.order,
            want,
        )?
    } else if fast_browse && indexed && req.as_of.is_none() && !req.changed {
        crate::query::search(
            store,
            "",
            &req.filter,
            None,
            false,
            SearchOrder::Newest,
            want,
        )?
    } else {
        crate::query::select_at(store, &req.filter, req.as_of, req.changed, want)?
    };
    let more = limit > 0 && views.len() > offset.saturating_add(limit);
    views.drain(..offset.min(views.len()));
    if limit > 0 {
        views.truncate(limit);
    }
    Ok(SearchPage { items: views, more })
}

/// An article with all its versions and the one shown.
#[derive(Debug, Clone)]
pub struct ArticleDetail {
    pub record: ArticleRecord,
    /// Oldest first.
    pub versions: Vec<VersionRecord>,
    /// Index into `versions` of the version shown.
    pub shown: usize,
    /// The shown version as `luutru show` prints it (near-duplicates included).
    pub view: ArticleView,
}

impl ArticleDetail {
    pub fn version(&self) -> &VersionRecord {
        &self.versions[self.shown]
    }
}

/// The article behind `url` showing `version` (default: the latest).
pub fn article(store: &Store, url: &str, version: Option<u32>) -> Result<ArticleDetail> {
    let (record, versions) = find(store, url)?;
    let shown = match version {
        None => versions.len().checked_sub(1),
        Some(n) => versions.iter().position(|v| v.number == n),
    }
    .ok_or_else(|| Error::VersionNotFound {
        url: record.url.clone(),
        version: version.unwrap_or(0),
    })?;
    let mut view = ArticleView::new(&record, &versions[shown]);
    view.near_duplicates = store.near_duplicates(&record.url)?;
    Ok(ArticleDetail {
        record,
        versions,
        shown,
        view,
    })
}

/// `luutru show --format json`: the view plus provenance of the version shown.
#[derive(Debug, Serialize)]
pub struct ShowJson<'a> {
    #[serde(flatten)]
    pub view: &'a ArticleView,
    pub captions: &'a [String],
    pub sources: &'a crate::extract::FieldSources,
    pub warnings: &'a [String],
    pub changed: &'a [String],
    pub http_status: u16,
    pub fetched_url: &'a str,
    pub warc: &'a WarcPtr,
}

impl<'a> ShowJson<'a> {
    pub fn of(d: &'a ArticleDetail) -> ShowJson<'a> {
        let v = d.version();
        ShowJson {
            view: &d.view,
            captions: &v.fields.captions,
            sources: &v.fields.sources,
            warnings: &v.fields.warnings,
            changed: &v.changed,
            http_status: v.http_status,
            fetched_url: &v.fetched_url,
            warc: &v.warc,
        }
    }
}

/// One change of an article in a period: a new version, or its disappearance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeEntry {
    pub url: String,
    pub site: String,
    /// The title of the article's latest version.
    pub title: Option<String>,
    /// `edited` (a new version) or `gone` (404/410 or redirected away).
    pub kind: String,
    /// When the new version was fetched, or since when the article is gone.
    pub at: DateTime<Utc>,
    /// The new version (edited) or the latest version (gone).
    pub version: u32,
    /// The version it replaced (edited only).
    pub from: Option<u32>,
    /// The article's status now.
    pub status: ArticleStatus,
    /// Fields that changed (edited only).
    pub fields: Vec<String>,
    /// Syllables and punctuation inserted, in order (edited only).
    pub added: Vec<String>,
    /// Syllables and punctuation deleted, in order (edited only).
    pub removed: Vec<String>,
    /// The new version came from re-extracting the same page, not from the site.
    pub reextracted: bool,
}

/// Articles of `sites` (all when empty) edited or gone in `[since, until)`, newest first.
pub fn changes(
    store: &Store,
    sites: &[String],
    since: Option<DateTime<FixedOffset>>,
    until: Option<DateTime<FixedOffset>>,
) -> Result<Vec<ChangeEntry>> {
    let in_window = |t: DateTime<Utc>| {
        since.is_none_or(|s| t >= s.with_timezone(&Utc))
            && until.is_none_or(|u| t < u.with_timezone(&Utc))
    };
    let mut out = Vec::new();
    for a in store.articles() {
        let a = a?;
        if !sites.is_empty() && !sites.contains(&a.site) {
            continue;
        }
        let gone_at = match (a.status, a.gone_since) {
            (ArticleStatus::Gone, Some(t)) if in_window(t) => Some(t),
            _ => None,
        };
        if a.versions < 2 && gone_at.is_none() {
            continue;
        }
        let versions = store.versions(&a.url)?;
        let title = versions.last().and_then(|v| v.fields.title.clone());
        for pair in versions.windows(2) {
            let (old, new) = (&pair[0], &pair[1]);
            if !in_window(new.fetched_at) {
                continue;
            }
            let d = crate::diff::diff_versions(&a.url, old, new);
            let (added, removed) = crate::diff::changed_words(&d);
            out.push(ChangeEntry {
                url: a.url.clone(),
                site: a.site.clone(),
                title: title.clone(),
                kind: "edited".into(),
                at: new.fetched_at,
                version: new.number,
                from: Some(old.number),
                status: a.status,
                fields: new.changed.clone(),
                added,
                removed,
                reextracted: new.reextracted,
            });
        }
        if let Some(at) = gone_at {
            out.push(ChangeEntry {
                url: a.url.clone(),
                site: a.site.clone(),
                title,
                kind: "gone".into(),
                at,
                version: a.versions,
                from: None,
                status: a.status,
                fields: Vec::new(),
                added: Vec::new(),
                removed: Vec::new(),
                reextracted: false,
            });
        }
    }
    out.sort_by(|a, b| {
        b.at.cmp(&a.at)
            .then_with(|| a.url.cmp(&b.url))
            .then_with(|| b.version.cmp(&a.version))
    });
    Ok(out)
}

/// `luutru runs --format json`: the last `limit` runs, newest first (0 = all).
pub fn runs(store: &Store, limit: usize) -> Result<Vec<RunSummary>> {
    crate::cli::load_runs(store, limit)
}

/// `luutru runs show ID`.
pub fn run(store: &Store, id: u64) -> Result<RunSummary> {
    let rec = store.run_record(id)?.ok_or(Error::RunNotFound(id))?;
    serde_json::from_slice(&rec).map_err(|e| Error::CorruptRecord {
        key: format!("runs/{id}"),
        message: e.to_string(),
    })
}

/// `luutru sites --format json`; needs the config that names the sites.
pub fn sites(state: &AppState) -> std::result::Result<Vec<crate::cli::SiteRow>, Failure> {
    let config = state.config.as_ref().ok_or_else(|| {
        Failure::not_found(
            "no config file was loaded (the sites are those of crawl.toml: start serve with --config)",
        )
    })?;
    Ok(crate::cli::site_rows(config, Some(&state.store))?)
}

/// The archived page of one version as fetched: its HTTP status and content type, and its
/// HTML decoded to text (content encoding removed, charset honoured), as `show --raw` prints.
pub struct RawPage {
    pub status: u16,
    pub content_type: Option<String>,
    pub html: String,
}

pub fn raw_html(store: &Store, v: &VersionRecord) -> Result<RawPage> {
    let resp = crate::store::warc::read_response(&store.warc_dir(), &v.warc)?;
    let body = crate::fetch::decode_content(&resp.body, resp.header("content-encoding"), u64::MAX)
        .map_err(|e| Error::ReadWarc {
            path: store.warc_dir().join(&v.warc.file),
            offset: v.warc.offset,
            message: e.to_string(),
        })?;
    let content_type = resp.header("content-type").map(str::to_string);
    let html = crate::extract::decode_html(&body, content_type.as_deref());
    Ok(RawPage {
        status: resp.status,
        content_type,
        html,
    })
}
