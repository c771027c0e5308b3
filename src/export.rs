//! Exports of a selection of the store, streamed: WARC 1.1 for web-archive players, JSONL
//! and CSV for pandas, DuckDB and R.
//!
//! The selection is the shared [`Filter`] applied to each article's latest version (or to
//! every version with `all_versions`), articles in key order, versions oldest first. Nothing
//! is collected: one article's versions are in memory at a time (and, for WARC, one capture's
//! bytes and the ids of the revisit originals brought along), so memory stays flat whatever
//! the store size.
//!
//! Parts:
//! - [`ExportFormat`], [`ExportOptions`], [`ExportStats`] and [`export`].
//! - The selection walk (`for_each_selected`), shared by the three formats.
//! - The WARC copier (`WarcCopier`): a new `warcinfo` record, then each capture's `request`
//!   and `response` (or `revisit`) gzip members copied byte for byte from the store's files.
//!   The store's writer appends a request and its response as two consecutive members in one
//!   write, so the request is the member that ends where the response starts: found by
//!   trying the gzip headers just before it, and accepted only if it decodes to exactly that
//!   span and is the `request` whose `WARC-Concurrent-To` names the response. A revisit whose
//!   original capture is not itself selected brings that capture along, once.
//! - JSONL (one [`ArticleView`] per line, the `query --format json` fields) and CSV (RFC 4180:
//!   CRLF line ends, quoted where needed, UTF-8, header row; the columns of
//!   `query --format csv`, from [`query::csv_header`] / [`query::csv_row`]).

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;

use crate::query::{self, ArticleView, Filter};
use crate::store::model::{ArticleRecord, VersionRecord};
use crate::store::warc::{payload_digest, WarcPtr};
use crate::store::ArticleStore;
use crate::{Error, Result};

/// Output formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Warc,
    Jsonl,
    Csv,
}

/// What to export, and how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: ExportFormat,
    pub filter: Filter,
    /// Every version that matches the filter, not only the latest of each article.
    pub all_versions: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExportStats {
    /// Articles with at least one version exported.
    pub articles: u64,
    /// Article versions selected.
    pub versions: u64,
    /// WARC records (the warcinfo included), JSONL lines, or CSV rows (header excluded).
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
    /// WARC captures left out because their records could not be read back intact (each
    /// logged as a warning); always 0 for JSONL and CSV.
    pub skipped: u64,
}

/// Request records are a few hundred bytes compressed: read this much before a response
/// with it, and look further back (up to [`REQUEST_WINDOW`]) only when that is not enough.
const NEAR_WINDOW: u64 = 4 * 1024;
/// The search for a request stops this far before its response.
const REQUEST_WINDOW: u64 = 64 * 1024;
/// A pointer claiming a larger capture is corrupt (fetches are capped far below this).
const MAX_CAPTURE_BYTES: u64 = 512 * 1024 * 1024;
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

fn out_err(e: io::Error) -> Error {
    Error::WriteOutput(e)
}

/// Writes the selection described by `opts` to `out`. `warc_dir` is the store's WARC
/// directory (`Store::warc_dir`); only the WARC format reads it.
pub fn export(
    store: &dyn ArticleStore,
    warc_dir: &Path,
    opts: &ExportOptions,
    out: &mut dyn Write,
) -> Result<ExportStats> {
    let mut counted = CountingWriter { inner: out, n: 0 };
    let mut stats = ExportStats::default();
    {
        let mut buf = BufWriter::with_capacity(1 << 16, &mut counted);
        match opts.format {
            ExportFormat::Jsonl => {
                for_each_selected(store, opts, &mut stats, |a, v| {
                    let view = ArticleView::new(a, v);
                    serde_json::to_writer(&mut buf, &view).map_err(|e| out_err(e.into()))?;
                    buf.write_all(b"\n").map_err(out_err)?;
                    Ok(1)
                })?;
            }
            ExportFormat::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(&mut buf);
                w.write_record(query::csv_header())
                    .map_err(|e| out_err(e.into()))?;
                for_each_selected(store, opts, &mut stats, |a, v| {
                    w.write_record(query::csv_row(&ArticleView::new(a, v)))
                        .map_err(|e| out_err(e.into()))?;
                    Ok(1)
                })?;
                w.flush().map_err(out_err)?;
            }
            ExportFormat::Warc => {
                let mut copier = WarcCopier {
                    dir: warc_dir.to_path_buf(),
                    store,
                    opts,
                    open: None,
                    brought: HashSet::new(),
                    skipped: 0,
                };
                let info = warcinfo_member(opts).map_err(out_err)?;
                buf.write_all(&info).map_err(out_err)?;
                stats.records += 1;
                let mut in_article: HashSet<String> = HashSet::new();
                let mut article = String::new();
                for_each_selected(store, opts, &mut stats, |a, v| {
                    if a.url != article {
                        article.clone_from(&a.url);
                        in_article.clear();
                    }
                    // A re-extracted version points at the capture of the one it re-reads.
                    if !in_article.insert(v.warc.record_id.clone()) {
                        return Ok(0);
                    }
                    copier.version(v, &mut buf)
                })?;
                stats.skipped = copier.skipped;
            }
        }
        buf.flush().map_err(out_err)?;
    }
    stats.bytes = counted.n;
    Ok(stats)
}

/// Calls `f` on every selected (article, version); `f` returns the records it wrote.
fn for_each_selected(
    store: &dyn ArticleStore,
    opts: &ExportOptions,
    stats: &mut ExportStats,
    mut f: impl FnMut(&ArticleRecord, &VersionRecord) -> Result<u64>,
) -> Result<()> {
    let filter = &opts.filter;
    for a in store.articles() {
        let a = a?;
        if !filter.sites.is_empty() && !filter.sites.contains(&a.site) {
            continue;
        }
        let versions = store.versions(&a.url)?;
        let chosen: &[VersionRecord] = if opts.all_versions {
            &versions
        } else {
            versions.last().map(std::slice::from_ref).unwrap_or(&[])
        };
        let mut any = false;
        for v in chosen.iter().filter(|v| filter.matches(&a, v)) {
            any = true;
            stats.versions += 1;
            stats.records += f(&a, v)?;
        }
        if any {
            stats.articles += 1;
        }
    }
    Ok(())
}

/// Counts what reaches the caller's writer.
struct CountingWriter<'a> {
    inner: &'a mut dyn Write,
    n: u64,
}

impl Write for CountingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

// ---- WARC ----

/// The export's own `warcinfo` record (one gzip member): who wrote it and what was selected.
fn warcinfo_member(opts: &ExportOptions) -> io::Result<Vec<u8>> {
    let f = &opts.filter;
    let date = |d: Option<chrono::DateTime<chrono::FixedOffset>>| {
        d.map(|d| d.to_rfc3339()).unwrap_or_else(|| "-".into())
    };
    let block = format!(
        "software: luutru/{}\r\n\
         format: WARC File Format 1.1\r\n\
         conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n\
         description: export of a luutru archive: request, response and revisit records copied unchanged\r\n\
         luutru-selection: sites={}; published-since={}; published-until={}; status={}; versions={}\r\n",
        env!("CARGO_PKG_VERSION"),
        if f.sites.is_empty() {
            "all".to_string()
        } else {
            f.sites.join(",")
        },
        date(f.since),
        date(f.until),
        f.status.map_or("any", |s| s.as_str()),
        if opts.all_versions { "all" } else { "latest" },
    );
    let head = format!(
        "WARC/1.1\r\n\
         WARC-Type: warcinfo\r\n\
         WARC-Record-ID: <urn:uuid:{}>\r\n\
         WARC-Date: {}\r\n\
         Content-Type: application/warc-fields\r\n\
         WARC-Block-Digest: {}\r\n\
         Content-Length: {}\r\n\r\n",
        uuid::Uuid::new_v4(),
        Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        payload_digest(block.as_bytes()),
        block.len()
    );
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(head.as_bytes())?;
    gz.write_all(block.as_bytes())?;
    gz.write_all(b"\r\n\r\n")?;
    gz.finish()
}

struct WarcCopier<'a> {
    dir: PathBuf,
    store: &'a dyn ArticleStore,
    opts: &'a ExportOptions,
    /// The file last read from (captures of one crawl sit together).
    open: Option<(String, File)>,
    /// Record ids of revisit originals copied so far (only those: memory grows with the
    /// revisits exported, not with the export).
    brought: HashSet<String>,
    skipped: u64,
}

impl WarcCopier<'_> {
    /// Copies the capture of one version (and, for a revisit, its original when needed);
    /// returns the records written.
    fn version(&mut self, v: &VersionRecord, out: &mut dyn Write) -> Result<u64> {
        let mut records = 0;
        if let Some(original) = v.warc.original.as_deref() {
            if !self.brought.contains(&original.record_id) && !self.selected(original)? {
                let n = self.capture(original, out)?;
                if n > 0 {
                    self.brought.insert(original.record_id.clone());
                }
                records += n;
            }
        }
        if self.brought.contains(&v.warc.record_id) {
            // Already in the output as some revisit's original.
            return Ok(records);
        }
        Ok(records + self.capture(&v.warc, out)?)
    }

    /// Whether the capture `ptr` is itself part of the selection (so it is exported in its
    /// own place).
    fn selected(&self, ptr: &WarcPtr) -> Result<bool> {
        let Some(url) = self.store.resolve(&ptr.target_uri)? else {
            return Ok(false);
        };
        let Some(a) = self.store.article(&url)? else {
            return Ok(false);
        };
        let versions = self.store.versions(&url)?;
        let f = &self.opts.filter;
        if !f.sites.is_empty() && !f.sites.contains(&a.site) {
            return Ok(false);
        }
        Ok(versions.iter().any(|v| {
            v.warc.record_id == ptr.record_id
                && (self.opts.all_versions || v.number == a.versions)
                && f.matches(&a, v)
        }))
    }

    /// Copies one capture (request + response members, or the response alone when its
    /// request cannot be found); returns the records written, 0 when skipped.
    fn capture(&mut self, ptr: &WarcPtr, out: &mut dyn Write) -> Result<u64> {
        match self.read_capture(ptr) {
            Ok((bytes, records)) => {
                out.write_all(&bytes).map_err(out_err)?;
                Ok(records)
            }
            Err(message) => {
                self.skipped += 1;
                tracing::warn!(
                    file = %self.dir.join(&ptr.file).display(),
                    offset = ptr.offset,
                    record = %ptr.record_id,
                    uri = %ptr.target_uri,
                    %message,
                    "capture left out of the WARC export"
                );
                Ok(0)
            }
        }
    }

    /// The bytes of one capture, checked: the response member must decode whole to the
    /// record the pointer names.
    fn read_capture(&mut self, ptr: &WarcPtr) -> std::result::Result<(Vec<u8>, u64), String> {
        if ptr.file.is_empty()
            || ptr.file.contains(['/', '\\'])
            || ptr.file == "."
            || ptr.file == ".."
        {
            return Err(format!("invalid WARC file name `{}`", ptr.file));
        }
        if ptr.length == 0 || ptr.length > MAX_CAPTURE_BYTES {
            return Err(format!("implausible record length {}", ptr.length));
        }
        let file = match &mut self.open {
            Some((name, file)) if *name == ptr.file => file,
            slot => {
                let file = File::open(self.dir.join(&ptr.file))
                    .map_err(|e| format!("cannot open: {e}"))?;
                &mut slot.insert((ptr.file.clone(), file)).1
            }
        };
        let near = ptr.offset.min(NEAR_WINDOW);
        let mut bytes = read_at(file, ptr.offset - near, near + ptr.length)?;
        let (window, response) = bytes.split_at(near as usize);
        let head = decode_member(response)?;
        let (kind, headers) = warc_head(&head)?;
        if !matches!(kind.as_str(), "response" | "revisit") {
            return Err(format!("record is a {kind}, not a response or revisit"));
        }
        let id = header(&headers, "WARC-Record-ID").unwrap_or("");
        if id != ptr.record_id {
            return Err(format!("record there is {id}, not {}", ptr.record_id));
        }
        if let Some(at) = find_request(window, &ptr.record_id) {
            bytes.drain(..at);
            return Ok((bytes, 2));
        }
        let far = ptr.offset.min(REQUEST_WINDOW);
        if far > near {
            let mut wide = read_at(file, ptr.offset - far, far)?;
            if let Some(at) = find_request(&wide, &ptr.record_id) {
                wide.drain(..at);
                wide.extend_from_slice(&bytes[near as usize..]);
                return Ok((wide, 2));
            }
        }
        tracing::warn!(
            record = %ptr.record_id,
            uri = %ptr.target_uri,
            "no request record just before the response; exporting the response alone"
        );
        bytes.drain(..near as usize);
        Ok((bytes, 1))
    }
}

fn read_at(file: &mut File, start: u64, len: u64) -> std::result::Result<Vec<u8>, String> {
    let mut bytes = vec![0u8; len as usize];
    file.seek(SeekFrom::Start(start))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read {len} bytes at {start}: {e}"))?;
    Ok(bytes)
}

/// Where, in `window` (the bytes just before a response member), the request member of that
/// response starts: the last gzip header from which exactly one member decodes, ending at
/// the window's end, holding the `request` concurrent to `response_id`.
fn find_request(window: &[u8], response_id: &str) -> Option<usize> {
    let mut end = window.len();
    while end >= GZIP_MAGIC.len() {
        let at = window[..end]
            .windows(GZIP_MAGIC.len())
            .rposition(|w| w == GZIP_MAGIC)?;
        if let Ok(head) = decode_member(&window[at..]) {
            if let Ok((kind, headers)) = warc_head(&head) {
                if kind == "request" && header(&headers, "WARC-Concurrent-To") == Some(response_id)
                {
                    return Some(at);
                }
            }
        }
        end = at;
    }
    None
}

/// Decodes `member`, which must be exactly one whole gzip member (CRC checked); returns the
/// start of its content (enough for the WARC head).
fn decode_member(member: &[u8]) -> std::result::Result<Vec<u8>, String> {
    const HEAD_BYTES: usize = 64 * 1024;
    let mut decoder = flate2::bufread::GzDecoder::new(member);
    let mut head = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = decoder
            .read(&mut chunk)
            .map_err(|e| format!("gzip member does not decode: {e}"))?;
        if n == 0 {
            break;
        }
        if head.len() < HEAD_BYTES {
            head.extend_from_slice(&chunk[..n.min(HEAD_BYTES - head.len())]);
        }
    }
    let rest = decoder.into_inner();
    if !rest.is_empty() {
        return Err(format!(
            "gzip member ends {} bytes before the record's stated end",
            rest.len()
        ));
    }
    Ok(head)
}

/// `WARC-Type` and the header fields of a record's head.
fn warc_head(data: &[u8]) -> std::result::Result<(String, Vec<(String, String)>), String> {
    if !data.starts_with(b"WARC/") {
        return Err("not a WARC record".into());
    }
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("WARC head has no end")?;
    let text = String::from_utf8_lossy(&data[..end]);
    let headers: Vec<(String, String)> = text
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let kind = header(&headers, "WARC-Type")
        .ok_or("WARC record without WARC-Type")?
        .to_string();
    Ok((kind, headers))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse_date_bound;
    use crate::search::fixture::*;
    use std::process::Command;

    fn run(
        f: &Fixture,
        format: ExportFormat,
        filter: Filter,
        all_versions: bool,
    ) -> (Vec<u8>, ExportStats) {
        let mut out = Vec::new();
        let stats = export(
            &f.store,
            &f.store.warc_dir(),
            &ExportOptions {
                format,
                filter,
                all_versions,
            },
            &mut out,
        )
        .expect("export");
        assert_eq!(stats.bytes, out.len() as u64);
        (out, stats)
    }

    /// The views an export should hold, in export order.
    fn expected(f: &Fixture, filter: &Filter, all_versions: bool) -> Vec<ArticleView> {
        let mut out = Vec::new();
        for a in f.store.articles() {
            let a = a.unwrap();
            let versions = f.store.versions(&a.url).unwrap();
            let chosen = if all_versions {
                versions.clone()
            } else {
                versions.last().cloned().into_iter().collect()
            };
            for v in chosen.iter().filter(|v| filter.matches(&a, v)) {
                out.push(ArticleView::new(&a, v));
            }
        }
        out
    }

    fn python() -> bool {
        Command::new("python3")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    #[test]
    fn jsonl_reads_back_as_the_query_records() {
        let f = build();
        for all in [false, true] {
            let (out, stats) = run(&f, ExportFormat::Jsonl, Filter::default(), all);
            let want = expected(&f, &Filter::default(), all);
            assert_eq!(want.len(), if all { 6 } else { 5 });
            let text = String::from_utf8(out).unwrap();
            let lines: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
                .collect();
            let want_json: Vec<serde_json::Value> = want
                .iter()
                .map(|v| serde_json::to_value(v).unwrap())
                .collect();
            assert_eq!(lines, want_json);
            assert_eq!(stats.records, want.len() as u64);
            assert_eq!(stats.versions, want.len() as u64);
            assert_eq!(stats.articles, 5);
        }
    }

    #[test]
    fn csv_reads_back_as_the_query_rows() {
        let f = build();
        let filter = Filter {
            sites: vec!["haiduong".into()],
            ..Filter::default()
        };
        let (out, stats) = run(&f, ExportFormat::Csv, filter.clone(), true);
        let want = expected(&f, &filter, true);
        assert_eq!(want.len(), 5);
        assert_eq!(stats.records, 5);
        assert_eq!(stats.articles, 4);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("\r\n"), "RFC 4180 line ends");
        let mut r = csv::Reader::from_reader(&out[..]);
        let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(head, query::csv_header());
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
            .collect();
        let want_rows: Vec<Vec<String>> = want.iter().map(query::csv_row).collect();
        assert_eq!(rows, want_rows);
        // Multi-paragraph bodies survive quoting.
        assert!(rows.iter().any(|r| r[7].contains("\n\n")));
    }

    #[test]
    fn python_reads_jsonl_and_csv() {
        if !python() {
            println!("note: python3 not found; skipping the Python read-back");
            return;
        }
        let f = build();
        let tmp = tempfile::tempdir().unwrap();
        let jsonl = tmp.path().join("out.jsonl");
        let csvp = tmp.path().join("out.csv");
        std::fs::write(
            &jsonl,
            run(&f, ExportFormat::Jsonl, Filter::default(), true).0,
        )
        .unwrap();
        std::fs::write(&csvp, run(&f, ExportFormat::Csv, Filter::default(), true).0).unwrap();
        let script = r#"
import csv, json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
with open(sys.argv[2], newline="", encoding="utf-8") as fh:
    table = list(csv.DictReader(fh))
print(json.dumps({"jsonl": rows, "csv": table}))
"#;
        let out = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&jsonl)
            .arg(&csvp)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let want = expected(&f, &Filter::default(), true);
        let want_json: Vec<serde_json::Value> = want
            .iter()
            .map(|v| serde_json::to_value(v).unwrap())
            .collect();
        assert_eq!(got["jsonl"], serde_json::Value::Array(want_json));
        let want_csv: Vec<serde_json::Value> = want
            .iter()
            .map(|v| {
                let obj: serde_json::Map<String, serde_json::Value> = query::csv_header()
                    .iter()
                    .zip(query::csv_row(v))
                    .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                    .collect();
                serde_json::Value::Object(obj)
            })
            .collect();
        assert_eq!(got["csv"], serde_json::Value::Array(want_csv));
    }

    #[test]
    fn filters_select_by_site_date_and_version() {
        let f = build();
        let count = |filter: Filter, all: bool| run(&f, ExportFormat::Jsonl, filter, all).1;
        let s = count(
            Filter {
                since: Some(parse_date_bound("2021-04", false).unwrap()),
                until: Some(parse_date_bound("2021-12-31", true).unwrap()),
                ..Filter::default()
            },
            true,
        );
        assert_eq!((s.articles, s.versions), (2, 2));
        let s = count(
            Filter {
                since: Some(parse_date_bound("2021-03-15", false).unwrap()),
                until: Some(parse_date_bound("2021-03-15", true).unwrap()),
                ..Filter::default()
            },
            true,
        );
        assert_eq!((s.articles, s.versions), (1, 2));
        let s = count(
            Filter {
                sites: vec!["nowhere".into()],
                ..Filter::default()
            },
            true,
        );
        assert_eq!(s, ExportStats::default());
    }

    struct Record {
        kind: warc::RecordType,
        id: String,
        uri: Option<String>,
        concurrent: Option<String>,
        body: Vec<u8>,
    }

    fn read_warc(bytes: &[u8]) -> Vec<Record> {
        use warc::{WarcHeader, WarcReader};
        let reader = WarcReader::new(std::io::BufReader::new(
            flate2::bufread::MultiGzDecoder::new(bytes),
        ));
        reader
            .iter_records()
            .map(|r| {
                let r = r.expect("warc crate parses every record");
                Record {
                    kind: r.warc_type().clone(),
                    id: r.warc_id().to_string(),
                    uri: r.header(WarcHeader::TargetURI).map(|c| c.into_owned()),
                    concurrent: r.header(WarcHeader::ConcurrentTo).map(|c| c.into_owned()),
                    body: r.body().to_vec(),
                }
            })
            .collect()
    }

    #[test]
    fn warc_export_copies_captures_and_brings_revisit_originals() {
        use warc::RecordType::*;
        let f = build();
        let (out, stats) = run(&f, ExportFormat::Warc, Filter::default(), true);
        let records = read_warc(&out);
        assert_eq!(records[0].kind, WarcInfo);
        let info = String::from_utf8_lossy(&records[0].body).to_string();
        assert!(info.contains("versions=all"), "{info}");
        // 6 captures (5 articles, one edited), request + response/revisit each, plus the
        // listing response the revisit refers to, with its request.
        assert_eq!(records.len(), 1 + 2 * 6 + 2);
        assert_eq!(stats.records, records.len() as u64);
        assert_eq!((stats.articles, stats.versions, stats.skipped), (5, 6, 0));
        let mut captures = Vec::new();
        for a in f.store.articles() {
            let a = a.unwrap();
            for v in f.store.versions(&a.url).unwrap() {
                captures.push((a.url.clone(), v));
            }
        }
        for (url, v) in &captures {
            let mine: Vec<&Record> = records
                .iter()
                .filter(|r| r.id == v.warc.record_id)
                .collect();
            assert_eq!(mine.len(), 1, "one response per capture of {url}");
            let kind = if v.warc.original.is_some() {
                Revisit
            } else {
                Response
            };
            assert_eq!(mine[0].kind, kind);
            // The request record comes along, concurrent to it.
            assert_eq!(
                records
                    .iter()
                    .filter(|r| r.kind == Request
                        && r.concurrent.as_deref() == Some(v.warc.record_id.as_str()))
                    .count(),
                1
            );
            if kind == Response {
                let title = v.fields.title.as_deref().unwrap();
                assert!(String::from_utf8_lossy(&mine[0].body).contains(title));
            }
        }
        // The original of the revisit, once.
        let originals: Vec<&Record> = records
            .iter()
            .filter(|r| r.id == f.listing.record_id)
            .collect();
        assert_eq!(originals.len(), 1);
        assert_eq!(originals[0].uri.as_deref(), Some(LISTING));
        // Bytes copied unchanged: a capture's request and response members, as in the store.
        let (_, v) = captures.iter().find(|(u, _)| u == DONG_TRIEU).unwrap();
        let p = &v.warc;
        let file = std::fs::read(f.store.warc_dir().join(&p.file)).unwrap();
        let req = find_request(&file[..p.offset as usize], &p.record_id).unwrap();
        let span = &file[req..(p.offset + p.length) as usize];
        assert!(out.windows(span.len()).any(|w| w == span));

        // Latest versions only: the edited article's first capture stays out.
        let (out, stats) = run(&f, ExportFormat::Warc, Filter::default(), false);
        let records = read_warc(&out);
        assert_eq!(records.len(), 1 + 2 * 5 + 2);
        assert_eq!(stats.versions, 5);
        let old = &f.store.versions(CHI_LINH).unwrap()[0].warc.record_id;
        assert!(!records.iter().any(|r| &r.id == old));

        // A selection without the revisit has no reason to carry the listing.
        let (out, _) = run(
            &f,
            ExportFormat::Warc,
            Filter {
                sites: vec!["quangninh".into()],
                ..Filter::default()
            },
            true,
        );
        let kinds: Vec<_> = read_warc(&out).into_iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [WarcInfo, Request, Response]);
    }

    #[test]
    fn a_damaged_capture_is_skipped_not_fatal() {
        let f = build();
        let p = f.store.versions(DONG_TRIEU).unwrap().remove(0).warc;
        let path = f.store.warc_dir().join(&p.file);
        let mut bytes = std::fs::read(&path).unwrap();
        // Flip a byte inside the response's compressed data: the CRC check fails.
        let i = (p.offset + p.length / 2) as usize;
        bytes[i] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        let (out, stats) = run(&f, ExportFormat::Warc, Filter::default(), false);
        assert_eq!(stats.skipped, 1);
        let records = read_warc(&out);
        assert!(!records.iter().any(|r| r.id == p.record_id));
        assert_eq!(records.len(), 1 + 2 * 4 + 2);
    }

    #[test]
    fn a_large_request_is_found_further_back() {
        let f = build();
        let mut page = thong_bao();
        page.url = "http://haiduong.test/yeu-cau-lon.html";
        page.title = "Trang có yêu cầu lớn";
        page.body = "Nội dung riêng của trang này.";
        // Random cookie values: the request member compresses to well over NEAR_WINDOW.
        let cookie: String = (0..400)
            .map(|_| uuid::Uuid::new_v4().simple().to_string())
            .collect();
        commit_with(
            &f.store,
            &page,
            &html(page.title, page.body),
            &format!("Cookie: s={cookie}\r\n"),
        );
        let p = f.store.versions(page.url).unwrap().remove(0).warc;
        let file = std::fs::read(f.store.warc_dir().join(&p.file)).unwrap();
        let req = find_request(&file[..p.offset as usize], &p.record_id).unwrap();
        assert!(
            p.offset - req as u64 > NEAR_WINDOW,
            "request is {} bytes",
            p.offset - req as u64
        );
        let (out, stats) = run(&f, ExportFormat::Warc, Filter::default(), false);
        assert_eq!(stats.skipped, 0);
        let span = &file[req..(p.offset + p.length) as usize];
        assert!(out.windows(span.len()).any(|w| w == span));
    }

    #[test]
    fn find_request_rejects_lookalikes() {
        let f = build();
        let p = f.store.versions(HOI_NGHI).unwrap().remove(0).warc;
        let file = std::fs::read(f.store.warc_dir().join(&p.file)).unwrap();
        let window = &file[..p.offset as usize];
        let at = find_request(window, &p.record_id).expect("request found");
        assert!(at > 0 && at < window.len());
        // The request of another response does not qualify.
        assert_eq!(
            find_request(window, "<urn:uuid:00000000-0000-4000-8000-000000000000>"),
            None
        );
        // Garbage that merely starts like gzip does not qualify either.
        let mut fake = window.to_vec();
        fake.extend_from_slice(&[0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3]);
        assert_eq!(find_request(&fake, &p.record_id), None);
    }

    /// warcio's command line (the package has no `__main__`, and the `warcio` script may
    /// not be on PATH).
    const WARCIO_CLI: &str = "import sys; from warcio.cli import main; main(sys.argv[1:])";

    #[test]
    fn warcio_checks_and_indexes_the_export() {
        let has_warcio = Command::new("python3")
            .args(["-c", "import warcio"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_warcio {
            println!("note: python3 with warcio not available (pip install warcio); skipping the warcio check");
            return;
        }
        let f = build();
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("export.warc.gz");
        let (out, stats) = run(&f, ExportFormat::Warc, Filter::default(), true);
        std::fs::write(&path, out).unwrap();

        let check = Command::new("python3")
            .args(["-c", WARCIO_CLI, "check", "-v"])
            .arg(&path)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&check.stdout).to_string();
        assert!(
            check.status.success(),
            "warcio check failed:\n{report}\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        assert!(!report.contains("digest failed"), "{report}");
        // Every record's digests verified, except the revisit's (it has no payload).
        assert_eq!(
            report.matches("digest pass").count() as u64,
            stats.records - 1,
            "{report}"
        );

        let index = Command::new("python3")
            .args([
                "-c",
                WARCIO_CLI,
                "index",
                "-f",
                "warc-type,warc-target-uri,warc-record-id",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            index.status.success(),
            "{}",
            String::from_utf8_lossy(&index.stderr)
        );
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&index.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len() as u64, stats.records);
        let responses = lines
            .iter()
            .filter(|l| l["warc-type"] == "response")
            .count();
        let revisits = lines.iter().filter(|l| l["warc-type"] == "revisit").count();
        // 5 captures + the listing original; 1 revisit.
        assert_eq!((responses, revisits), (6, 1));

        // Payloads as warcio decodes them hold each article's title.
        let script = r#"
import json, sys
from warcio.archiveiterator import ArchiveIterator
out = {}
with open(sys.argv[1], "rb") as fh:
    for r in ArchiveIterator(fh):
        if r.rec_type == "response":
            out[r.rec_headers.get_header("WARC-Record-ID")] = r.content_stream().read().decode("utf-8")
print(json.dumps(out))
"#;
        let payloads = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            payloads.status.success(),
            "{}",
            String::from_utf8_lossy(&payloads.stderr)
        );
        let payloads: serde_json::Value = serde_json::from_slice(&payloads.stdout).unwrap();
        for a in f.store.articles() {
            let a = a.unwrap();
            for v in f.store.versions(&a.url).unwrap() {
                let id = v
                    .warc
                    .original
                    .as_ref()
                    .map_or(&v.warc.record_id, |o| &o.record_id);
                let body = payloads[id.as_str()]
                    .as_str()
                    .expect("payload of the capture");
                assert!(
                    body.contains(v.fields.title.as_deref().unwrap()),
                    "{}",
                    a.url
                );
            }
        }
    }
}
