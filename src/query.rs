//! What researchers ask of the store: filters, the article view, and output formats.
//!
//! Parts: [`Filter`] (shared by `query` and, later, `export`), [`parse_date_bound`]
//! (`2021-03-31`, `2021-03`, `2021`), [`ArticleView`] (the record `query`/`show` print),
//! [`select`], [`find`] (an article and its versions under any spelling of its URL),
//! [`diff`] (two versions, by default the last two), and the writers [`write_views`] (table,
//! json, jsonl, csv) and [`write_history`].

use std::io::Write;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use crate::store::model::{ArticleRecord, ArticleStatus, VersionRecord};
use crate::store::ArticleStore;
use crate::{Error, Result};

fn vn() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

/// Output formats of `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
}

/// Which articles a query or export selects.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these sites (empty = all).
    pub sites: Vec<String>,
    /// Published at or after.
    pub since: Option<DateTime<FixedOffset>>,
    /// Published before.
    pub until: Option<DateTime<FixedOffset>>,
    pub status: Option<ArticleStatus>,
}

/// Parses a date filter. `end = false` gives the start of the period named, `end = true`
/// the start of the next period, so `--since 2020 --until 2022` covers 2020-01-01 up to
/// the end of 2022 (Vietnam time).
pub fn parse_date_bound(input: &str, end: bool) -> Result<DateTime<FixedOffset>> {
    let bad = || Error::InvalidDateFilter {
        input: input.to_string(),
    };
    let parts: Vec<&str> = input.trim().split('-').collect();
    let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let (y, m, d, unit) = match parts.as_slice() {
        [y] if y.len() == 4 => (num(y)? as i32, 1, 1, 0),
        [y, m] if y.len() == 4 => (num(y)? as i32, num(m)?, 1, 1),
        [y, m, d] if y.len() == 4 => (num(y)? as i32, num(m)?, num(d)?, 2),
        _ => return Err(bad()),
    };
    let start = NaiveDate::from_ymd_opt(y, m, d).ok_or_else(bad)?;
    let date = if !end {
        start
    } else {
        match unit {
            0 => NaiveDate::from_ymd_opt(y + 1, 1, 1),
            1 if m == 12 => NaiveDate::from_ymd_opt(y + 1, 1, 1),
            1 => NaiveDate::from_ymd_opt(y, m + 1, 1),
            _ => start.succ_opt(),
        }
        .ok_or_else(bad)?
    };
    vn().from_local_datetime(&date.and_hms_opt(0, 0, 0).ok_or_else(bad)?)
        .single()
        .ok_or_else(bad)
}

impl Filter {
    pub fn matches(&self, a: &ArticleRecord, v: &VersionRecord) -> bool {
        if !self.sites.is_empty() && !self.sites.contains(&a.site) {
            return false;
        }
        if self.status.is_some_and(|s| s != a.status) {
            return false;
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(p) = v.fields.published else {
                return false;
            };
            if self.since.is_some_and(|s| p < s) || self.until.is_some_and(|u| p >= u) {
                return false;
            }
        }
        true
    }
}

/// One article as `query` and `show` print it: the record plus one version's fields.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ArticleView {
    pub url: String,
    pub site: String,
    pub title: Option<String>,
    pub published: Option<DateTime<FixedOffset>>,
    pub modified: Option<DateTime<FixedOffset>>,
    pub author: Option<String>,
    pub summary: Option<String>,
    pub body: String,
    /// Number of versions stored.
    pub versions: u32,
    /// The version shown.
    pub version: u32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// When the version shown was captured.
    pub captured_at: DateTime<Utc>,
    pub status: ArticleStatus,
    pub aliases: Vec<String>,
    pub content_hash: String,
    /// Articles elsewhere with nearly the same text (republications), most similar first.
    pub near_duplicates: Vec<crate::neardup::NearMatch>,
    /// Identifies exactly the version quoted: canonical URL, capture time, content hash.
    pub citation: Citation,
    /// Matched words in context (text searches only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

/// The triple that identifies one archived version for a citation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Citation {
    pub url: String,
    pub captured_at: DateTime<Utc>,
    pub content_hash: String,
}

impl ArticleView {
    pub fn new(a: &ArticleRecord, v: &VersionRecord) -> ArticleView {
        let f = &v.fields;
        ArticleView {
            url: a.url.clone(),
            site: a.site.clone(),
            title: f.title.clone(),
            published: f.published,
            modified: f.modified,
            author: f.author.clone(),
            summary: f.summary.clone(),
            body: f.body.clone(),
            versions: a.versions,
            version: v.number,
            first_seen: a.first_seen,
            last_seen: a.last_seen,
            captured_at: v.fetched_at,
            status: a.status,
            aliases: a.aliases.clone(),
            content_hash: v.content_hash.clone(),
            near_duplicates: Vec::new(),
            citation: Citation {
                url: a.url.clone(),
                captured_at: v.fetched_at,
                content_hash: v.content_hash.clone(),
            },
            snippet: None,
        }
    }
}

/// Articles matching `filter`, newest publication first (undated last), at most `limit`
/// (0 = all).
pub fn select(store: &dyn ArticleStore, filter: &Filter, limit: usize) -> Result<Vec<ArticleView>> {
    select_at(store, filter, None, false, limit)
}

/// [`select`] with time travel and the `--changed` restriction: with `as_of`, each article
/// as it read at that moment (the latest version captured then; its status then), articles
/// first seen later left out; with `changed`, only articles with more than one version or
/// gone.
pub fn select_at(
    store: &dyn ArticleStore,
    filter: &Filter,
    as_of: Option<DateTime<FixedOffset>>,
    changed: bool,
    limit: usize,
) -> Result<Vec<ArticleView>> {
    let mut out = Vec::new();
    for a in store.articles() {
        let mut a = a?;
        if !filter.sites.is_empty() && !filter.sites.contains(&a.site) {
            continue;
        }
        let versions = store.versions(&a.url)?;
        let v = match as_of {
            None => versions.last(),
            Some(t) => {
                let t = t.with_timezone(&Utc);
                let Some(v) = versions.iter().rev().find(|v| v.fetched_at <= t) else {
                    continue;
                };
                // The record as it stood then.
                a.versions = v.number;
                a.status = match a.gone_since {
                    Some(g) if g <= t => ArticleStatus::Gone,
                    _ => ArticleStatus::Live,
                };
                Some(v)
            }
        };
        let Some(v) = v else { continue };
        if changed && a.versions < 2 && a.status != ArticleStatus::Gone {
            continue;
        }
        if filter.matches(&a, v) {
            let mut view = ArticleView::new(&a, v);
            view.near_duplicates = store.near_duplicates(&a.url)?;
            out.push(view);
        }
    }
    out.sort_by(|a, b| {
        b.published
            .cmp(&a.published)
            .then_with(|| a.url.cmp(&b.url))
    });
    if limit > 0 {
        out.truncate(limit);
    }
    Ok(out)
}

/// Full-text search: `text` in luutru's syntax (words ANDed, `"phrases"`, `-excluded`,
/// diacritics optional), through the index for the present or a scan of the versions for
/// `as_of`. Views carry the matching version and a snippet.
pub fn search(
    store: &crate::store::Store,
    text: &str,
    filter: &Filter,
    as_of: Option<DateTime<FixedOffset>>,
    changed: bool,
    order: crate::search::SearchOrder,
    limit: usize,
) -> Result<Vec<ArticleView>> {
    // `--changed` is applied after the search, so ask for everything then cut.
    let wanted = if changed { 0 } else { limit };
    let hits = match as_of {
        Some(t) => crate::search::search_as_of_ordered(store, text, t, filter, wanted, order)?,
        None => {
            let mut index = crate::search::SearchIndex::open(store.dir())?;
            refresh_index(store, &mut index)?;
            index.search_ordered(store, text, filter, wanted, order)?
        }
    };
    let mut out = Vec::new();
    for hit in hits {
        let Some(mut a) = store.article(&hit.url)? else {
            continue;
        };
        let Some(v) = store.version(&hit.url, hit.version)? else {
            continue;
        };
        if let Some(t) = as_of {
            a.versions = v.number;
            if a.gone_since.is_some_and(|g| g > t.with_timezone(&Utc)) {
                a.status = ArticleStatus::Live;
            }
        }
        if changed && a.versions < 2 && a.status != ArticleStatus::Gone {
            continue;
        }
        let mut view = ArticleView::new(&a, &v);
        view.near_duplicates = store.near_duplicates(&a.url)?;
        view.snippet = Some(hit.snippet);
        out.push(view);
        if limit > 0 && out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

/// Brings the search index up to date with the articles changed since it was last
/// updated (the store lists them); returns how many were re-indexed.
pub fn refresh_index(
    store: &crate::store::Store,
    index: &mut crate::search::SearchIndex,
) -> Result<u64> {
    if index.created() {
        // A new (or schema-replaced) index knows nothing: index every article. The store is
        // this process's alone, so no mark can appear meanwhile that the rebuild missed.
        let n = index.rebuild(store)?;
        store.clear_all_search_pending()?;
        index.finish_merges()?;
        return Ok(n);
    }
    let mut n = 0;
    // Committed in chunks: tantivy's queue of added documents is not bounded by its memory
    // budget (see `search::COMMIT_EVERY_DOCS`). Each chunk's keys leave the pending list
    // once they are committed, so an interruption loses no work, and the next chunk is the
    // first of what is left: the keys are never all in memory.
    loop {
        let chunk = store.search_pending_first(crate::search::COMMIT_EVERY_DOCS)?;
        if chunk.is_empty() {
            break;
        }
        for key in &chunk {
            let Some(a) = store.article(key)? else {
                continue;
            };
            let Some(v) = store.versions(key)?.pop() else {
                continue;
            };
            index.upsert(&ArticleView::new(&a, &v))?;
            n += 1;
        }
        index.commit()?;
        store.clear_search_pending(&chunk)?;
    }
    index.finish_merges()?;
    Ok(n)
}

fn out_err(e: std::io::Error) -> Error {
    Error::WriteOutput(e)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Column names of the CSV output, shared by `query --format csv` and `export --format csv`.
pub fn csv_header() -> &'static [&'static str] {
    &[
        "url",
        "site",
        "title",
        "published",
        "modified",
        "author",
        "summary",
        "body",
        "versions",
        "version",
        "first_seen",
        "last_seen",
        "captured_at",
        "status",
        "aliases",
        "content_hash",
        "near_duplicates",
    ]
}

/// One CSV row, in [`csv_header`] order: dates RFC 3339, absent values empty, aliases and
/// near-duplicate URLs space-separated.
pub fn csv_row(v: &ArticleView) -> Vec<String> {
    let date = |d: Option<DateTime<FixedOffset>>| d.map(|d| d.to_rfc3339()).unwrap_or_default();
    vec![
        v.url.clone(),
        v.site.clone(),
        v.title.clone().unwrap_or_default(),
        date(v.published),
        date(v.modified),
        v.author.clone().unwrap_or_default(),
        v.summary.clone().unwrap_or_default(),
        v.body.clone(),
        v.versions.to_string(),
        v.version.to_string(),
        v.first_seen.to_rfc3339(),
        v.last_seen.to_rfc3339(),
        v.captured_at.to_rfc3339(),
        v.status.as_str().to_string(),
        v.aliases.join(" "),
        v.content_hash.clone(),
        v.near_duplicates
            .iter()
            .map(|n| n.url.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    ]
}

/// Writes `views` in `format`.
pub fn write_views(views: &[ArticleView], format: Format, out: &mut dyn Write) -> Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, views).map_err(|e| out_err(e.into()))?;
            writeln!(out).map_err(out_err)?;
        }
        Format::Jsonl => {
            for v in views {
                serde_json::to_writer(&mut *out, v).map_err(|e| out_err(e.into()))?;
                writeln!(out).map_err(out_err)?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(csv_header())
                .map_err(|e| out_err(e.into()))?;
            for v in views {
                w.write_record(csv_row(v)).map_err(|e| out_err(e.into()))?;
            }
            w.flush().map_err(out_err)?;
        }
        Format::Table => {
            writeln!(
                out,
                "{:<16}  {:<16}  {:>3}  {:<4}  {:<60}  URL",
                "PUBLISHED", "SITE", "VER", "STAT", "TITLE"
            )
            .map_err(out_err)?;
            for v in views {
                let date = v
                    .published
                    .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| "-".into());
                writeln!(
                    out,
                    "{:<16}  {:<16}  {:>3}  {:<4}  {:<60}  {}",
                    date,
                    truncate(&v.site, 16),
                    v.versions,
                    v.status.as_str(),
                    truncate(v.title.as_deref().unwrap_or("(no title)"), 60),
                    v.url
                )
                .map_err(out_err)?;
                if let Some(snippet) = &v.snippet {
                    writeln!(out, "{:>18}{snippet}", "").map_err(out_err)?;
                }
            }
            writeln!(out, "{} article(s)", views.len()).map_err(out_err)?;
        }
    }
    Ok(())
}

/// One line of `history`.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: u32,
    pub fetched_at: DateTime<Utc>,
    pub content_hash: String,
    pub http_status: u16,
    pub changed: Vec<String>,
    pub fetched_url: String,
    pub reextracted: bool,
}

/// `luutru history --format json`: one entry per version, oldest first.
pub fn history(versions: &[VersionRecord]) -> Vec<HistoryEntry> {
    versions
        .iter()
        .map(|v| HistoryEntry {
            version: v.number,
            fetched_at: v.fetched_at,
            content_hash: v.content_hash.clone(),
            http_status: v.http_status,
            changed: v.changed.clone(),
            fetched_url: v.fetched_url.clone(),
            reextracted: v.reextracted,
        })
        .collect()
}

/// Writes the versions of one article, oldest first.
pub fn write_history(versions: &[VersionRecord], json: bool, out: &mut dyn Write) -> Result<()> {
    let entries = history(versions);
    if json {
        serde_json::to_writer_pretty(&mut *out, &entries).map_err(|e| out_err(e.into()))?;
        writeln!(out).map_err(out_err)?;
    } else {
        writeln!(
            out,
            "{:>3}  {:<20}  {:<16}  CHANGED",
            "VER", "FETCHED_AT", "CONTENT_HASH"
        )
        .map_err(out_err)?;
        for e in &entries {
            writeln!(
                out,
                "{:>3}  {:<20}  {:<16}  {}",
                e.version,
                e.fetched_at.format("%Y-%m-%dT%H:%M:%SZ"),
                &e.content_hash[..16.min(e.content_hash.len())],
                if e.changed.is_empty() {
                    "-".to_string()
                } else {
                    e.changed.join(",")
                }
            )
            .map_err(out_err)?;
        }
    }
    Ok(())
}

/// The article stored under any spelling of `url`, with all its versions.
pub fn find(store: &dyn ArticleStore, url: &str) -> Result<(ArticleRecord, Vec<VersionRecord>)> {
    let key = store
        .resolve(url)?
        .ok_or_else(|| Error::ArticleNotFound(url.to_string()))?;
    let record = store
        .article(&key)?
        .ok_or_else(|| Error::ArticleNotFound(url.to_string()))?;
    let versions = store.versions(&key)?;
    Ok((record, versions))
}

/// The diff `luutru diff URL [--from N] [--to M]` prints: `to` defaults to the latest
/// version, `from` to the one before `to`.
pub fn diff(
    store: &dyn ArticleStore,
    url: &str,
    from: Option<u32>,
    to: Option<u32>,
) -> Result<crate::diff::VersionDiff> {
    let (record, versions) = find(store, url)?;
    let pick = |n: u32| {
        versions
            .iter()
            .find(|v| v.number == n)
            .ok_or_else(|| Error::VersionNotFound {
                url: record.url.clone(),
                version: n,
            })
    };
    let to = pick(to.unwrap_or(record.versions))?;
    let from_n = match from {
        Some(n) => n,
        None if to.number > 1 => to.number - 1,
        None => {
            return Err(Error::NothingToDiff {
                url: record.url.clone(),
                message: "it has only one version".into(),
            })
        }
    };
    let from = pick(from_n)?;
    Ok(crate::diff::diff_versions(&record.url, from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_bounds_cover_the_named_period() {
        let s = parse_date_bound("2021", false).unwrap();
        assert_eq!(s.to_rfc3339(), "2021-01-01T00:00:00+07:00");
        assert_eq!(
            parse_date_bound("2021", true).unwrap().to_rfc3339(),
            "2022-01-01T00:00:00+07:00"
        );
        assert_eq!(
            parse_date_bound("2021-03", false).unwrap().to_rfc3339(),
            "2021-03-01T00:00:00+07:00"
        );
        assert_eq!(
            parse_date_bound("2021-12", true).unwrap().to_rfc3339(),
            "2022-01-01T00:00:00+07:00"
        );
        assert_eq!(
            parse_date_bound("2021-03-31", true).unwrap().to_rfc3339(),
            "2021-04-01T00:00:00+07:00"
        );
    }

    #[test]
    fn bad_dates_are_refused() {
        for bad in [
            "21",
            "2021-13",
            "2021-02-30",
            "31/03/2021",
            "",
            "2021-03-31T00:00",
        ] {
            assert!(parse_date_bound(bad, false).is_err(), "{bad}");
        }
    }
}
