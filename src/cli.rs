//! The command line: clap definitions and one function per command.
//!
//! The binary (`src/main.rs`) only parses, sets up logging and signals, calls [`run`] and
//! maps errors to the exit codes below. Parts: [`Cli`] / [`Command`], [`run`], the
//! `EXIT_*` codes and [`exit_code`].

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, DEFAULT_CONFIG_PATH};
use crate::crawl::{CrawlOptions, RunSummary};
use crate::query::{self, ArticleView, Filter, Format};
use crate::store::{ArticleStore, Store};
use crate::{Error, Result};

/// The run completed and every page was fetched or skipped on purpose.
pub const EXIT_OK: i32 = 0;
/// The run completed but some pages failed (see the summary).
pub const EXIT_PAGES_FAILED: i32 = 1;
/// Bad command-line arguments or a bad config file (nothing was written).
pub const EXIT_USAGE: i32 = 2;
/// The store could not be opened, read or written.
pub const EXIT_STORE: i32 = 3;
/// Another luutru process holds the store.
pub const EXIT_LOCKED: i32 = 4;
/// Any other error (network for `extract URL`, output closed…).
pub const EXIT_ERROR: i32 = 5;
/// The run was interrupted (Ctrl-C / SIGTERM); the next run resumes it.
pub const EXIT_INTERRUPTED: i32 = 130;

/// luutru: archive Vietnamese provincial news portals (WARC + versioned articles).
#[derive(Debug, Parser)]
#[command(name = "luutru", version, about, long_about = None)]
pub struct Cli {
    /// Config file.
    #[arg(long, global = true, default_value = DEFAULT_CONFIG_PATH, env = "LUUTRU_CONFIG")]
    pub config: PathBuf,
    /// Store directory (overrides `[crawl].store`).
    #[arg(long, global = true, env = "LUUTRU_STORE")]
    pub store: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Only warnings, errors and the final summary.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one archival crawl of the configured sites.
    Crawl(CrawlArgs),
    /// List stored articles.
    Query(QueryArgs),
    /// Show one article (any of its URLs).
    Show(ShowArgs),
    /// List the versions of one article, oldest first.
    History(HistoryArgs),
    /// What changed between two versions of an article (default: the last two), word by
    /// word.
    Diff(DiffArgs),
    /// Dry-run extraction of saved pages or one live URL, printing each field and its
    /// source: how selectors for a new site are written and checked.
    Extract(ExtractArgs),
    /// Re-extract the stored raw pages with the current selectors; new versions only where
    /// the extracted content really differs (marked re-extracted).
    Reextract(ReextractArgs),
    /// Rebuild the database (store/db) from the WARC files alone; an existing database is
    /// moved aside, never deleted.
    ReindexDb,
    /// Check the store: every version's WARC record and digests, hashes, aliases, queue.
    Verify,
    /// Merge the search index into one segment, then copy the database's live records into
    /// a fresh one and swap it in when it is smaller (sled keeps overwritten records on
    /// disk for a while). Needs memory of the order of the database's live size.
    CompactDb,
    /// Export articles (or every version) as WARC, JSON lines or CSV, streaming.
    Export(ExportArgs),
    /// Rebuild the full-text search index (store/index) from the database.
    Reindex,
    /// Records of past crawl runs (newest first), or one run in full.
    Runs(RunsArgs),
    /// Configured sites: articles stored, last run, last change, template health.
    Sites(SitesArgs),
    /// Read-only web UI and JSON API over the store (it holds the store while it runs).
    Serve(crate::serve::ServeArgs),
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub action: Option<RunsAction>,
    /// At most this many runs.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,
}

#[derive(Debug, Subcommand)]
pub enum RunsAction {
    /// One run in full (JSON).
    Show {
        /// Run id (the first column of `luutru runs`).
        id: u64,
    },
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Any URL of the article.
    pub url: String,
    /// Older version (default: the one before --to).
    #[arg(long)]
    pub from: Option<u32>,
    /// Newer version (default: the latest).
    #[arg(long)]
    pub to: Option<u32>,
    #[arg(long, value_enum, default_value_t = DiffFormat::Unified)]
    pub format: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Unified,
    Json,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Use this site's selectors (default: none, i.e. the fallback chain alone).
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Saved HTML files, or one http(s) URL to fetch.
    #[arg(required = true, value_name = "FILE|URL")]
    pub inputs: Vec<String>,
    #[arg(long, value_enum, default_value_t = ExtractFormat::Text)]
    pub format: ExtractFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExtractFormat {
    Text,
    Json,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ReextractArgs {
    /// Only this site.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
}

#[derive(Debug, Args)]
pub struct SitesArgs {
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,
}

#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// Only this site (repeatable).
    #[arg(long = "site", value_name = "NAME")]
    pub sites: Vec<String>,
    /// Stop after this many pages (overrides `[crawl].max_pages`; 0 = no limit).
    #[arg(long)]
    pub max_pages: Option<u64>,
    /// Fetch every known article again, however recently it was fetched.
    #[arg(long)]
    pub revisit_all: bool,
    /// Print the summary as one JSON object on the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// At most this many articles (0 = all).
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Full-text search: words (all required, diacritics optional: "chi linh" finds "Chí
    /// Linh"), "quoted phrases", -excluded words.
    #[arg(long, value_name = "WORDS")]
    pub text: Option<String>,
    /// Only articles with more than one version, or gone.
    #[arg(long)]
    pub changed: bool,
    /// Each article as it read at that moment: 2021-03-31 (end of that day), 2021-03, 2021,
    /// or an RFC 3339 time.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Order: date (newest publication first; default without --text) or relevance
    /// (default with --text).
    #[arg(long, value_enum)]
    pub sort: Option<SortArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusArg {
    Live,
    Gone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortArg {
    Date,
    Relevance,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: crate::export::ExportFormat,
    /// Output file (`-` for stdout).
    #[arg(long, short)]
    pub output: PathBuf,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Every version, not only the latest of each article.
    #[arg(long)]
    pub all_versions: bool,
}

/// The selection `query` and `export` share: sites, publication dates, status.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Only this site (repeatable).
    #[arg(long = "site", value_name = "NAME")]
    pub sites: Vec<String>,
    /// Published on or after: 2021-03-31, 2021-03 or 2021.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Published up to the end of: 2021-03-31, 2021-03 or 2021.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
}

impl SelectArgs {
    /// The filter these arguments ask for; a malformed date is an error naming it.
    fn filter(&self) -> Result<Filter> {
        Ok(Filter {
            sites: self.sites.clone(),
            since: self
                .since
                .as_deref()
                .map(|s| query::parse_date_bound(s, false))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|s| query::parse_date_bound(s, true))
                .transpose()?,
            status: self.status.map(|s| match s {
                StatusArg::Live => crate::store::model::ArticleStatus::Live,
                StatusArg::Gone => crate::store::model::ArticleStatus::Gone,
            }),
        })
    }
}

/// `--as-of`: an RFC 3339 time, or the last moment of the day, month or year named.
fn parse_as_of(s: &str) -> Result<chrono::DateTime<chrono::FixedOffset>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t);
    }
    Ok(query::parse_date_bound(s, true)? - chrono::Duration::nanoseconds(1))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableOrJson {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Any URL of the article.
    pub url: String,
    /// Version number (default: the latest).
    #[arg(long)]
    pub version: Option<u32>,
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
    /// Print the archived HTML as fetched instead of the extracted fields.
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Any URL of the article.
    pub url: String,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,
}

/// The exit code for an error.
pub fn exit_code(e: &Error) -> i32 {
    match e {
        Error::ReadConfig { .. }
        | Error::ParseConfig { .. }
        | Error::InvalidConfig { .. }
        | Error::ConfigErrors(_)
        | Error::InvalidRegex(_)
        | Error::InvalidSelector(_)
        | Error::InvalidDateFilter { .. } => EXIT_USAGE,
        Error::StoreLocked { .. } => EXIT_LOCKED,
        Error::OpenStore { .. }
        | Error::Db(_)
        | Error::CorruptRecord { .. }
        | Error::WriteWarc { .. }
        | Error::ReadWarc { .. } => EXIT_STORE,
        _ => EXIT_ERROR,
    }
}

impl Cli {
    fn load_config(&self) -> Result<Config> {
        let mut c = Config::load(&self.config)?;
        if let Some(s) = &self.store {
            c.crawl.store = s.clone();
        }
        Ok(c)
    }

    /// The store directory for read commands: `--store`, else the config's, else `store`.
    fn store_dir(&self) -> Result<PathBuf> {
        if let Some(s) = &self.store {
            return Ok(s.clone());
        }
        if self.config.exists() {
            return Ok(self.load_config()?.crawl.store);
        }
        Ok(PathBuf::from(crate::config::DEFAULT_STORE))
    }

    fn open_existing_store(&self) -> Result<Store> {
        let dir = self.store_dir()?;
        if !dir.join("db").exists() {
            return Err(Error::OpenStore {
                path: dir,
                message: "no store here yet (run `luutru crawl` first, or pass --store)".into(),
            });
        }
        Store::open(&dir, &self.command_line())
    }

    /// The command as the lock file records it.
    fn command_line(&self) -> String {
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    }
}

/// After a crawl: the full-text index, then the near-duplicate index, then the store's zstd
/// dictionary if it has none yet. A failure here loses nothing (the changed articles stay
/// marked and the next query, lookup or `reindex` catches up; records are compressed
/// without a dictionary until one is trained), so it is a warning.
fn update_indexes(store: &Store) {
    let indexed = crate::search::SearchIndex::open(store.dir())
        .and_then(|mut index| query::refresh_index(store, &mut index));
    if let Err(e) = indexed {
        tracing::warn!("search index not updated: {e}");
    }
    // The near-duplicate index takes the run's new texts in one sorted pass (see
    // `NearDupIndex::apply`). After the search index: the pass leaves sled's cache full of
    // index nodes, which added 20 MB to the search update's peak memory when it came first.
    let started = std::time::Instant::now();
    match store.apply_near_pending() {
        Ok(applied) => tracing::debug!(
            applied,
            ms = started.elapsed().as_millis() as u64,
            "near-duplicate index updated"
        ),
        Err(e) => tracing::warn!("near-duplicate index not updated: {e}"),
    }
    // Runs that each add a few dozen articles never collect enough records to train the
    // store's zstd dictionary while crawling; the store has them by now.
    match store.ensure_dictionary() {
        Ok(true) => tracing::info!("trained the store's zstd dictionary on its records"),
        Ok(false) => {}
        Err(e) => tracing::warn!("zstd dictionary not trained: {e}"),
    }
}

/// Runs the command; returns the process exit code.
pub async fn run(cli: Cli, shutdown: impl Future<Output = ()>) -> Result<i32> {
    let mut stdout = std::io::stdout().lock();
    match &cli.command {
        Command::Crawl(args) => {
            let config = cli.load_config()?;
            crate::crawl::check_sites(&config, &args.sites)?;
            let store = Arc::new(Store::open_with_cache(
                &config.crawl.store,
                &cli.command_line(),
                crate::store::CRAWL_CACHE_BYTES,
            )?);
            let opts = CrawlOptions {
                sites: args.sites.clone(),
                max_pages: args.max_pages,
                revisit_all: args.revisit_all,
                progress: !cli.quiet
                    && !args.json
                    && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            };
            drop(stdout);
            // Through the crawl and the index update after it; stopped when dropped.
            let _trimmer = AbortOnDrop(tokio::spawn(release_free_memory_every(TRIM_EVERY)));
            let summary = crate::crawl::run(&config, store.clone(), opts, shutdown).await?;
            // The index updates below need little of the crawl's large sled cache: the store
            // is reopened with a small one. Should that fail, they are left for the next
            // query (the changed articles stay marked).
            let store = match Arc::try_unwrap(store) {
                Ok(store) => match store.with_cache(crate::store::INDEX_UPDATE_CACHE_BYTES) {
                    Ok(store) => Some(Arc::new(store)),
                    Err(e) => {
                        tracing::warn!("search and near-duplicate indexes not updated: {e}");
                        None
                    }
                },
                // Still shared (a store write on the blocking pool outlives an interrupted
                // crawl's aborted page): keep it as it is.
                Err(shared) => Some(shared),
            };
            release_free_memory();
            if let Some(store) = &store {
                update_indexes(store);
            }
            let mut stdout = std::io::stdout().lock();
            print_summary(&summary, args.json, &mut stdout)?;
            Ok(if summary.interrupted {
                EXIT_INTERRUPTED
            } else if summary.failed > 0 {
                EXIT_PAGES_FAILED
            } else {
                EXIT_OK
            })
        }
        Command::Query(args) => {
            // Arguments first: a bad date is a usage error even where there is no store.
            let filter = args.select.filter()?;
            let as_of = args.as_of.as_deref().map(parse_as_of).transpose()?;
            let store = cli.open_existing_store()?;
            let views = match &args.text {
                Some(text) => {
                    let order = match args.sort {
                        Some(SortArg::Date) => crate::search::SearchOrder::Newest,
                        _ => crate::search::SearchOrder::Relevance,
                    };
                    query::search(
                        &store,
                        text,
                        &filter,
                        as_of,
                        args.changed,
                        order,
                        args.limit,
                    )?
                }
                None => query::select_at(&store, &filter, as_of, args.changed, args.limit)?,
            };
            query::write_views(&views, args.format, &mut stdout)?;
            Ok(EXIT_OK)
        }
        Command::Show(args) => {
            let store = cli.open_existing_store()?;
            let (article, versions) = query::find(&store, &args.url)?;
            let v = match args.version {
                None => versions.last(),
                Some(n) => versions.iter().find(|v| v.number == n),
            }
            .ok_or_else(|| Error::VersionNotFound {
                url: article.url.clone(),
                version: args.version.unwrap_or(0),
            })?;
            if args.raw {
                let resp = crate::store::warc::read_response(&store.warc_dir(), &v.warc)?;
                let encoding = resp
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
                    .map(|(_, v)| v.as_str());
                let body =
                    crate::fetch::decode_content(&resp.body, encoding, u64::MAX).map_err(|e| {
                        Error::ReadWarc {
                            path: store.warc_dir().join(&v.warc.file),
                            offset: v.warc.offset,
                            message: e.to_string(),
                        }
                    })?;
                let content_type = resp
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.as_str());
                let html = crate::extract::decode_html(&body, content_type);
                stdout
                    .write_all(html.as_bytes())
                    .map_err(Error::WriteOutput)?;
                return Ok(EXIT_OK);
            }
            let mut view = ArticleView::new(&article, v);
            view.near_duplicates = store.near_duplicates(&article.url)?;
            match args.format {
                TextOrJson::Json => {
                    #[derive(serde::Serialize)]
                    struct ShowJson<'a> {
                        #[serde(flatten)]
                        view: &'a ArticleView,
                        captions: &'a [String],
                        sources: &'a crate::extract::FieldSources,
                        warnings: &'a [String],
                        changed: &'a [String],
                        http_status: u16,
                        fetched_url: &'a str,
                        warc: &'a crate::store::warc::WarcPtr,
                    }
                    let j = ShowJson {
                        view: &view,
                        captions: &v.fields.captions,
                        sources: &v.fields.sources,
                        warnings: &v.fields.warnings,
                        changed: &v.changed,
                        http_status: v.http_status,
                        fetched_url: &v.fetched_url,
                        warc: &v.warc,
                    };
                    serde_json::to_writer_pretty(&mut stdout, &j)
                        .map_err(|e| Error::WriteOutput(e.into()))?;
                    writeln!(stdout).map_err(Error::WriteOutput)?;
                }
                TextOrJson::Text => write_text(&view, &mut stdout).map_err(Error::WriteOutput)?,
            }
            Ok(EXIT_OK)
        }
        Command::Diff(args) => {
            let store = cli.open_existing_store()?;
            let d = query::diff(&store, &args.url, args.from, args.to)?;
            match args.format {
                DiffFormat::Json => crate::diff::write_json(&d, &mut stdout),
                DiffFormat::Unified => {
                    let color = std::io::IsTerminal::is_terminal(&std::io::stdout())
                        && std::env::var_os("NO_COLOR").is_none();
                    crate::diff::write_unified(&d, color, &mut stdout)
                }
            }
            .map_err(Error::WriteOutput)?;
            Ok(EXIT_OK)
        }
        Command::Extract(args) => {
            let results = run_extract(&cli, args).await?;
            write_extracts(&results, args.format, &mut stdout)?;
            Ok(EXIT_OK)
        }
        Command::Export(args) => {
            let filter = args.select.filter()?;
            let store = cli.open_existing_store()?;
            let opts = crate::export::ExportOptions {
                format: args.format,
                filter,
                all_versions: args.all_versions,
            };
            let stats = if args.output.as_os_str() == "-" {
                crate::export::export(&store, &store.warc_dir(), &opts, &mut stdout)?
            } else {
                // Written next to the target and renamed: a failed export never leaves a
                // half file under the name asked for.
                let tmp = args.output.with_extension("partial");
                let file = std::fs::File::create(&tmp).map_err(|source| Error::WriteFile {
                    path: tmp.clone(),
                    source,
                })?;
                let mut w = std::io::BufWriter::new(file);
                let stats = crate::export::export(&store, &store.warc_dir(), &opts, &mut w)?;
                w.flush().map_err(Error::WriteOutput)?;
                drop(w);
                std::fs::rename(&tmp, &args.output).map_err(|source| Error::WriteFile {
                    path: args.output.clone(),
                    source,
                })?;
                stats
            };
            eprintln!(
                "exported {} version(s) of {} article(s): {} record(s), {} bytes{}",
                stats.versions,
                stats.articles,
                stats.records,
                stats.bytes,
                if stats.skipped > 0 {
                    format!(", {} unreadable capture(s) left out", stats.skipped)
                } else {
                    String::new()
                }
            );
            Ok(EXIT_OK)
        }
        Command::Reindex => {
            let store = cli.open_existing_store()?;
            let mut index = crate::search::SearchIndex::open(store.dir())?;
            let n = index.rebuild(&store)?;
            store.clear_all_search_pending()?;
            writeln!(stdout, "indexed {n} article(s)").map_err(Error::WriteOutput)?;
            Ok(EXIT_OK)
        }
        Command::Reextract(args) => {
            let config = cli.load_config()?;
            if let Some(name) = &args.site {
                if config.site(name).is_none() {
                    return Err(Error::InvalidConfig {
                        path: config.path.clone(),
                        message: format!("--site {name}: no such site"),
                    });
                }
            }
            let store = Store::open(&config.crawl.store, &cli.command_line())?;
            let stats = crate::rebuild::reextract(&config, &store, args.site.as_deref())?;
            writeln!(
                stdout,
                "re-extracted {} article(s): {} new version(s), {} unchanged, {} unreadable",
                stats.responses, stats.versions, stats.unchanged, stats.damaged
            )
            .map_err(Error::WriteOutput)?;
            Ok(EXIT_OK)
        }
        Command::ReindexDb => {
            let config = cli.load_config()?;
            let stats =
                crate::rebuild::rebuild_db(&config, &config.crawl.store, &cli.command_line())?;
            writeln!(
                stdout,
                "rebuilt from {} WARC record(s): {} article(s), {} later version(s), {} unchanged fetch(es), {} gone, {} out of scope, {} damaged",
                stats.records, stats.articles, stats.versions, stats.unchanged, stats.gone, stats.out_of_scope, stats.damaged
            )
            .map_err(Error::WriteOutput)?;
            Ok(EXIT_OK)
        }
        Command::CompactDb => {
            let store = cli.open_existing_store()?;
            // The search index first, brought up to date and merged into one segment, while
            // the store is freshly opened: the merge maps every segment, and after the copy
            // sled's memory would come on top of it.
            let started = std::time::Instant::now();
            let mut index = crate::search::SearchIndex::open(store.dir())?;
            query::refresh_index(&store, &mut index)?;
            let before = index.bytes();
            let segments = index.merge_segments()?;
            let after = index.bytes();
            drop(index);
            let merged = started.elapsed();
            let started = std::time::Instant::now();
            let (_, c) = store.compact()?;
            if c.kept {
                writeln!(
                    stdout,
                    "database kept as it was: its copy ({} records) was not smaller than its {:.1} MB ({:.1} s)",
                    c.records,
                    c.before as f64 / 1e6,
                    started.elapsed().as_secs_f64()
                )
            } else {
                writeln!(
                    stdout,
                    "compacted the database: {:.1} MB -> {:.1} MB ({} records) in {:.1} s",
                    c.before as f64 / 1e6,
                    c.after as f64 / 1e6,
                    c.records,
                    started.elapsed().as_secs_f64()
                )
            }
            .map_err(Error::WriteOutput)?;
            if c.trained || c.recompressed > 0 {
                writeln!(
                    stdout,
                    "{}{} records recompressed with the store's zstd dictionary",
                    if c.trained {
                        "trained the store's zstd dictionary on a sample of its records; "
                    } else {
                        ""
                    },
                    c.recompressed
                )
                .map_err(Error::WriteOutput)?;
            }
            writeln!(
                stdout,
                "merged the search index: {segments} segment(s) into one, {:.1} MB -> {:.1} MB in {:.1} s",
                before as f64 / 1e6,
                after as f64 / 1e6,
                merged.as_secs_f64()
            )
            .map_err(Error::WriteOutput)?;
            Ok(EXIT_OK)
        }
        Command::Verify => {
            let store = cli.open_existing_store()?;
            let (checked, problems) = crate::rebuild::verify(&store)?;
            for p in &problems {
                writeln!(stdout, "PROBLEM {}: {}", p.url, p.message).map_err(Error::WriteOutput)?;
            }
            writeln!(
                stdout,
                "verified {checked} article(s): {} problem(s)",
                problems.len()
            )
            .map_err(Error::WriteOutput)?;
            Ok(if problems.is_empty() {
                EXIT_OK
            } else {
                EXIT_STORE
            })
        }
        Command::Runs(args) => {
            let store = cli.open_existing_store()?;
            if let Some(RunsAction::Show { id }) = &args.action {
                let rec = store
                    .run_record(*id)?
                    .ok_or_else(|| Error::RunNotFound(*id))?;
                let summary: RunSummary =
                    serde_json::from_slice(&rec).map_err(|e| Error::CorruptRecord {
                        key: format!("runs/{id}"),
                        message: e.to_string(),
                    })?;
                serde_json::to_writer_pretty(&mut stdout, &summary)
                    .map_err(|e| Error::WriteOutput(e.into()))?;
                writeln!(stdout).map_err(Error::WriteOutput)?;
                return Ok(EXIT_OK);
            }
            let runs = load_runs(&store, args.limit)?;
            if args.format == TableOrJson::Json {
                serde_json::to_writer_pretty(&mut stdout, &runs)
                    .map_err(|e| Error::WriteOutput(e.into()))?;
                writeln!(stdout).map_err(Error::WriteOutput)?;
            } else {
                write_runs_table(&runs, &mut stdout).map_err(Error::WriteOutput)?;
            }
            Ok(EXIT_OK)
        }
        Command::Sites(args) => {
            let config = cli.load_config()?;
            // Before the first crawl there is no store: list the sites with nothing stored.
            let store = match cli.open_existing_store() {
                Ok(s) => Some(s),
                Err(Error::OpenStore { .. }) if !cli.store_dir()?.join("db").exists() => None,
                Err(e) => return Err(e),
            };
            let rows = site_rows(&config, store.as_ref())?;
            if args.format == TableOrJson::Json {
                serde_json::to_writer_pretty(&mut stdout, &rows)
                    .map_err(|e| Error::WriteOutput(e.into()))?;
                writeln!(stdout).map_err(Error::WriteOutput)?;
            } else {
                write_sites_table(&rows, &mut stdout).map_err(Error::WriteOutput)?;
            }
            Ok(EXIT_OK)
        }
        Command::Serve(args) => {
            // The sites page needs the config; everything else works without one.
            let config = if cli.config.exists() {
                Some(cli.load_config()?)
            } else {
                None
            };
            let store = cli.open_existing_store()?;
            drop(stdout);
            crate::serve::run(store, config, args, shutdown).await?;
            Ok(EXIT_OK)
        }
        Command::History(args) => {
            let store = cli.open_existing_store()?;
            let (_, versions) = query::find(&store, &args.url)?;
            query::write_history(&versions, args.format == TableOrJson::Json, &mut stdout)?;
            Ok(EXIT_OK)
        }
    }
}

fn write_text(v: &ArticleView, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}", v.title.as_deref().unwrap_or("(no title)"))?;
    writeln!(out, "URL:       {}", v.url)?;
    writeln!(out, "Site:      {}", v.site)?;
    if let Some(p) = v.published {
        writeln!(out, "Published: {}", p.to_rfc3339())?;
    }
    if let Some(a) = &v.author {
        writeln!(out, "Author:    {a}")?;
    }
    writeln!(
        out,
        "Version:   {} of {} (captured {})",
        v.version,
        v.versions,
        v.captured_at.to_rfc3339()
    )?;
    writeln!(out, "Status:    {}", v.status.as_str())?;
    for a in &v.aliases {
        writeln!(out, "Alias:     {a}")?;
    }
    writeln!(out)?;
    if let Some(s) = &v.summary {
        writeln!(out, "{s}\n")?;
    }
    writeln!(out, "{}", v.body)
}

/// How often a running crawl hands freed heap back to the OS (see
/// [`release_free_memory_every`]).
const TRIM_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Hands freed heap back to the OS every `period`, until dropped. glibc keeps what a crawl
/// frees (page bodies, parsed trees, sled's evicted nodes) in its arenas for reuse, and the
/// mix of short-lived large buffers with long-lived small records leaves most of it in
/// holes that only `malloc_trim` returns: a 20,000-article crawl held 100–117 MB resident
/// without it, 80–100 MB with a trim every second, 67–100 MB every quarter second (and
/// 135 MB at its peak, in the index update, against 200 MB before), for about one percent
/// of a core. (glibc's fixed `mmap_threshold`/`trim_threshold` tunables did as well for
/// memory but cost 10 more CPU-seconds of page faults per 20,000 pages.)
async fn release_free_memory_every(period: std::time::Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate
    loop {
        tick.tick().await;
        // Off the async workers: the trim walks the heap under glibc's arena locks.
        let _ = tokio::task::spawn_blocking(release_free_memory).await;
    }
}

/// A background task that ends when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Hands memory the crawl freed back to the OS before the index update allocates its own:
/// glibc keeps freed heap for reuse, so the two phases' peaks would add up in the RSS.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the OS; it takes glibc's own
    // locks and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn print_summary(s: &RunSummary, json: bool, out: &mut dyn Write) -> Result<()> {
    let w = |e: std::io::Error| Error::WriteOutput(e);
    if json {
        serde_json::to_writer(&mut *out, s).map_err(|e| w(e.into()))?;
        writeln!(out).map_err(w)?;
        return Ok(());
    }
    let how = if s.interrupted {
        "interrupted (the next run resumes)"
    } else if s.queued > 0 {
        "stopped at max_pages (the next run resumes)"
    } else {
        "completed"
    };
    writeln!(
        out,
        "run {} {how}{} ({} KiB downloaded, {} KiB archived)",
        s.id,
        if s.resumed {
            format!(", resuming pass {}", s.run)
        } else {
            String::new()
        },
        s.bytes_downloaded / 1024,
        s.bytes_stored / 1024
    )
    .map_err(w)?;
    for warning in &s.template_warnings {
        writeln!(out, "WARNING: {warning}").map_err(w)?;
    }
    writeln!(
        out,
        "fetched {}  new articles {}  new versions {}  unchanged {}  gone {}  skipped {}  failed {}  queued {}",
        s.fetched, s.new_articles, s.new_versions, s.unchanged, s.gone, s.skipped, s.failed, s.queued
    )
    .map_err(w)?;
    for (name, c) in &s.sites {
        let reasons: Vec<String> = c.reasons.iter().map(|(r, n)| format!("{r}: {n}")).collect();
        writeln!(
            out,
            "  {name}: fetched {} new {} versions {} unchanged {} gone {} listings {} skipped {} failed {}{}",
            c.fetched,
            c.new_articles,
            c.new_versions,
            c.unchanged,
            c.gone,
            c.listings,
            c.skipped,
            c.failed,
            if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join(", ")) }
        )
        .map_err(w)?;
    }
    Ok(())
}

pub fn load_runs(store: &Store, limit: usize) -> Result<Vec<RunSummary>> {
    store
        .run_records(limit)?
        .into_iter()
        .map(|(id, rec)| {
            serde_json::from_slice(&rec).map_err(|e| Error::CorruptRecord {
                key: format!("runs/{id}"),
                message: e.to_string(),
            })
        })
        .collect()
}

fn write_runs_table(runs: &[RunSummary], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>4}  {:<20}  {:>8}  {:<11}  {:>7}  {:>5}  {:>8}  {:>9}  {:>4}  {:>6}",
        "ID",
        "STARTED",
        "DURATION",
        "OUTCOME",
        "FETCHED",
        "NEW",
        "VERSIONS",
        "UNCHANGED",
        "GONE",
        "FAILED"
    )?;
    for r in runs {
        let started = r
            .started
            .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let duration = match (r.started, r.ended) {
            (Some(s), Some(e)) => format!("{}s", (e - s).num_seconds()),
            _ => "-".into(),
        };
        writeln!(
            out,
            "{:>4}  {:<20}  {:>8}  {:<11}  {:>7}  {:>5}  {:>8}  {:>9}  {:>4}  {:>6}",
            r.id,
            started,
            duration,
            r.outcome,
            r.fetched,
            r.new_articles,
            r.new_versions,
            r.unchanged,
            r.gone,
            r.failed
        )?;
    }
    Ok(())
}

/// One line of `luutru sites`.
#[derive(Debug, serde::Serialize)]
pub struct SiteRow {
    pub name: String,
    pub articles: u64,
    pub gone: u64,
    pub versions: u64,
    /// Start of the last run that fetched pages of this site.
    pub last_run: Option<chrono::DateTime<chrono::Utc>>,
    /// Last time a new article or version of this site was stored.
    pub last_change: Option<chrono::DateTime<chrono::Utc>>,
    /// From the last run: per field, the share of article pages that got it from the
    /// configured selector (or the source kinds when the site has no selectors).
    pub template_health: std::collections::BTreeMap<String, String>,
}

pub fn site_rows(config: &Config, store: Option<&Store>) -> Result<Vec<SiteRow>> {
    let mut rows: Vec<SiteRow> = config
        .sites
        .iter()
        .map(|s| SiteRow {
            name: s.name.clone(),
            articles: 0,
            gone: 0,
            versions: 0,
            last_run: None,
            last_change: None,
            template_health: Default::default(),
        })
        .collect();
    let Some(store) = store else { return Ok(rows) };
    for a in store.articles() {
        let a = a?;
        let Some(row) = rows.iter_mut().find(|r| r.name == a.site) else {
            continue;
        };
        row.articles += 1;
        row.versions += u64::from(a.versions);
        if a.status == crate::store::model::ArticleStatus::Gone {
            row.gone += 1;
        }
        if let Some(v) = store.versions(&a.url)?.last() {
            row.last_change = row.last_change.max(Some(v.fetched_at));
        }
    }
    let runs = load_runs(store, 0)?;
    for row in &mut rows {
        row.last_run = runs
            .iter()
            .find(|r| r.sites.get(&row.name).is_some_and(|c| c.fetched > 0))
            .and_then(|r| r.started);
        let with_articles = runs.iter().find_map(|r| {
            r.sites
                .get(&row.name)
                .filter(|c| !c.field_sources.is_empty())
        });
        if let Some(c) = with_articles {
            for (field, kinds) in &c.field_sources {
                let total: u64 = kinds.values().sum();
                let parts: Vec<String> = kinds
                    .iter()
                    .map(|(k, n)| format!("{k} {n}/{total}"))
                    .collect();
                row.template_health.insert(field.clone(), parts.join(", "));
            }
        }
    }
    Ok(rows)
}

fn write_sites_table(rows: &[SiteRow], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<24}  {:>8}  {:>8}  {:>4}  {:<16}  {:<16}  TEMPLATE HEALTH (last run)",
        "SITE", "ARTICLES", "VERSIONS", "GONE", "LAST RUN", "LAST CHANGE"
    )?;
    let fmt = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into())
    };
    for r in rows {
        let health: Vec<String> = r
            .template_health
            .iter()
            .map(|(f, h)| format!("{f}: {h}"))
            .collect();
        writeln!(
            out,
            "{:<24}  {:>8}  {:>8}  {:>4}  {:<16}  {:<16}  {}",
            r.name,
            r.articles,
            r.versions,
            r.gone,
            fmt(r.last_run),
            fmt(r.last_change),
            if health.is_empty() {
                "-".to_string()
            } else {
                health.join("; ")
            }
        )?;
    }
    Ok(())
}

/// One input of `luutru extract` and what came out of it.
#[derive(Debug, serde::Serialize)]
pub struct ExtractResult {
    pub file: String,
    pub title: Option<String>,
    pub published: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub modified: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub author: Option<String>,
    pub summary: Option<String>,
    pub body: String,
    pub captions: Vec<String>,
    pub sources: crate::extract::FieldSources,
    pub warnings: Vec<String>,
    pub links: usize,
}

async fn run_extract(cli: &Cli, args: &ExtractArgs) -> Result<Vec<ExtractResult>> {
    // A config is needed only for --site; without it, extraction uses no selectors.
    let config = match (&args.site, cli.config.exists()) {
        (Some(_), _) => Some(cli.load_config()?),
        (None, true) => cli.load_config().ok(),
        (None, false) => None,
    };
    let selectors = match (&args.site, &config) {
        (Some(name), Some(c)) => c
            .site(name)
            .ok_or_else(|| Error::InvalidConfig {
                path: c.path.clone(),
                message: format!(
                    "--site {name}: no such site (configured: {})",
                    c.sites
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?
            .selectors
            .clone(),
        _ => Default::default(),
    };
    let now = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset"));
    let mut out = Vec::new();
    for input in &args.inputs {
        let (html, base) = if input.starts_with("http://") || input.starts_with("https://") {
            fetch_for_extract(input, config.as_ref()).await?
        } else {
            let path = PathBuf::from(input);
            let bytes = std::fs::read(&path).map_err(|source| Error::ReadFile {
                path: path.clone(),
                source,
            })?;
            let abs = std::fs::canonicalize(&path).unwrap_or(path);
            let base = url::Url::from_file_path(&abs)
                .unwrap_or_else(|_| url::Url::parse("file:///page.html").expect("static URL"));
            (crate::extract::decode_html(&bytes, None), base)
        };
        let page = crate::extract::parse_page(&html, &base, &selectors, true, now);
        let e = page.article.unwrap_or_default();
        out.push(ExtractResult {
            file: input.clone(),
            title: e.title,
            published: e.published,
            modified: e.modified,
            author: e.author,
            summary: e.summary,
            body: e.body,
            captions: e.captions,
            sources: e.sources,
            warnings: e.warnings,
            links: page.links.len(),
        });
    }
    Ok(out)
}

/// Fetches one live page (following redirects) for `extract URL`.
async fn fetch_for_extract(input: &str, config: Option<&Config>) -> Result<(String, url::Url)> {
    let settings = config.map(|c| c.crawl.clone()).unwrap_or_default();
    let fetcher = crate::fetch::Fetcher::new(crate::fetch::FetchOptions {
        user_agent: settings.user_agent.clone(),
        timeout: settings.timeout,
        connect_timeout: crate::fetch::DEFAULT_CONNECT_TIMEOUT.min(settings.timeout),
        max_body: settings.max_body,
    })?;
    let mut url = crate::canon::parse_canonical(input)?;
    for _ in 0..=crate::crawl::MAX_REDIRECTS {
        let resp = fetcher
            .fetch(&url, &Default::default())
            .await
            .map_err(|f| Error::FetchPage {
                url: url.to_string(),
                message: f.to_string(),
            })?;
        if (300..400).contains(&resp.status) {
            if let Some(next) = resp.location() {
                url = next;
                continue;
            }
        }
        if !(200..300).contains(&resp.status) {
            return Err(Error::FetchPage {
                url: url.to_string(),
                message: format!("HTTP status {}", resp.status),
            });
        }
        let body = resp
            .decoded_body(settings.max_body)
            .map_err(|f| Error::FetchPage {
                url: url.to_string(),
                message: f.to_string(),
            })?;
        return Ok((crate::extract::decode_html(&body, resp.content_type()), url));
    }
    Err(Error::FetchPage {
        url: input.to_string(),
        message: "too many redirects".into(),
    })
}

fn write_extracts(
    results: &[ExtractResult],
    format: ExtractFormat,
    out: &mut dyn Write,
) -> Result<()> {
    let w = Error::WriteOutput;
    match format {
        ExtractFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, results).map_err(|e| w(e.into()))?;
            writeln!(out).map_err(w)?;
        }
        ExtractFormat::Jsonl => {
            for r in results {
                serde_json::to_writer(&mut *out, r).map_err(|e| w(e.into()))?;
                writeln!(out).map_err(w)?;
            }
        }
        ExtractFormat::Text => {
            for r in results {
                let src = |s: &Option<String>| s.clone().unwrap_or_else(|| "nothing".into());
                writeln!(out, "== {}", r.file).map_err(w)?;
                writeln!(
                    out,
                    "title     [{}]: {}",
                    src(&r.sources.title),
                    r.title.as_deref().unwrap_or("-")
                )
                .map_err(w)?;
                writeln!(
                    out,
                    "published [{}]: {}",
                    src(&r.sources.published),
                    r.published
                        .map(|d| d.to_rfc3339())
                        .unwrap_or_else(|| "-".into())
                )
                .map_err(w)?;
                if let Some(m) = r.modified {
                    writeln!(
                        out,
                        "modified  [{}]: {}",
                        src(&r.sources.modified),
                        m.to_rfc3339()
                    )
                    .map_err(w)?;
                }
                writeln!(
                    out,
                    "author    [{}]: {}",
                    src(&r.sources.author),
                    r.author.as_deref().unwrap_or("-")
                )
                .map_err(w)?;
                writeln!(
                    out,
                    "summary   [{}]: {}",
                    src(&r.sources.summary),
                    r.summary.as_deref().unwrap_or("-")
                )
                .map_err(w)?;
                writeln!(
                    out,
                    "body      [{}]: {} paragraph(s), {} caption(s)",
                    src(&r.sources.body),
                    r.body.split("\n\n").filter(|p| !p.is_empty()).count(),
                    r.captions.len()
                )
                .map_err(w)?;
                writeln!(out, "links: {}", r.links).map_err(w)?;
                for warning in &r.warnings {
                    writeln!(out, "warning: {warning}").map_err(w)?;
                }
                writeln!(out, "\n{}\n", r.body).map_err(w)?;
            }
        }
    }
    Ok(())
}
