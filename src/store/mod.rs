//! The store: WARC files for the bytes, sled for everything else.
//!
//! Layout under the store directory: `warc/` (see [`warc`]: every response as received,
//! fsynced before sled points at it) and `db/` (sled, named trees only):
//!
//! | tree       | key                         | value                                   |
//! |------------|-----------------------------|-----------------------------------------|
//! | `meta`     | `schema_version`, `run`, `last_run_id`, `zstd_dict/`+u32 | u32 / [`model::RunState`] / u64 / a zstd dictionary ([`codec`]) |
//! | `frontier` | canonical URL               | [`model::FrontierEntry`]                |
//! | `queue`    | u64 sequence (big-endian)   | canonical URL still to fetch this run (its frontier record holds the key) |
//! | `articles` | canonical article URL       | [`model::ArticleRecord`]                |
//! | `touched`  | canonical article URL       | [`model::Touch`]: what unchanged fetches changed since the record was written |
//! | `versions` | [`model::version_key`]      | [`model::VersionRecord`]                |
//! | `aliases`  | any canonical URL seen      | canonical article URL                   |
//! | `content`  | [`model::content_key`]      | canonical article URL                   |
//! | `payloads` | WARC payload digest         | [`warc::WarcPtr`] of the first copy     |
//! | `runs`     | u64 run id (big-endian)     | the run's record (JSON, see `crawl`)    |
//! | `neardup`  | see [`crate::neardup`]      | MinHash signatures and LSH bands        |
//! | `search_pending` | canonical article URL | (empty): changed since the search index was updated |
//! | `neardup_pending` | canonical article URL | its latest body's MinHash signature (empty: none), not yet in `neardup` |
//!
//! `luutru.lock` (an OS file lock plus the holder's pid, command and start time) makes one
//! process at a time own a store. sled's log keeps overwritten records until its cleaning
//! (every [`FLUSH_EVERY_MS`]) moves the live ones out of a segment: a database holds
//! about 1.4 to 1.6 times its live records after a first crawl. [`Store::compact`]
//! (`luutru compact-db`) copies the live records into a fresh database and swaps it in.
//!
//! Everything a page changes (its article, version, aliases, the links it queued, its own
//! frontier state) is written in one sled transaction after its WARC record is on disk, so
//! a kill at any moment leaves a consistent store and the next run resumes from `queue`.
//! Records carry everything needed to rebuild them from the WARC files.
//!
//! Parts: [`Store`] (the sled + WARC implementation), the read-side trait [`ArticleStore`]
//! that query, show and export use, and [`Commit`] / [`CommitResult`] for one page.

mod codec;
mod compact;
pub mod model;
pub mod warc;

pub use codec::{
    COMPRESS_RECORDS_OVER, COMPRESS_WITH_DICT_OVER, DICT_BYTES, DICT_MIN_SAMPLE_BYTES,
    DICT_SAMPLE_BYTES, DICT_SAMPLE_RECORDS,
};
pub use compact::Compaction;

use codec::{plain_enc, Codec};

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

use crate::dedup::changed_fields;
use crate::extract::Extracted;
use crate::{Error, Result};
use model::*;
use warc::{WarcPtr, WarcWriter};

/// Near-duplicate changes applied per round of [`Store::apply_near_pending`]: about 3 MB of
/// bucket updates held at once.
pub const NEAR_APPLY_CHUNK: usize = 10_000;

/// The `neardup_pending` value for a body: its signature, or empty when it has none.
fn near_pending_value(body: &str) -> Vec<u8> {
    crate::neardup::signature(body).map_or_else(Vec::new, |s| s.to_bytes())
}

/// Low bits of a `queue` key that number the links of one page (see `Store::queue_seqs`).
const QUEUE_SEQ_BITS: u32 = 16;

/// sled's page cache; explicit so memory use does not depend on sled's default. sled's
/// in-memory nodes take several times what it counts against this figure: at 64 MiB a
/// 20,000-page crawl's resident memory grew to 240 MB as the cache filled, at 16 MiB it
/// stays near 150 MB (benches/README.md, "Crawl").
pub const DEFAULT_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// sled's page cache while crawling. A crawl is bound by its commits, which run one at a
/// time under sled's global lock and read nodes scattered over several trees: with twice
/// the default cache a 20,000-article first crawl took 80 s instead of 96 (back to back).
/// 24 rather than 32 MiB: sled's memory beyond its cache grows with the store (its page
/// table: ~20 MB at 100,000 articles), and at 32 MiB a 100,000-article crawl peaked at
/// 173 MB while crawling, at 24 MiB at 157 MB (benches/README.md, "Crawl").
pub const CRAWL_CACHE_BYTES: u64 = 24 * 1024 * 1024;

/// sled's page cache for the index updates at the end of a crawl (the crawl command reopens
/// the store with it, [`Store::with_cache`]). They read each record once, in key order, so
/// a cache saves them little: with 4 MiB instead of the default 16 the updates after a
/// 100,000-article crawl peaked at 161 instead of 174 MB (search) and 121 instead of 157
/// MB (near-duplicates), in the same time.
pub const INDEX_UPDATE_CACHE_BYTES: u64 = 4 * 1024 * 1024;

/// How often sled's background thread writes out its buffers, in milliseconds (sled's
/// default: 500). That thread is also the one that cleans sled's log: after each flush it
/// moves live pages out of mostly-garbage segments, for at most half the interval. At 500
/// ms the cleaning fell behind a crawl's writes and the file grew to hold the garbage: a
/// 20,000-article first crawl left `db/` at 225 MB for 63 MB of live records. At 100 ms
/// 149 MB, at 50 ms 93–100 MB, at 30 ms 92 MB, at 20 ms 88–99 MB (a `compact-db` copy of
/// it is no smaller), in the same time (60–65 s against 62–64 s). The cost when idle: an
/// fsync of a clean file every 20 ms, 0.4% of a core. A kill loses at most the last 20 ms
/// of commits instead of 500 (the next run fetches those pages again).
pub const FLUSH_EVERY_MS: u64 = 20;

/// Read access to articles and versions: what query, show, diff and export need. A shared
/// backend (e.g. a database server) would implement this.
pub trait ArticleStore {
    /// Canonical article URL for any spelling of it (alias, tracking parameters…).
    fn resolve(&self, url: &str) -> Result<Option<String>>;
    fn article(&self, url: &str) -> Result<Option<ArticleRecord>>;
    /// Versions oldest first.
    fn versions(&self, url: &str) -> Result<Vec<VersionRecord>>;
    /// Version `number` of the article whose canonical URL is `url`.
    fn version(&self, url: &str, number: u32) -> Result<Option<VersionRecord>> {
        Ok(self.versions(url)?.into_iter().find(|v| v.number == number))
    }
    /// Every article, in key order.
    fn articles(&self) -> Box<dyn Iterator<Item = Result<ArticleRecord>> + '_>;
    /// Articles (of any site) whose latest body nearly equals this one's, most similar first.
    fn near_duplicates(&self, url: &str) -> Result<Vec<crate::neardup::NearMatch>>;
}

/// What fetching one page produced, to be written atomically.
#[derive(Debug, Clone)]
pub enum Commit {
    /// An article page that was fetched and extracted.
    Article(Box<FetchedArticle>),
    /// A revisit that found the article unchanged: a 304, or a 200 whose extracted content
    /// hashes as the stored one. Only the fact that it was seen is recorded (no WARC
    /// record, no version); `validators` replaces the stored ETag / Last-Modified when the
    /// URL fetched is the article's own.
    NotModified {
        at: DateTime<Utc>,
        status: u16,
        validators: Option<(Option<String>, Option<String>)>,
    },
    /// 404/410 or a redirect away from the article.
    Gone { at: DateTime<Utc>, status: u16 },
    /// A listing (or seed) page: only its links matter.
    Listing,
    /// Given up on (reason recorded in the frontier).
    Failed { reason: String },
}

/// An extracted article page.
#[derive(Debug, Clone)]
pub struct FetchedArticle {
    pub site: String,
    /// Canonical form of the URL fetched.
    pub fetched_url: String,
    /// `<link rel=canonical>` when it names an article page of the same site.
    pub declared_canonical: Option<String>,
    /// Other spellings that led here (redirect hops before `fetched_url`).
    pub redirected_from: Vec<String>,
    /// The article this spelling was filed under when it was first crawled (rebuilds only:
    /// they replay pages in WARC order, which concurrent fetches make differ from the
    /// order their commits chose keys in).
    pub key_hint: Option<String>,
    pub fields: Extracted,
    pub content_hash: String,
    pub http_status: u16,
    pub fetched_at: DateTime<Utc>,
    pub warc: WarcPtr,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Content type of the WARC `metadata` records that say which article a URL was filed
/// under, when that is not the URL itself (see [`FetchedArticle::key_hint`]).
pub const KEY_CONTENT_TYPE: &str = "application/vnd.luutru.key+json";

/// The block of a key record.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct KeyRecord {
    pub url: String,
    pub key: String,
}

/// Content type of the WARC `metadata` records that say an article was seen unchanged.
pub const SEEN_CONTENT_TYPE: &str = "application/vnd.luutru.seen+json";

/// How long the first "seen unchanged" fact of a batch waits for others to share its WARC
/// record. A recrawl at a few hundred pages per second gathers about ten per record; a
/// rate-limited crawl writes one per record, as it did before batching, 25 ms later.
pub const SEEN_BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(25);

/// Facts waiting for, or written in, a batched "seen" record. Batches are numbered; a
/// caller knows its batch by number and waits for that batch's outcome.
#[derive(Default)]
struct SeenBatch {
    /// Facts not yet taken by a writer; they go in batch `next`.
    pending: Vec<SeenRecord>,
    /// Whether a caller is waiting out the window to write `pending`.
    leader: bool,
    next: u64,
    /// Outcome of written batches (`None` written, `Some(error)` not), with how many of
    /// their callers have yet to read it; removed when all have.
    finished: std::collections::BTreeMap<u64, (Option<String>, usize)>,
}

/// One line of a "seen unchanged" metadata record's block (older records hold one, as a
/// whole block).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SeenRecord {
    pub url: String,
    pub at: DateTime<Utc>,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitResult {
    NewArticle { url: String },
    NewVersion { url: String, number: u32 },
    Unchanged { url: String },
    Gone { url: String },
    Done,
    Failed,
}

/// What a walk of due articles does with one (see [`Store::due_articles`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkStep {
    /// Fetch it.
    Take,
    /// Pass it over (not due, or already on its way).
    Skip,
    /// Not now: the walk ends here and goes on from this article next time.
    Stop,
}

/// `scheme://authority/` of an article key (the whole key if it has no path).
fn origin_prefix(key: &[u8]) -> &[u8] {
    let after_scheme = key
        .windows(3)
        .position(|w| w == b"://")
        .map_or(0, |i| i + 3);
    match key[after_scheme..].iter().position(|&b| b == b'/') {
        Some(i) => &key[..after_scheme + i + 1],
        None => key,
    }
}

/// The smallest key after every key that starts with `prefix`.
fn prefix_successor(prefix: &[u8]) -> Vec<u8> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.pop() {
        if last < u8::MAX {
            next.push(last + 1);
            return next;
        }
    }
    // All 0xFF: nothing sorts after every such key but a longer run of them.
    let mut all = prefix.to_vec();
    all.push(u8::MAX);
    all
}

/// When a discovered link is worth queueing.
#[derive(Debug, Clone, Copy)]
pub struct EnqueuePolicy {
    pub run: u64,
    /// Known articles fetched after this moment are not fetched again this run.
    pub fresh_after: DateTime<Utc>,
    /// The run walks its due articles itself ([`Store::due_articles`]): a link to a known
    /// article is never queued, fresh or not.
    pub revisit_walk: bool,
}

/// The sled + WARC store.
pub struct Store {
    dir: PathBuf,
    db: sled::Db,
    meta: sled::Tree,
    frontier: sled::Tree,
    queue: sled::Tree,
    articles: sled::Tree,
    /// What unchanged fetches changed in an article record (see [`Touch`]).
    touched: sled::Tree,
    versions: sled::Tree,
    aliases: sled::Tree,
    content: sled::Tree,
    payloads: sled::Tree,
    runs: sled::Tree,
    search_pending: sled::Tree,
    near: crate::neardup::NearDupIndex,
    /// Near-duplicate index changes not applied yet (see [`Store::apply_near_pending`]).
    near_pending: sled::Tree,
    /// Encodes and decodes records, with the store's zstd dictionaries.
    codec: Codec,
    warc: Mutex<Option<WarcWriter>>,
    /// "Seen unchanged" facts being gathered into one record (see [`Store::archive_seen`]).
    seen: Mutex<SeenBatch>,
    seen_written: std::sync::Condvar,
    /// Held (OS file lock) for the life of the Store; the OS drops it when the process dies,
    /// so a killed crawl never blocks the next one.
    _lock: std::fs::File,
}

/// Who holds a store: written into `store/luutru.lock` by the holder.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LockHolder {
    pub pid: u32,
    pub since: DateTime<Utc>,
    pub command: String,
}

/// Takes the store's lock file, or says who holds it.
fn take_lock(dir: &Path, command: &str) -> Result<std::fs::File> {
    use std::io::{Read, Seek, Write};
    let path = dir.join("luutru.lock");
    let open_err = |e: std::io::Error| Error::OpenStore {
        path: dir.to_path_buf(),
        message: format!("lock file {}: {e}", path.display()),
    };
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(open_err)?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = f.read_to_string(&mut text);
            let holder = match serde_json::from_str::<LockHolder>(&text) {
                Ok(h) => format!(
                    "luutru process {} (`{}`) since {}",
                    h.pid,
                    h.command,
                    h.since.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                Err(_) => "another luutru process".to_string(),
            };
            return Err(Error::StoreLocked {
                path: dir.to_path_buf(),
                holder,
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(open_err(e)),
    }
    let holder = LockHolder {
        pid: std::process::id(),
        since: Utc::now(),
        command: command.to_string(),
    };
    f.set_len(0).map_err(open_err)?;
    f.rewind().map_err(open_err)?;
    f.write_all(&plain_enc(&holder)).map_err(open_err)?;
    f.flush().map_err(open_err)?;
    Ok(f)
}

/// How long [`open_sled`] waits for sled's file lock.
const SLED_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens a sled database, waiting up to [`SLED_LOCK_WAIT`] for its file lock. The store's
/// own lock file keeps other processes out, so a held sled lock is this process's: a
/// handle just dropped (before a compaction's copy, or reopening after it) whose
/// background flusher thread has not let go yet. sled's own tests wait on it for the same
/// reason. Every database luutru opens is flushed and cleaned every [`FLUSH_EVERY_MS`].
/// (Set here, on a config nothing else holds: sled logs an error when a shared one is
/// changed.)
fn open_sled(config: sled::Config) -> sled::Result<sled::Db> {
    let deadline = std::time::Instant::now() + SLED_LOCK_WAIT;
    let config = config.flush_every_ms(Some(FLUSH_EVERY_MS));
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Boxed: sled returns the abort error by value through every transactional call.
type TxError = ConflictableTransactionError<Box<Error>>;

/// Objects that are dear to make and cheap to reuse (compression contexts), shared by
/// every thread. One pool rather than one object per thread: store records and WARC
/// records are compressed on tokio's blocking pool, dozens of threads that would each
/// keep one.
pub(crate) struct Pool<T> {
    idle: Mutex<Vec<T>>,
}

impl<T> Pool<T> {
    pub(crate) const fn new() -> Pool<T> {
        Pool {
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on an idle object, or on one made by `make` when none is idle (`None`
    /// when `make` fails); the object then goes back to the pool.
    pub(crate) fn with<R>(
        &self,
        make: impl FnOnce() -> Option<T>,
        f: impl FnOnce(&mut T) -> R,
    ) -> Option<R> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut object = idle.or_else(make)?;
        let out = f(&mut object);
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(object);
        Some(out)
    }
}

fn tx_dec<T: serde::de::DeserializeOwned>(
    codec: &Codec,
    key: &[u8],
    bytes: &[u8],
) -> std::result::Result<T, TxError> {
    codec
        .dec(key, bytes)
        .map_err(|e| ConflictableTransactionError::Abort(Box::new(e)))
}

/// A frontier record, with its URL (the key) put back.
fn frontier_dec(codec: &Codec, url: &str, bytes: &[u8]) -> Result<FrontierEntry> {
    let mut e: FrontierEntry = codec.dec(url.as_bytes(), bytes)?;
    e.url = url.to_string();
    Ok(e)
}

fn tx_result<T>(r: std::result::Result<T, TransactionError<Box<Error>>>) -> Result<T> {
    r.map_err(|e| match e {
        TransactionError::Abort(e) => *e,
        TransactionError::Storage(e) => Error::Db(e),
    })
}

impl Store {
    /// Opens (creating if needed) the store at `dir` for `command` (recorded in the lock
    /// file so a second process can say who holds the store).
    pub fn open(dir: &Path, command: &str) -> Result<Store> {
        Store::open_with_cache(dir, command, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] with `cache_bytes` of sled page cache.
    pub fn open_with_cache(dir: &Path, command: &str, cache_bytes: u64) -> Result<Store> {
        std::fs::create_dir_all(dir.join("warc")).map_err(|e| Error::OpenStore {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let lock = take_lock(dir, command)?;
        Store::open_locked(dir, lock, cache_bytes)
    }

    /// Closes the database and opens it again with `cache_bytes` of sled page cache (freeing
    /// what the old cache held), keeping the store's lock all along.
    pub fn with_cache(self, cache_bytes: u64) -> Result<Store> {
        self.flush()?;
        let dir = self.dir.clone();
        // Moved into this block, so every other field (trees, WARC writer) drops at its end
        // and sled closes its files.
        let lock = {
            let store = self;
            let Store { _lock, .. } = store;
            _lock
        };
        Store::open_locked(&dir, lock, cache_bytes)
    }

    /// Opens the store at `dir`, whose lock `lock` is held.
    fn open_locked(dir: &Path, lock: std::fs::File, cache_bytes: u64) -> Result<Store> {
        let open_err = |message: String| Error::OpenStore {
            path: dir.to_path_buf(),
            message,
        };
        compact::recover(dir)?;
        let db = open_sled(
            sled::Config::new()
                .path(dir.join("db"))
                .cache_capacity(cache_bytes),
        )
        .map_err(|e| open_err(e.to_string()))?;
        let tree = |name: &str| db.open_tree(name).map_err(|e| open_err(e.to_string()));
        let meta = tree("meta")?;
        let store = Store {
            codec: Codec::open(meta.clone())?,
            meta,
            frontier: tree("frontier")?,
            queue: tree("queue")?,
            articles: tree("articles")?,
            touched: tree("touched")?,
            versions: tree("versions")?,
            aliases: tree("aliases")?,
            content: tree("content")?,
            payloads: tree("payloads")?,
            runs: tree("runs")?,
            search_pending: tree("search_pending")?,
            near: crate::neardup::NearDupIndex::new(tree("neardup")?),
            near_pending: tree("neardup_pending")?,
            _lock: lock,
            dir: dir.to_path_buf(),
            db,
            warc: Mutex::new(None),
            seen: Mutex::new(SeenBatch::default()),
            seen_written: std::sync::Condvar::new(),
        };
        let found = store.meta.get("schema_version")?.map(|v| {
            <[u8; 4]>::try_from(v.as_ref())
                .map(u32::from_be_bytes)
                .unwrap_or(0)
        });
        match found {
            Some(SCHEMA_VERSION) => {}
            // New, or older and readable as it is: from now on records may need this
            // version to be read, so older luutru must refuse the store.
            None | Some(OLDEST_SCHEMA_VERSION..SCHEMA_VERSION) => {
                store.fold_queue_index()?;
                store
                    .meta
                    .insert("schema_version", &SCHEMA_VERSION.to_be_bytes())?;
            }
            Some(v) => {
                return Err(open_err(format!(
                    "schema version {v}, this luutru reads versions \
                     {OLDEST_SCHEMA_VERSION} to {SCHEMA_VERSION}"
                )));
            }
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn warc_dir(&self) -> PathBuf {
        self.dir.join("warc")
    }

    /// Writes one exchange to the WARC files (fsynced) and returns where it is. An identical
    /// payload already archived becomes a `revisit` record pointing at the first copy.
    pub fn archive(&self, ex: &warc::Exchange<'_>) -> Result<WarcPtr> {
        let digest = warc::payload_digest(ex.body);
        let original: Option<WarcPtr> = match self.payloads.get(digest.as_bytes())? {
            Some(v) => Some(self.codec.dec(digest.as_bytes(), &v)?),
            None => None,
        };
        let ex = warc::Exchange {
            revisit_of: original.as_ref(),
            ..*ex
        };
        // Compress outside the writer's lock, so concurrent pages queue only for the
        // append; one fsync then covers every record appended before it (group commit).
        let (ptr, token) = loop {
            let target = self.with_warc(|w| w.target())?;
            let prepared = target.prepare_exchange(&ex, Some(digest.clone()))?;
            if let Some(appended) = self.with_warc(|w| w.append_exchange(prepared))? {
                break appended;
            }
        };
        token.wait()?;
        if original.is_none() && !ex.body.is_empty() {
            // Safe to record outside the page transaction: the record is already on disk.
            self.payloads
                .insert(digest.as_bytes(), self.codec.enc(&ptr))?;
        }
        Ok(ptr)
    }

    /// Runs `f` on the WARC writer (opened on first use) under its lock.
    fn with_warc<T>(&self, f: impl FnOnce(&mut WarcWriter) -> Result<T>) -> Result<T> {
        let mut guard = self.warc.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(WarcWriter::open(
                &self.warc_dir(),
                warc::DEFAULT_WARC_MAX_FILE_SIZE,
            )?);
        }
        f(guard.as_mut().expect("writer opened above"))
    }

    /// The content hash of the article that `url` (a canonical URL) is a spelling of.
    pub fn stored_hash(&self, url: &str) -> Result<Option<String>> {
        let Some(key) = self.aliases.get(url.as_bytes())? else {
            return Ok(None);
        };
        match self.articles.get(&key)? {
            Some(v) => Ok(Some(
                self.codec.dec::<ArticleRecord>(&key, &v)?.content_hash,
            )),
            None => Ok(None),
        }
    }

    /// The first archived copy of a payload, by its digest.
    pub fn payload_ptr(&self, digest: &str) -> Result<Option<WarcPtr>> {
        match self.payloads.get(digest.as_bytes())? {
            Some(v) => Ok(Some(self.codec.dec(digest.as_bytes(), &v)?)),
            None => Ok(None),
        }
    }

    /// Remembers `ptr` as the first copy of its payload (database rebuilds).
    pub fn note_payload(&self, ptr: &WarcPtr) -> Result<()> {
        self.payloads
            .compare_and_swap(
                ptr.payload_digest.as_bytes(),
                None as Option<&[u8]>,
                Some(self.codec.enc(ptr)),
            )?
            .ok();
        Ok(())
    }

    /// Appends a re-extracted version (same raw page, new fields) to `url`'s history.
    pub fn append_reextracted(
        &self,
        url: &str,
        from: &VersionRecord,
        fields: Extracted,
        hash: String,
    ) -> Result<u32> {
        tx_result(
            (&self.articles, &self.touched, &self.versions, &self.content).transaction(
                |(ar, to, ve, co)| {
                    let art = (ar, to, &self.codec);
                    let Some(mut a) = get_article(art, url)? else {
                        return Err(ConflictableTransactionError::Abort(Box::new(
                            Error::ArticleNotFound(url.to_string()),
                        )));
                    };
                    let number = a.versions + 1;
                    let v = VersionRecord {
                        number,
                        fetched_at: from.fetched_at,
                        fetched_url: from.fetched_url.clone(),
                        http_status: from.http_status,
                        content_hash: hash.clone(),
                        changed: changed_fields(&from.fields, &fields),
                        fields: fields.clone(),
                        warc: from.warc.clone(),
                        reextracted: true,
                    };
                    ve.insert(version_key(url, number), self.codec.enc(&v))?;
                    a.versions = number;
                    a.content_hash = hash.clone();
                    co.insert(content_key(&a.site, &hash), url.as_bytes())?;
                    put_article(art, url, &a)?;
                    Ok(number)
                },
            ),
        )
    }

    /// Problems in the queue: each queued URL known to the frontier, whose record holds its
    /// queue key, and no frontier record pointing at a queue key that is not there.
    pub fn check_queue(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for item in self.queue.iter() {
            let (seq, url) = item?;
            let url = String::from_utf8_lossy(&url);
            match self.frontier.get(url.as_bytes())? {
                None => out.push(format!("queued {url} is unknown to the frontier")),
                Some(v) => {
                    let e = frontier_dec(&self.codec, &url, &v)?;
                    if e.queued.map(|s| s.to_be_bytes().to_vec()) != Some(seq.to_vec()) {
                        out.push(format!(
                            "queued {url}: its frontier record does not hold its queue key"
                        ));
                    }
                }
            }
        }
        for item in self.frontier.iter() {
            let (k, v) = item?;
            let url = String::from_utf8_lossy(&k);
            if let Some(seq) = frontier_dec(&self.codec, &url, &v)?.queued {
                if !self.queue.contains_key(seq.to_be_bytes())? {
                    out.push(format!("{url} is marked queued but is not in the queue"));
                }
            }
        }
        Ok(out)
    }

    /// Stores older than schema version 3 kept each queued URL's `queue` key in a
    /// `queue_index` tree: moves those keys into the frontier records and drops the tree.
    /// Idempotent, so a kill halfway through is finished when the store is next opened
    /// (the schema version is written after this).
    fn fold_queue_index(&self) -> Result<()> {
        if !self
            .db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == b"queue_index")
        {
            return Ok(());
        }
        let index = self.db.open_tree("queue_index")?;
        for item in index.iter() {
            let (url, seq) = item?;
            let (Some(v), Ok(seq)) = (self.frontier.get(&url)?, <[u8; 8]>::try_from(&seq[..]))
            else {
                continue;
            };
            let mut e = frontier_dec(&self.codec, &String::from_utf8_lossy(&url), &v)?;
            e.queued = Some(u64::from_be_bytes(seq));
            self.frontier.insert(&url, self.codec.enc(&e))?;
        }
        self.db.flush()?;
        drop(index);
        self.db.drop_tree("queue_index")?;
        Ok(())
    }

    /// Records in the WARC files that `url` was filed under article `key`.
    pub fn archive_key(&self, url: &str, key: &str) -> Result<WarcPtr> {
        // Plain JSON, never `enc`: WARC blocks are read by other tools, and by rebuilds.
        let block = serde_json::to_vec(&KeyRecord {
            url: url.to_string(),
            key: key.to_string(),
        })
        .expect("key records serialize to JSON");
        let (ptr, token) = self.with_warc(|w| {
            w.write_metadata_unsynced(url, Utc::now(), None, KEY_CONTENT_TYPE, &block)
        })?;
        token.wait()?;
        Ok(ptr)
    }

    /// Records, compactly, that an article was fetched and found unchanged (a 304, or a 200
    /// whose article text is the stored one), so the database, rebuilt from the WARC files,
    /// still knows when each article was last seen. Returns once the fact is on disk, with
    /// its time as stored.
    ///
    /// Facts arriving within [`SEEN_BATCH_WINDOW`] of each other share one `metadata` record
    /// ([`SEEN_CONTENT_TYPE`], one JSON [`SeenRecord`] per line): a record per fact cost
    /// ~420 bytes, most of it WARC headers, which was most of what a recrawl of unchanged
    /// articles added to the store. The first caller of a batch waits out the window, writes
    /// the record and fsyncs it; the others wait for it (so, as before, nothing in sled
    /// says more than the WARC files do).
    pub fn archive_seen(&self, seen: SeenRecord) -> Result<DateTime<Utc>> {
        let at = seen.at;
        let lock = || self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let mut batch = lock();
        batch.pending.push(seen);
        let mine = batch.next;
        if batch.leader {
            while !batch.finished.contains_key(&mine) {
                batch = self
                    .seen_written
                    .wait(batch)
                    .unwrap_or_else(|p| p.into_inner());
            }
        } else {
            batch.leader = true;
            drop(batch);
            std::thread::sleep(SEEN_BATCH_WINDOW);
            let facts = {
                let mut batch = lock();
                batch.leader = false;
                batch.next += 1;
                std::mem::take(&mut batch.pending)
            };
            let outcome = self.write_seen(&facts).err().map(|e| e.to_string());
            batch = lock();
            // Every caller whose fact is in the batch reads the outcome once.
            batch.finished.insert(mine, (outcome, facts.len()));
            self.seen_written.notify_all();
        }
        let Some((outcome, readers)) = batch.finished.get_mut(&mine) else {
            unreachable!("the loop above waits for this batch's outcome");
        };
        let outcome = outcome.clone();
        *readers -= 1;
        if *readers == 0 {
            batch.finished.remove(&mine);
        }
        match outcome {
            None => Ok(at),
            Some(message) => Err(Error::WriteWarc {
                path: self.warc_dir(),
                source: std::io::Error::other(message),
            }),
        }
    }

    /// Writes one batch of "seen" facts as one WARC record and waits until it is on disk.
    fn write_seen(&self, facts: &[SeenRecord]) -> Result<()> {
        let mut block = Vec::with_capacity(facts.len() * 160);
        for f in facts {
            serde_json::to_writer(&mut block, f).expect("seen records serialize to JSON");
            block.push(b'\n');
        }
        // A record about one URL names it; a batch names none (the lines do).
        let target = match facts {
            [one] => one.url.as_str(),
            _ => "",
        };
        let date = facts.iter().map(|f| f.at).min().unwrap_or_else(Utc::now);
        let (_, token) = self.with_warc(|w| {
            w.write_metadata_unsynced(target, date, None, SEEN_CONTENT_TYPE, &block)
        })?;
        token.wait()
    }

    // ---- runs ----

    /// The unfinished run, if a previous process stopped before completing it.
    pub fn current_run(&self) -> Result<Option<RunState>> {
        match self.meta.get("run")? {
            Some(v) => Ok(Some(self.codec.dec(b"run", &v)?)),
            None => Ok(None),
        }
    }

    /// Starts a new run: a new id, stored until [`Store::finish_run`].
    pub fn begin_run(&self, sites: Vec<String>) -> Result<RunState> {
        let last = self
            .meta
            .get("last_run_id")?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        let run = RunState {
            id: last + 1,
            started: Utc::now(),
            sites,
        };
        self.meta.insert("last_run_id", &run.id.to_be_bytes())?;
        self.meta.insert("run", self.codec.enc(&run))?;
        Ok(run)
    }

    /// Marks (or clears) that the current run's seeds are being queued. They are queued in
    /// several transactions; a run killed meanwhile sees the mark and queues the rest when
    /// it resumes.
    pub fn set_seeding(&self, on: bool) -> Result<()> {
        self.set_mark("seeding", on)
    }

    /// Whether the current run's seeds were still being queued when it stopped.
    pub fn seeding(&self) -> Result<bool> {
        Ok(self.meta.contains_key("seeding")?)
    }

    /// Sets (or clears) an empty `meta` record that says something is under way.
    fn set_mark(&self, key: &str, on: bool) -> Result<()> {
        if on {
            self.meta.insert(key, &[])?;
        } else {
            self.meta.remove(key)?;
        }
        Ok(())
    }

    /// Marks (or clears) that the current run has known articles left to revisit. They are
    /// not queued: the run walks the articles for due ones (see
    /// [`due_articles`](Self::due_articles)), so a run killed meanwhile has an empty queue
    /// and this mark to say it is unfinished.
    pub fn set_revisiting(&self, on: bool) -> Result<()> {
        self.set_mark("revisiting", on)
    }

    /// Whether the current run stopped before it had revisited every due article.
    pub fn revisiting(&self) -> Result<bool> {
        Ok(self.meta.contains_key("revisiting")?)
    }

    /// The origins (`scheme://authority/`) that known articles are under, in key order:
    /// one seek per origin, not a read of every article.
    pub fn article_origins(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut from: Vec<u8> = Vec::new();
        while let Some(item) = self.articles.range(from.as_slice()..).next() {
            let (key, _) = item?;
            let origin = origin_prefix(&key);
            out.push(String::from_utf8_lossy(origin).into_owned());
            from = prefix_successor(origin);
        }
        Ok(out)
    }

    /// Known articles of one origin (see [`article_origins`](Self::article_origins)) due
    /// for a revisit, for a run that walks the articles instead of queueing them: an
    /// unchanged revisit, the common case of a recrawl, then writes its 18-byte [`Touch`]
    /// and no queue entry, queue index or frontier record.
    ///
    /// Walks the origin's articles from key `from` (empty: its first), looks at no more than
    /// `max_scan`, asks `step` about each (with its last fetch applied) that run `run` has
    /// not queued or finished yet, and returns those taken with the key to go on from
    /// (`None`: the walk is through the origin).
    pub fn due_articles(
        &self,
        origin: &str,
        from: &[u8],
        max_scan: usize,
        run: u64,
        step: &mut dyn FnMut(&ArticleRecord) -> WalkStep,
    ) -> Result<(Vec<FrontierEntry>, Option<Vec<u8>>)> {
        let mut out = Vec::new();
        let start = if from.is_empty() {
            origin.as_bytes()
        } else {
            from
        };
        for (scanned, item) in self.articles.range(start..).enumerate() {
            let (key, v) = item?;
            if !key.starts_with(origin.as_bytes()) {
                break;
            }
            if scanned >= max_scan {
                return Ok((out, Some(key.to_vec())));
            }
            let a = self.touched_record(&key, &v)?;
            let this_run = match self.frontier.get(&key)? {
                Some(f) => self.codec.dec::<FrontierEntry>(&key, &f)?.run == run,
                None => false,
            };
            if this_run {
                continue;
            }
            match step(&a) {
                WalkStep::Skip => {}
                WalkStep::Stop => return Ok((out, Some(key.to_vec()))),
                WalkStep::Take => out.push(FrontierEntry {
                    url: a.url,
                    site: a.site,
                    depth: 0,
                    kind: crate::config::PageKind::Article,
                    state: FrontierState::Queued,
                    run,
                    attempts: 0,
                    last_error: None,
                    queued: None,
                }),
            }
        }
        Ok((out, None))
    }

    /// Marks the current run complete (the queue is empty).
    pub fn finish_run(&self) -> Result<()> {
        self.meta.remove("run")?;
        self.flush()
    }

    /// A new run-record id: one per crawl process, even when it resumes an unfinished pass.
    pub fn next_record_id(&self) -> Result<u64> {
        let next = self
            .meta
            .update_and_fetch("last_record_id", |old| {
                let n = old
                    .and_then(|v| <[u8; 8]>::try_from(v).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                Some((n + 1).to_be_bytes().to_vec())
            })?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(1);
        Ok(next)
    }

    /// Stores the record of run `id` (JSON written by the crawl).
    pub fn put_run_record(&self, id: u64, record: &[u8]) -> Result<()> {
        self.runs.insert(id.to_be_bytes(), record)?;
        Ok(())
    }

    /// Run records, newest first, at most `limit` (0 = all).
    pub fn run_records(&self, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.runs.iter().rev() {
            let (k, v) = item?;
            let id = <[u8; 8]>::try_from(k.as_ref())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            out.push((id, v.to_vec()));
            if limit > 0 && out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The record of run `id`.
    pub fn run_record(&self, id: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.runs.get(id.to_be_bytes())?.map(|v| v.to_vec()))
    }

    /// Per-host slowed rates saved by earlier runs (429/503 back-off survives between
    /// scheduled runs).
    pub fn host_rates(&self) -> Result<Vec<(String, f64)>> {
        let mut out = Vec::new();
        for item in self.meta.scan_prefix("host-rate:") {
            let (k, v) = item?;
            let host = String::from_utf8_lossy(&k["host-rate:".len()..]).into_owned();
            if let Ok(b) = <[u8; 8]>::try_from(v.as_ref()) {
                out.push((host, f64::from_be_bytes(b)));
            }
        }
        Ok(out)
    }

    /// Saves (Some) or clears (None) a host's slowed rate.
    pub fn set_host_rate(&self, host: &str, rate: Option<f64>) -> Result<()> {
        let key = format!("host-rate:{host}");
        match rate {
            Some(r) => self.meta.insert(key, &r.to_be_bytes())?,
            None => self.meta.remove(key)?,
        };
        Ok(())
    }

    /// Flushes sled to disk.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    // ---- frontier ----

    /// `n` fresh `queue` keys, in increasing order and above every key handed out before:
    /// sled's id (persistent and increasing across restarts) shifted left, plus the link's
    /// position. One id per page rather than per link: each id takes sled's global lock
    /// for reading, so a page's thirty links waited thirty times for other pages' commits.
    fn queue_seqs(&self, n: usize) -> Result<Vec<u64>> {
        let mut seqs = Vec::with_capacity(n);
        while seqs.len() < n {
            let id = self.db.generate_id()?;
            let take = (n - seqs.len()).min(1 << QUEUE_SEQ_BITS);
            match id
                .checked_shl(QUEUE_SEQ_BITS)
                .filter(|b| b >> QUEUE_SEQ_BITS == id)
            {
                Some(base) => seqs.extend((0..take as u64).map(|i| base | i)),
                // Past 2^48 ids (never, in practice): one id per key, as the ids come.
                None => seqs.push(id),
            }
        }
        Ok(seqs)
    }

    /// Queues `entries` that are not yet known this run (see [`EnqueuePolicy`]); returns
    /// how many were queued.
    pub fn enqueue(&self, entries: &[FrontierEntry], policy: EnqueuePolicy) -> Result<usize> {
        let seqs = self.queue_seqs(entries.len())?;
        tx_result(
            (
                &self.frontier,
                &self.queue,
                &self.aliases,
                &self.articles,
                &self.touched,
            )
                .transaction(|(f, q, al, ar, to)| {
                    let mut n = 0;
                    for (e, seq) in entries.iter().zip(&seqs) {
                        if enqueue_one(f, q, al, (ar, to, &self.codec), e, *seq, policy)? {
                            n += 1;
                        }
                    }
                    Ok(n)
                }),
        )
    }

    /// Up to `limit` queued URLs in queue order that `accept` takes, skipping the ones in
    /// `skip`.
    pub fn pending(
        &self,
        limit: usize,
        skip: &std::collections::HashSet<String>,
        accept: &mut dyn FnMut(&FrontierEntry) -> bool,
    ) -> Result<Vec<FrontierEntry>> {
        let mut out = Vec::new();
        for item in self.queue.iter() {
            let (_, url) = item?;
            let url = String::from_utf8_lossy(&url).into_owned();
            if skip.contains(&url) {
                continue;
            }
            if let Some(v) = self.frontier.get(url.as_bytes())? {
                let entry = frontier_dec(&self.codec, &url, &v)?;
                if accept(&entry) {
                    out.push(entry);
                }
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Like [`pending`](Self::pending), for a scheduler that comes back often: scans the
    /// queue from key `from` (empty: the start), looks at no more than `max_scan` URLs, and
    /// decodes only those `skip` lets through (it sees the URL alone). Returns the accepted
    /// entries and the key to go on from, `None` when the scan reached the end of the queue.
    pub fn pending_from(
        &self,
        from: &[u8],
        limit: usize,
        max_scan: usize,
        skip: &mut dyn FnMut(&str) -> bool,
        accept: &mut dyn FnMut(&FrontierEntry) -> bool,
    ) -> Result<(Vec<FrontierEntry>, Option<Vec<u8>>)> {
        let mut out = Vec::new();
        let mut scanned = 0;
        for item in self.queue.range(from..) {
            let (key, url) = item?;
            scanned += 1;
            let url = String::from_utf8_lossy(&url);
            if !skip(&url) {
                if let Some(v) = self.frontier.get(url.as_bytes())? {
                    let entry = frontier_dec(&self.codec, &url, &v)?;
                    if accept(&entry) {
                        out.push(entry);
                    }
                }
            }
            if out.len() >= limit || scanned >= max_scan {
                // The smallest key after this one.
                let mut next = key.to_vec();
                next.push(0);
                return Ok((out, Some(next)));
            }
        }
        Ok((out, None))
    }

    /// Whether `url` is in the queue.
    pub fn is_queued(&self, url: &str) -> Result<bool> {
        Ok(match self.frontier.get(url.as_bytes())? {
            Some(v) => frontier_dec(&self.codec, url, &v)?.queued.is_some(),
            None => false,
        })
    }

    /// Number of URLs still queued.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Records the outcome of fetching `entry` and queues `links`, in one transaction that
    /// also marks a changed article for the search index and its new text for the
    /// near-duplicate index (derived data, updated later in bulk: [`Store::apply_near_pending`],
    /// `query::refresh_index`).
    pub fn commit(
        &self,
        entry: &FrontierEntry,
        commit: &Commit,
        links: &[FrontierEntry],
        policy: EnqueuePolicy,
    ) -> Result<CommitResult> {
        let result = self.commit_page(entry, commit, links, policy)?;
        // Outside the transaction: training takes a fraction of a second, once per store,
        // and sled's transactions stop every other commit while they run.
        // The page is stored whatever happens here: a failure (sled's, writing the
        // dictionary) only leaves records compressed without one, so it is a warning.
        if self.codec.ready_to_train() {
            if let Err(e) = self.train_dictionary() {
                tracing::warn!("zstd dictionary not trained: {e}");
            }
        }
        Ok(result)
    }

    /// Trains the store's record dictionary on the long records written so far in this
    /// process and compresses with it from then on (see `store::codec`); `false` when
    /// nothing was done (the store has one, or zstd could not train on these samples).
    /// Commits do it on their own once enough records are in.
    pub fn train_dictionary(&self) -> Result<bool> {
        self.codec.train()
    }

    /// Gives a store without a dictionary one, trained on a sample spread over its stored
    /// records: the path for stores whose crawls each wrote too few records to train one
    /// (daily runs that add a few dozen articles) and for stores of an older luutru. New
    /// records are compressed with it; older ones when `compact-db` copies them. `false`:
    /// the store has one, or holds too few records (see [`DICT_MIN_SAMPLE_BYTES`]).
    pub fn ensure_dictionary(&self) -> Result<bool> {
        if self.has_dictionary() {
            return Ok(false);
        }
        self.train_dictionary_on_sample()
    }

    /// Whether the store compresses its records with a dictionary of its own.
    pub fn has_dictionary(&self) -> bool {
        self.codec.has_dictionary()
    }

    /// Articles changed since the search index last caught up.
    pub fn search_pending(&self) -> Result<Vec<String>> {
        self.search_pending_first(usize::MAX)
    }

    /// The first `limit` of [`Store::search_pending`]: the index update takes them a batch
    /// at a time, so its memory does not grow with the number of changed articles (100,000
    /// URLs held at once are ~12 MB).
    pub fn search_pending_first(&self, limit: usize) -> Result<Vec<String>> {
        self.search_pending
            .iter()
            .keys()
            .take(limit)
            .map(|k| Ok(String::from_utf8_lossy(&k?).into_owned()))
            .collect()
    }

    /// Marks one article as changed for the search index.
    pub fn mark_search_pending(&self, url: &str) -> Result<()> {
        self.search_pending.insert(url.as_bytes(), &[])?;
        Ok(())
    }

    /// Marks `keys` as indexed.
    pub fn clear_search_pending(&self, keys: &[String]) -> Result<()> {
        for k in keys {
            self.search_pending.remove(k.as_bytes())?;
        }
        Ok(())
    }

    /// Marks every article as indexed: after the search index was rebuilt from all of them.
    pub fn clear_all_search_pending(&self) -> Result<()> {
        self.search_pending.clear()?;
        Ok(())
    }

    /// Marks every article as needing (re)indexing: after a rebuild of the database.
    pub fn mark_all_search_pending(&self) -> Result<()> {
        for k in self.articles.iter().keys() {
            self.search_pending.insert(k?, &[])?;
        }
        Ok(())
    }

    /// Marks an article's latest body for the near-duplicate index (or for leaving it, when
    /// too short to compare); [`Store::apply_near_pending`] writes it there.
    pub fn index_near_duplicate(&self, url: &str, body: &str) -> Result<()> {
        self.near_pending
            .insert(url.as_bytes(), near_pending_value(body))?;
        Ok(())
    }

    /// Writes the marked near-duplicate changes into the index, [`NEAR_APPLY_CHUNK`] at a
    /// time, each mark removed once applied (unless marked again meanwhile); returns how
    /// many were applied. Commands that change articles call it when they finish, and
    /// lookups before they read, so a crawl that was killed leaves nothing behind.
    pub fn apply_near_pending(&self) -> Result<usize> {
        let mut applied = 0;
        loop {
            let mut marks = Vec::new();
            for item in self.near_pending.iter().take(NEAR_APPLY_CHUNK) {
                marks.push(item?);
            }
            if marks.is_empty() {
                return Ok(applied);
            }
            let mut changes = Vec::with_capacity(marks.len());
            for (k, v) in &marks {
                let url = String::from_utf8_lossy(k).into_owned();
                let sig = if v.is_empty() {
                    None
                } else {
                    Some(crate::neardup::Signature::from_bytes(v).ok_or_else(|| {
                        Error::CorruptRecord {
                            key: format!("neardup_pending {url}"),
                            message: format!("signature of {} bytes", v.len()),
                        }
                    })?)
                };
                changes.push((url, sig));
            }
            self.near.apply(changes)?;
            applied += marks.len();
            for (k, v) in marks {
                // A mark written since it was read stays for the next round.
                let _ = self
                    .near_pending
                    .compare_and_swap(&k, Some(v), None::<&[u8]>)?;
            }
        }
    }

    fn commit_page(
        &self,
        entry: &FrontierEntry,
        commit: &Commit,
        links: &[FrontierEntry],
        policy: EnqueuePolicy,
    ) -> Result<CommitResult> {
        // Links the run already queued or fetched are dropped before the transaction, which
        // would drop them too (`enqueue_one`): a page links to dozens of pages the run
        // knows, and each look inside the transaction holds sled's global lock. Safe outside
        // it: a URL known in this run stays known.
        let mut fresh = Vec::with_capacity(links.len());
        for e in links {
            if !self.known_this_run(e, policy)? {
                fresh.push(e);
            }
        }
        let seqs = self.queue_seqs(fresh.len())?;
        // The record of a new article's first version (JSON, zstd) and its near-duplicate
        // signature, computed before the transaction: sled's transactions hold a
        // process-wide lock that every read of every other thread waits for, so they
        // should do no more than read and write.
        let (first_version, near) = match commit {
            Commit::Article(fa) => (
                Some(self.codec.enc(&first_version(fa))),
                Some(near_pending_value(&fa.fields.body)),
            ),
            _ => (None, None),
        };
        let trees = (
            &self.frontier,
            &self.queue,
            &self.aliases,
            &self.articles,
            &self.touched,
            &self.versions,
            &self.content,
            &self.search_pending,
            &self.near_pending,
        );
        tx_result(trees.transaction(|(f, q, al, ar, to, ve, co, sp, np)| {
            let art = (ar, to, &self.codec);
            for (e, seq) in fresh.iter().zip(&seqs) {
                enqueue_one(f, q, al, art, e, *seq, policy)?;
            }
            let key = entry.url.as_bytes();
            let queued = match f.get(key)? {
                Some(v) => tx_dec::<FrontierEntry>(&self.codec, key, &v)?.queued,
                None => None,
            };
            let mut done = entry.clone();
            done.queued = None;
            done.run = policy.run;
            done.state = match commit {
                Commit::Failed { .. } => FrontierState::Failed,
                _ => FrontierState::Done,
            };
            done.last_error = match commit {
                Commit::Failed { reason } => Some(reason.clone()),
                _ => None,
            };
            // A revisit of the walk that finds the article unchanged writes no frontier
            // record: the article's last fetch says it is done this run.
            let walked_unchanged = queued.is_none() && matches!(commit, Commit::NotModified { .. });
            if !walked_unchanged {
                f.insert(key, self.codec.enc(&done))?;
            }
            if let Some(seq) = queued {
                q.remove(&seq.to_be_bytes())?;
            }

            let result = match commit {
                Commit::Listing => CommitResult::Done,
                Commit::Failed { .. } => CommitResult::Failed,
                Commit::NotModified {
                    at,
                    status,
                    validators,
                } => match article_key(al, &entry.url)? {
                    Some(url) => {
                        if let Some(mut a) = get_article(art, &url)? {
                            let before = a.clone();
                            a.last_seen = a.last_seen.max(*at);
                            a.fetches += 1;
                            a.last_status = *status;
                            a.status = ArticleStatus::Live;
                            a.gone_since = None;
                            if let (Some((etag, last_modified)), true) =
                                (validators, url == entry.url)
                            {
                                a.etag = etag.clone();
                                a.last_modified = last_modified.clone();
                            }
                            touch_article(art, &url, &before, &a)?;
                        }
                        CommitResult::Unchanged { url }
                    }
                    None => CommitResult::Done,
                },
                Commit::Gone { at, status } => match article_key(al, &entry.url)? {
                    Some(url) => {
                        if let Some(mut a) = get_article(art, &url)? {
                            let before = a.clone();
                            if a.status != ArticleStatus::Gone {
                                a.status = ArticleStatus::Gone;
                                a.gone_since = Some(*at);
                            }
                            a.fetches += 1;
                            a.last_status = *status;
                            touch_article(art, &url, &before, &a)?;
                        }
                        CommitResult::Gone { url }
                    }
                    None => CommitResult::Done,
                },
                Commit::Article(fa) => {
                    commit_article(al, art, ve, co, fa, first_version.as_deref().unwrap_or(&[]))?
                }
            };
            if let CommitResult::NewArticle { url }
            | CommitResult::NewVersion { url, .. }
            | CommitResult::Gone { url } = &result
            {
                sp.insert(url.as_bytes(), &[])?;
            }
            if let (
                CommitResult::NewArticle { url } | CommitResult::NewVersion { url, .. },
                Some(near),
            ) = (&result, &near)
            {
                np.insert(url.as_bytes(), near.as_slice())?;
            }
            Ok(result)
        }))
    }

    /// Whether `enqueue_one` would pass over `e` as already seen in this run (see there).
    fn known_this_run(&self, e: &FrontierEntry, policy: EnqueuePolicy) -> Result<bool> {
        let key = e.url.as_bytes();
        if policy.revisit_walk
            && e.kind == crate::config::PageKind::Article
            && self.aliases.contains_key(key)?
        {
            return Ok(true);
        }
        Ok(match self.frontier.get(key)? {
            Some(v) => frontier_dec(&self.codec, &e.url, &v)?.run == policy.run,
            None => false,
        })
    }

    /// Decodes an article record and applies its overlay.
    fn touched_record(&self, key: &[u8], v: &[u8]) -> Result<ArticleRecord> {
        let mut a: ArticleRecord = self.codec.dec(key, v)?;
        if let Some(t) = self.touched.get(key)? {
            Touch::decode(&String::from_utf8_lossy(key), &t)?.apply(&mut a);
        }
        Ok(a)
    }

    /// Overlay entries whose article record is missing (for `verify`).
    pub fn check_touched(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for item in self.touched.iter() {
            let (k, v) = item?;
            let url = String::from_utf8_lossy(&k);
            if !self.articles.contains_key(&k)? {
                out.push(format!("last-fetch entry of {url} has no article record"));
            } else if let Err(e) = Touch::decode(&url, &v) {
                out.push(e.to_string());
            }
        }
        Ok(out)
    }

    /// Every version of every article (for re-extraction and rebuilding).
    pub fn all_versions(&self) -> impl Iterator<Item = Result<VersionRecord>> + '_ {
        self.versions.iter().map(|r| {
            let (k, v) = r?;
            self.codec.dec(&k, &v)
        })
    }
}

/// The `articles` tree, its `touched` overlay and the store's codec, inside a transaction.
type ArticleTrees<'a> = (&'a TransactionalTree, &'a TransactionalTree, &'a Codec);

/// An article record with what later unchanged fetches changed in it.
fn get_article(
    (ar, to, codec): ArticleTrees<'_>,
    url: &str,
) -> std::result::Result<Option<ArticleRecord>, TxError> {
    let Some(v) = ar.get(url.as_bytes())? else {
        return Ok(None);
    };
    let mut a: ArticleRecord = tx_dec(codec, url.as_bytes(), &v)?;
    if let Some(t) = to.get(url.as_bytes())? {
        Touch::decode(url, &t)
            .map_err(|e| ConflictableTransactionError::Abort(Box::new(e)))?
            .apply(&mut a);
    }
    Ok(Some(a))
}

/// Writes a whole article record; it now holds what the overlay held.
fn put_article(
    (ar, to, codec): ArticleTrees<'_>,
    url: &str,
    a: &ArticleRecord,
) -> std::result::Result<(), TxError> {
    ar.insert(url.as_bytes(), codec.enc(a))?;
    to.remove(url.as_bytes())?;
    Ok(())
}

/// Writes `after`, an update of `before`: as a few bytes in the overlay when only what an
/// unchanged fetch changes differs, else as a whole record.
fn touch_article(
    (ar, to, codec): ArticleTrees<'_>,
    url: &str,
    before: &ArticleRecord,
    after: &ArticleRecord,
) -> std::result::Result<(), TxError> {
    let mut rest = after.clone();
    rest.last_seen = before.last_seen;
    rest.fetches = before.fetches;
    rest.last_status = before.last_status;
    match Touch::of(after) {
        Some(t) if rest == *before => {
            to.insert(url.as_bytes(), &t.encode())?;
            Ok(())
        }
        _ => put_article((ar, to, codec), url, after),
    }
}

fn article_key(al: &TransactionalTree, url: &str) -> std::result::Result<Option<String>, TxError> {
    Ok(al
        .get(url.as_bytes())?
        .map(|v| String::from_utf8_lossy(&v).into_owned()))
}

fn enqueue_one(
    f: &TransactionalTree,
    q: &TransactionalTree,
    al: &TransactionalTree,
    ar: ArticleTrees<'_>,
    e: &FrontierEntry,
    seq: u64,
    policy: EnqueuePolicy,
) -> std::result::Result<bool, TxError> {
    let key = e.url.as_bytes();
    let is_article = e.kind == crate::config::PageKind::Article;
    // Known article, in a run that walks its due articles: the walk fetches it (under its
    // own URL) if it is due. One lookup: every article page links to a dozen others.
    if policy.revisit_walk && is_article && al.get(key)?.is_some() {
        return Ok(false);
    }
    let old = match f.get(key)? {
        Some(v) => Some(tx_dec::<FrontierEntry>(ar.2, key, &v)?),
        None => None,
    };
    if old.as_ref().is_some_and(|o| o.run == policy.run) {
        return Ok(false);
    }
    if is_article && !policy.revisit_walk {
        if let Some(url) = article_key(al, &e.url)? {
            if let Some(a) = get_article(ar, &url)? {
                if a.last_seen > policy.fresh_after && a.status == ArticleStatus::Live {
                    // Known and fresh: nothing to fetch (and nothing to write: the next
                    // link to it asks the article again).
                    return Ok(false);
                }
            }
        }
    }
    // Still queued from a run that ended early: one queue entry per URL.
    if let Some(earlier) = old.and_then(|o| o.queued) {
        q.remove(&earlier.to_be_bytes())?;
    }
    let mut queued = e.clone();
    queued.run = policy.run;
    queued.state = FrontierState::Queued;
    queued.queued = Some(seq);
    f.insert(key, ar.2.enc(&queued))?;
    q.insert(&seq.to_be_bytes(), key)?;
    Ok(true)
}

/// The version record of `fa` when it is the first of a new article.
fn first_version(fa: &FetchedArticle) -> VersionRecord {
    version_of(fa, 1, Vec::new())
}

/// Version `number` of an article, captured in `fa`; `changed` lists the fields that
/// differ from the version before.
fn version_of(fa: &FetchedArticle, number: u32, changed: Vec<String>) -> VersionRecord {
    VersionRecord {
        number,
        fetched_at: fa.fetched_at,
        fetched_url: fa.fetched_url.clone(),
        http_status: fa.http_status,
        content_hash: fa.content_hash.clone(),
        fields: fa.fields.clone(),
        warc: fa.warc.clone(),
        changed,
        reextracted: false,
    }
}

/// `first_version` is `first_version(fa)` encoded, written if `fa` is a new article.
fn commit_article(
    al: &TransactionalTree,
    ar: ArticleTrees<'_>,
    ve: &TransactionalTree,
    co: &TransactionalTree,
    fa: &FetchedArticle,
    first_version: &[u8],
) -> std::result::Result<CommitResult, TxError> {
    // Which article is this? A known spelling first, then the page's declared canonical,
    // then the same content under another URL of the same site, else a new article.
    let has_content = fa.fields.title.is_some() && !fa.fields.body.is_empty();
    let mut key = article_key(al, &fa.fetched_url)?;
    if key.is_none() {
        if let Some(h) = &fa.key_hint {
            key = Some(article_key(al, h)?.unwrap_or_else(|| h.clone()));
        }
    }
    for hop in &fa.redirected_from {
        if key.is_none() {
            key = article_key(al, hop)?;
        }
    }
    if key.is_none() {
        if let Some(c) = &fa.declared_canonical {
            key = Some(article_key(al, c)?.unwrap_or_else(|| c.clone()));
        }
    }
    if key.is_none() && has_content {
        key = co
            .get(content_key(&fa.site, &fa.content_hash))?
            .map(|v| String::from_utf8_lossy(&v).into_owned());
    }
    let key = key.unwrap_or_else(|| fa.fetched_url.clone());
    // Revisits fetch the article's own URL, so only its validators are worth keeping; an
    // alias's ETag would never match and make every conditional revisit a full download.
    let (etag, last_modified) = if fa.fetched_url == key {
        (fa.etag.clone(), fa.last_modified.clone())
    } else {
        (None, None)
    };

    let existing = get_article(ar, &key)?;
    let mut spellings = vec![fa.fetched_url.clone()];
    spellings.extend(fa.redirected_from.iter().cloned());
    if let Some(c) = &fa.declared_canonical {
        spellings.push(c.clone());
    }
    let result;
    let article = match existing {
        None => {
            ve.insert(version_key(&key, 1), first_version)?;
            result = CommitResult::NewArticle { url: key.clone() };
            ArticleRecord {
                url: key.clone(),
                site: fa.site.clone(),
                aliases: Vec::new(),
                first_seen: fa.fetched_at,
                last_seen: fa.fetched_at,
                status: ArticleStatus::Live,
                gone_since: None,
                versions: 1,
                content_hash: fa.content_hash.clone(),
                fetches: 1,
                last_status: fa.http_status,
                etag,
                last_modified,
            }
        }
        Some(mut a) => {
            if a.content_hash != fa.content_hash {
                let prev: Option<VersionRecord> = match ve.get(version_key(&key, a.versions))? {
                    Some(v) => Some(tx_dec(ar.2, &version_key(&key, a.versions), &v)?),
                    None => None,
                };
                let number = a.versions + 1;
                let changed = prev
                    .map(|p| changed_fields(&p.fields, &fa.fields))
                    .unwrap_or_default();
                let v = version_of(fa, number, changed);
                ve.insert(version_key(&key, number), ar.2.enc(&v))?;
                a.versions = number;
                a.content_hash = fa.content_hash.clone();
                result = CommitResult::NewVersion {
                    url: key.clone(),
                    number,
                };
            } else {
                result = CommitResult::Unchanged { url: key.clone() };
                // The same text captured earlier (concurrent fetches of two spellings
                // finish out of order): the version's capture is the earliest, so that a
                // rebuild, which replays in WARC order, arrives at the same record.
                let vk = version_key(&key, a.versions);
                if let Some(raw) = ve.get(&vk)? {
                    let mut latest: VersionRecord = tx_dec(ar.2, &vk, &raw)?;
                    if fa.fetched_at < latest.fetched_at && latest.content_hash == fa.content_hash {
                        latest.fetched_at = fa.fetched_at;
                        latest.fetched_url = fa.fetched_url.clone();
                        latest.http_status = fa.http_status;
                        latest.warc = fa.warc.clone();
                        // The same key form can be spelled differently (old tone marks, NFD):
                        // fields and pointer must describe the same capture.
                        latest.fields = fa.fields.clone();
                        ve.insert(vk, ar.2.enc(&latest))?;
                    }
                }
            }
            a.status = ArticleStatus::Live;
            a.gone_since = None;
            a.first_seen = a.first_seen.min(fa.fetched_at);
            a.last_seen = a.last_seen.max(fa.fetched_at);
            a.fetches += 1;
            a.last_status = fa.http_status;
            if fa.fetched_url == key {
                a.etag = etag;
                a.last_modified = last_modified;
            }
            a
        }
    };
    let mut article = article;
    for s in spellings {
        if s != key && !article.aliases.contains(&s) {
            article.aliases.push(s.clone());
        }
        al.insert(s.as_bytes(), key.as_bytes())?;
    }
    // Sorted, so the record does not depend on the order concurrent fetches finished in.
    article.aliases.sort();
    al.insert(key.as_bytes(), key.as_bytes())?;
    if has_content {
        co.insert(content_key(&fa.site, &fa.content_hash), key.as_bytes())?;
    }
    put_article(ar, &key, &article)?;
    Ok(result)
}

impl ArticleStore for Store {
    fn resolve(&self, url: &str) -> Result<Option<String>> {
        let mut candidates = vec![url.to_string()];
        if let Ok(c) = crate::canon::parse_canonical(url) {
            candidates.push(c.to_string());
        }
        for c in candidates {
            if let Some(v) = self.aliases.get(c.as_bytes())? {
                return Ok(Some(String::from_utf8_lossy(&v).into_owned()));
            }
            if self.articles.contains_key(c.as_bytes())? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    fn article(&self, url: &str) -> Result<Option<ArticleRecord>> {
        match self.articles.get(url.as_bytes())? {
            Some(v) => Ok(Some(self.touched_record(url.as_bytes(), &v)?)),
            None => Ok(None),
        }
    }

    fn version(&self, url: &str, number: u32) -> Result<Option<VersionRecord>> {
        let key = version_key(url, number);
        match self.versions.get(&key)? {
            Some(v) => Ok(Some(self.codec.dec(&key, &v)?)),
            None => Ok(None),
        }
    }

    fn versions(&self, url: &str) -> Result<Vec<VersionRecord>> {
        self.versions
            .scan_prefix(version_prefix(url))
            .map(|r| {
                let (k, v) = r?;
                self.codec.dec(&k, &v)
            })
            .collect()
    }

    fn near_duplicates(&self, url: &str) -> Result<Vec<crate::neardup::NearMatch>> {
        if !self.near_pending.is_empty() {
            self.apply_near_pending()?;
        }
        self.near.lookup_url(url)
    }

    fn articles(&self) -> Box<dyn Iterator<Item = Result<ArticleRecord>> + '_> {
        Box::new(self.articles.iter().map(|r| {
            let (k, v) = r?;
            self.touched_record(&k, &v)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SubsecRound;

    #[test]
    fn seen_facts_arriving_together_share_one_record_and_are_all_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(Store::open(dir.path(), "test").unwrap());
        let at = Utc::now().trunc_subsecs(6);
        let threads: Vec<_> = (0..24)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store.archive_seen(SeenRecord {
                        url: format!("http://tinhuy.test/tin-tuc/bai-{i}.html"),
                        at,
                        status: 200,
                        etag: None,
                        last_modified: None,
                    })
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap(), at);
        }
        // Each call returned after its fact was written: all 24 are in the files now.
        let mut records = 0;
        let mut urls = Vec::new();
        for rec in warc::scan_dir(&store.warc_dir()).unwrap() {
            let rec = rec.unwrap();
            if rec.header("Content-Type") != Some(SEEN_CONTENT_TYPE) {
                continue;
            }
            records += 1;
            let lines: Vec<SeenRecord> = rec
                .block
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| serde_json::from_slice(l).unwrap())
                .collect();
            match lines.as_slice() {
                [one] => assert_eq!(rec.header("WARC-Target-URI"), Some(one.url.as_str())),
                _ => assert_eq!(rec.header("WARC-Target-URI"), None, "a batch names no URL"),
            }
            for seen in lines {
                assert_eq!(seen.at, at);
                urls.push(seen.url);
            }
        }
        urls.sort();
        urls.dedup();
        assert_eq!(urls.len(), 24);
        assert!(
            records < 24,
            "{records} records for 24 facts arriving together"
        );
    }

    fn entry(url: &str) -> FrontierEntry {
        FrontierEntry {
            url: url.into(),
            site: "haiduong".into(),
            depth: 1,
            kind: crate::config::PageKind::Article,
            state: FrontierState::Queued,
            run: 1,
            attempts: 0,
            last_error: None,
            queued: None,
        }
    }

    fn policy(fresh_after: DateTime<Utc>) -> EnqueuePolicy {
        EnqueuePolicy {
            run: 1,
            fresh_after,
            revisit_walk: false,
        }
    }

    /// Commits a first capture of `url` at `at` (the WARC pointer is not read).
    fn new_article(store: &Store, url: &str, at: DateTime<Utc>) {
        let body = format!("Sáng 20/11, Tỉnh ủy Hải Dương tổ chức hội nghị ({url}).");
        capture(store, url, &body, at);
    }

    /// Commits a capture of `url` with `body` at `at`.
    fn capture(store: &Store, url: &str, body: &str, at: DateTime<Utc>) -> CommitResult {
        let fields = Extracted {
            title: Some("Hội nghị Ban Chấp hành Đảng bộ tỉnh".into()),
            body: body.into(),
            ..Extracted::default()
        };
        let fa = FetchedArticle {
            site: "haiduong".into(),
            fetched_url: url.into(),
            declared_canonical: None,
            redirected_from: Vec::new(),
            key_hint: None,
            content_hash: crate::dedup::content_hash(&fields),
            fields,
            http_status: 200,
            fetched_at: at,
            warc: WarcPtr {
                file: "luutru-test.warc.gz".into(),
                offset: 0,
                length: 1,
                record_id: "<urn:uuid:0>".into(),
                payload_digest: "sha1:TEST".into(),
                target_uri: url.into(),
                date: at,
                original: None,
            },
            etag: Some("\"v1\"".into()),
            last_modified: None,
        };
        store
            .commit(&entry(url), &Commit::Article(Box::new(fa)), &[], policy(at))
            .unwrap()
    }

    const LONG_BODY: &str = "Chiều 12/6/2024, Ban Chấp hành Đảng bộ tỉnh Hải Dương tổ chức Hội \
        nghị lần thứ 25 để đánh giá tình hình thực hiện nhiệm vụ chính trị 6 tháng đầu năm và \
        bàn giải pháp thực hiện nhiệm vụ 6 tháng cuối năm 2024. Đồng chí Trần Đức Thắng, Ủy \
        viên Trung ương Đảng, Bí thư Tỉnh ủy, Trưởng đoàn đại biểu Quốc hội tỉnh chủ trì hội \
        nghị. Tham dự có các đồng chí trong Ban Thường vụ Tỉnh ủy, Ban Chấp hành Đảng bộ tỉnh.";

    #[test]
    fn commits_mark_texts_for_the_near_duplicate_index_and_lookups_apply_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let a = "http://tinhuy.test/tin-tuc/hoi-nghi-25.html";
        let b = "http://baotinh.test/chinh-tri/hoi-nghi-25-123.html";
        capture(&store, a, LONG_BODY, t(0));
        let republished = format!("{} Theo Tỉnh ủy Hải Dương.", LONG_BODY.replace("25", "XXV"));
        capture(&store, b, &republished, t(1));
        // Marked in the page's transaction, with the search marks; not applied yet.
        assert_eq!(store.near_pending.len(), 2);
        assert_eq!(store.search_pending().unwrap(), [b, a]);
        assert!(store.near.get(a).unwrap().is_none());
        // A lookup applies the marks first.
        let found = store.near_duplicates(a).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].url, b);
        assert!(store.near_pending.is_empty());
        assert!(store.near.get(b).unwrap().is_some());

        // A new version too short to compare takes the article out of the index.
        let result = capture(&store, b, "Ảnh: Hội nghị lần thứ 25.", t(2));
        assert!(matches!(result, CommitResult::NewVersion { number: 2, .. }));
        assert_eq!(store.near_pending.get(b).unwrap().unwrap().len(), 0);
        assert_eq!(store.apply_near_pending().unwrap(), 1);
        assert!(store.near_duplicates(a).unwrap().is_empty());
        assert!(store.near.get(b).unwrap().is_none());
        assert_eq!(store.apply_near_pending().unwrap(), 0);
    }

    #[test]
    fn the_search_index_catches_up_a_batch_at_a_time_and_clears_every_mark() {
        use crate::search::{SearchIndex, COMMIT_EVERY_DOCS};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let url = |i: usize| format!("http://tinhuy.test/tin-tuc/hoi-nghi-{i}.html");
        capture(&store, &url(0), LONG_BODY, t(0));
        // A new index is built from every article, and every mark goes.
        let mut index = SearchIndex::open(store.dir()).unwrap();
        assert_eq!(crate::query::refresh_index(&store, &mut index).unwrap(), 1);
        assert!(store.search_pending().unwrap().is_empty());
        drop(index);

        // More changed articles than one batch, and a mark whose article is not there:
        // everything is indexed, every mark (the stray one too) cleared.
        let n = 2 * COMMIT_EVERY_DOCS + 7;
        for i in 1..=n {
            capture(
                &store,
                &url(i),
                &format!("{LONG_BODY} Bài số {i}."),
                t(i as i64),
            );
        }
        store
            .mark_search_pending("http://tinhuy.test/khong-con.html")
            .unwrap();
        assert_eq!(store.search_pending().unwrap().len(), n + 1);
        let mut index = SearchIndex::open(store.dir()).unwrap();
        assert!(!index.created());
        assert_eq!(
            crate::query::refresh_index(&store, &mut index).unwrap(),
            n as u64
        );
        assert!(store.search_pending().unwrap().is_empty());
        assert_eq!(index.num_docs(), n as u64 + 1);
        assert_eq!(crate::query::refresh_index(&store, &mut index).unwrap(), 0);
    }

    #[test]
    fn a_pool_reuses_what_it_made_and_makes_only_when_none_is_idle() {
        let pool: Pool<Vec<u8>> = Pool::new();
        let made = std::cell::Cell::new(0);
        let make = || {
            made.set(made.get() + 1);
            Some(Vec::new())
        };
        for i in 0..3u8 {
            let len = pool.with(make, |v| {
                v.push(i);
                v.len()
            });
            assert_eq!(len, Some(usize::from(i) + 1));
        }
        assert_eq!(made.get(), 1);
        // Nothing idle and nothing made: no object, `f` not run.
        let empty: Pool<Vec<u8>> = Pool::new();
        assert_eq!(empty.with(|| None, |_| unreachable!()), None::<()>);
    }

    #[test]
    fn reopening_with_another_cache_keeps_the_records_and_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with_cache(dir.path(), "crawl", CRAWL_CACHE_BYTES).unwrap();
        let url = "http://tinhuy.test/tin-tuc/hoi-nghi-tinh-uy-123.html";
        new_article(&store, url, t(0));
        let store = store.with_cache(DEFAULT_CACHE_BYTES).unwrap();
        assert_eq!(store.article(url).unwrap().unwrap().versions, 1);
        assert_eq!(store.search_pending().unwrap(), [url]);
        // The lock was held all along: another process (here, handle) is refused.
        let err = Store::open(dir.path(), "query")
            .err()
            .expect("store is locked");
        assert!(err.to_string().contains("crawl"), "{err}");
    }

    #[test]
    fn links_queue_once_in_the_order_found() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let policy = policy(t(0));
        let listing = |url: &str| FrontierEntry {
            kind: crate::config::PageKind::Listing,
            ..entry(url)
        };
        let u = |i: u32| format!("http://tinhuy.test/tin-tuc/bai-{i}.html");
        store
            .enqueue(&[listing("http://tinhuy.test/")], policy)
            .unwrap();
        let first: Vec<FrontierEntry> = [3, 1, 2].map(|i| entry(&u(i))).into();
        store
            .commit(
                &listing("http://tinhuy.test/"),
                &Commit::Listing,
                &first,
                policy,
            )
            .unwrap();
        // A second page links to two of the same and one more: only that one is queued.
        let second: Vec<FrontierEntry> = [2, 4, 3].map(|i| entry(&u(i))).into();
        store
            .commit(&entry(&u(3)), &Commit::Listing, &second, policy)
            .unwrap();
        let queued: Vec<String> = store
            .queue
            .iter()
            .values()
            .map(|v| String::from_utf8(v.unwrap().to_vec()).unwrap())
            .collect();
        assert_eq!(queued, [u(1), u(2), u(4)]);
        assert_eq!(store.queued(), 3);
        // Every queue entry's frontier record holds its key; the fetched page's does not.
        for (k, v) in store.queue.iter().map(Result::unwrap) {
            let url = String::from_utf8(v.to_vec()).unwrap();
            assert!(store.is_queued(&url).unwrap());
            let e = frontier_dec(
                &store.codec,
                &url,
                &store.frontier.get(&v).unwrap().unwrap(),
            );
            assert_eq!(e.unwrap().queued.unwrap().to_be_bytes(), &k[..]);
        }
        assert!(!store.is_queued(&u(3)).unwrap());
        assert!(store.check_queue().unwrap().is_empty());
        let keys = store.queue_seqs(3).unwrap();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        let last = store.queue.iter().keys().last().unwrap().unwrap();
        assert!(keys[0] > u64::from_be_bytes(last.as_ref().try_into().unwrap()));
    }

    #[test]
    fn opening_the_database_waits_for_a_handle_being_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let held = sled::Config::new().path(&path).open().unwrap();
        let err = sled::Config::new().path(&path).open().unwrap_err();
        assert!(err.to_string().contains("could not acquire lock"), "{err}");
        let dropper = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
        });
        let db = open_sled(sled::Config::new().path(&path)).unwrap();
        dropper.join().unwrap();
        drop(db);
    }

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
            .unwrap()
            .to_utc()
            + chrono::Duration::minutes(min)
    }

    #[test]
    fn an_unchanged_fetch_writes_a_small_overlay_and_a_whole_write_folds_it_in() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let url = "http://tinhuy.test/tin-tuc/hoi-nghi-tinh-uy-123.html";
        let entry = entry(url);
        let policy = policy(t(0));
        new_article(&store, url, t(0));
        let record = store.articles.get(url).unwrap().unwrap();
        let seen = |at: DateTime<Utc>, status: u16| Commit::NotModified {
            at,
            status,
            validators: Some((Some("\"v1\"".into()), None)),
        };

        // Unchanged: the record stays as written, the overlay says what changed.
        store
            .commit(&entry, &seen(t(10), 304), &[], policy)
            .unwrap();
        store
            .commit(&entry, &seen(t(20), 200), &[], policy)
            .unwrap();
        assert_eq!(store.articles.get(url).unwrap().unwrap(), record);
        assert_eq!(store.touched.get(url).unwrap().unwrap().len(), 18);
        let a = store.article(url).unwrap().unwrap();
        assert_eq!((a.last_seen, a.fetches, a.last_status), (t(20), 3, 200));
        assert_eq!(store.articles().next().unwrap().unwrap(), a);

        // Gone: a whole record, with the overlay folded in and removed.
        let gone = Commit::Gone {
            at: t(30),
            status: 404,
        };
        store.commit(&entry, &gone, &[], policy).unwrap();
        assert!(store.touched.get(url).unwrap().is_none());
        let a = store.article(url).unwrap().unwrap();
        assert_eq!(a.status, ArticleStatus::Gone);
        assert_eq!((a.last_seen, a.fetches, a.last_status), (t(20), 4, 404));

        // Back (live again: a whole record), then unchanged again (the overlay).
        store
            .commit(&entry, &seen(t(40), 200), &[], policy)
            .unwrap();
        assert!(store.touched.get(url).unwrap().is_none());
        assert_eq!(
            store.article(url).unwrap().unwrap().status,
            ArticleStatus::Live
        );
        // A new ETag is part of the record, not of the overlay.
        let new_etag = Commit::NotModified {
            at: t(50),
            status: 200,
            validators: Some((Some("\"v2\"".into()), None)),
        };
        store.commit(&entry, &new_etag, &[], policy).unwrap();
        assert!(store.touched.get(url).unwrap().is_none());
        store
            .commit(&entry, &seen(t(60), 304), &[], policy)
            .unwrap();
        let a = store.article(url).unwrap().unwrap();
        assert_eq!(
            (a.last_seen, a.fetches, a.etag.as_deref()),
            (t(60), 7, Some("\"v1\""))
        );
        assert_eq!(store.check_touched().unwrap(), Vec::<String>::new());

        store
            .touched
            .insert("http://tinhuy.test/khong-co.html", &[0u8; 18])
            .unwrap();
        store.touched.insert(url, &[1u8; 5]).unwrap();
        let problems = store.check_touched().unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("khong-co.html"), "{problems:?}");
        assert!(problems[1].contains("5 bytes"), "{problems:?}");
        assert!(
            store.article(url).is_err(),
            "a damaged overlay is an error, not a guess"
        );
    }

    #[test]
    fn origins_of_keys_and_the_keys_after_a_prefix() {
        assert_eq!(
            origin_prefix(b"https://baohaiduong.vn/chinh-tri/a-1.html"),
            b"https://baohaiduong.vn/"
        );
        assert_eq!(
            origin_prefix(b"http://127.0.0.2:8080/"),
            b"http://127.0.0.2:8080/"
        );
        assert_eq!(origin_prefix(b"khong-phai-url"), b"khong-phai-url");
        assert_eq!(prefix_successor(b"http://a.vn/"), b"http://a.vn0");
        assert_eq!(prefix_successor(&[b'a', 0xFF]), b"b");
        assert_eq!(prefix_successor(&[0xFF]), vec![0xFF, 0xFF]);
    }

    #[test]
    fn walks_find_each_origin_and_its_due_articles_and_stop_where_asked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let a = |i: u32| format!("http://127.0.0.2:8080/tin-tuc/bai-{i:02}.html");
        let b = |i: u32| format!("https://tinhuy.test/tin-tuc/bai-{i:02}.html");
        for i in 0..10 {
            // Every other article of origin A is fresh (fetched after t(100)).
            new_article(&store, &a(i), if i % 2 == 0 { t(0) } else { t(200) });
            new_article(&store, &b(i), t(0));
        }
        assert_eq!(
            store.article_origins().unwrap(),
            vec!["http://127.0.0.2:8080/", "https://tinhuy.test/"]
        );
        let due = |a: &ArticleRecord| a.last_seen <= t(100);
        let urls = |v: &[FrontierEntry]| v.iter().map(|e| e.url.clone()).collect::<Vec<_>>();

        // Origin A: the five due ones, and nothing of origin B.
        let (got, next) = store
            .due_articles("http://127.0.0.2:8080/", &[], 100, 2, &mut |r| {
                if due(r) {
                    WalkStep::Take
                } else {
                    WalkStep::Skip
                }
            })
            .unwrap();
        assert_eq!(urls(&got), (0..10).step_by(2).map(a).collect::<Vec<_>>());
        assert_eq!(next, None);

        // Origin B, three at a time: Stop keeps the article for the next look.
        let mut from = Vec::new();
        let mut all = Vec::new();
        for _ in 0..10 {
            let mut taken = 0;
            let (got, next) = store
                .due_articles("https://tinhuy.test/", &from, 100, 2, &mut |_| {
                    taken += 1;
                    if taken > 3 {
                        WalkStep::Stop
                    } else {
                        WalkStep::Take
                    }
                })
                .unwrap();
            all.extend(urls(&got));
            match next {
                Some(n) => from = n,
                None => break,
            }
        }
        assert_eq!(all, (0..10).map(b).collect::<Vec<_>>());

        // An article this run already queued or finished is not offered again.
        let run2 = EnqueuePolicy {
            run: 2,
            ..policy(t(0))
        };
        store
            .commit(&entry(&b(0)), &Commit::Listing, &[], run2)
            .unwrap();
        let (got, _) = store
            .due_articles("https://tinhuy.test/", &[], 3, 2, &mut |_| WalkStep::Take)
            .unwrap();
        assert_eq!(urls(&got), vec![b(1), b(2)], "looks at no more than 3");
    }

    #[test]
    fn a_store_trains_its_dictionary_on_its_first_records_and_reads_every_record_after() {
        let dir = tempfile::tempdir().unwrap();
        let url = |i: usize| format!("http://tinhuy.test/tin-tuc/bai-{i}.html");
        let body = |i: usize| {
            format!(
                "{} Đoàn công tác số {i} làm việc tại xã {} ngày {}/{}.",
                LONG_BODY,
                ["An Lạc", "Hưng Đạo", "Lê Lợi", "Cộng Hòa"][i % 4],
                1 + i % 28,
                1 + i % 12
            )
        };
        let mut n = 0;
        {
            let store = Store::open(dir.path(), "test").unwrap();
            while !store.has_dictionary() {
                capture(&store, &url(n), &body(n), t(n as i64));
                n += 1;
                assert!(n <= DICT_SAMPLE_RECORDS, "no dictionary after {n} articles");
            }
            for _ in 0..10 {
                capture(&store, &url(n), &body(n), t(n as i64));
                n += 1;
            }
            // Written after the dictionary: compressed with it, though shorter than what
            // is compressed without one.
            let raw = store
                .versions
                .get(version_key(&url(n - 1), 1))
                .unwrap()
                .unwrap();
            assert!(raw.len() < COMPRESS_RECORDS_OVER, "{} bytes", raw.len());
            assert!(zstd::zstd_safe::get_dict_id_from_frame(&raw).is_some());
            let raw = store.articles.get(url(n - 1)).unwrap().unwrap();
            assert!(zstd::zstd_safe::get_dict_id_from_frame(&raw).is_some());
        }
        // Reopened, and compacted: every record reads, from before and after the dictionary.
        let store = Store::open(dir.path(), "test").unwrap();
        assert!(store.has_dictionary());
        let (store, _) = store.compact().unwrap();
        for i in (0..n).step_by(37).chain([n - 1]) {
            let versions = store.versions(&url(i)).unwrap();
            assert_eq!(versions.len(), 1);
            assert_eq!(versions[0].fields.body, body(i));
            assert_eq!(store.article(&url(i)).unwrap().unwrap().versions, 1);
        }
        assert_eq!(store.all_versions().count(), n);
    }

    #[test]
    fn older_schema_versions_are_upgraded_newer_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let set = |v: u32| {
            let store = Store::open(dir.path(), "test").unwrap();
            store
                .meta
                .insert("schema_version", &v.to_be_bytes())
                .unwrap();
        };
        let get = || {
            let store = Store::open(dir.path(), "test").unwrap();
            let v = store.meta.get("schema_version").unwrap().unwrap();
            u32::from_be_bytes(v.as_ref().try_into().unwrap())
        };
        assert_eq!(get(), SCHEMA_VERSION);
        set(1);
        assert_eq!(get(), SCHEMA_VERSION, "version 1 is upgraded");
        set(SCHEMA_VERSION + 1);
        let err = Store::open(dir.path(), "test").err().unwrap();
        assert!(
            err.to_string()
                .contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
            "{err}"
        );
    }

    #[test]
    fn a_version_2_queue_index_is_folded_into_the_frontier() {
        let dir = tempfile::tempdir().unwrap();
        let u = |i: u32| format!("http://tinhuy.test/tin-tuc/bai-{i}.html");
        {
            // A run of version 2 stopped with three URLs queued: their queue keys in
            // `queue_index`, none in their frontier records.
            let store = Store::open(dir.path(), "test").unwrap();
            let entries: Vec<FrontierEntry> = (1..=3).map(|i| entry(&u(i))).collect();
            store.enqueue(&entries, policy(t(0))).unwrap();
            let index = store.db.open_tree("queue_index").unwrap();
            for (seq, url) in store.queue.iter().map(Result::unwrap) {
                index.insert(&url, &seq).unwrap();
                let mut e = frontier_dec(
                    &store.codec,
                    &String::from_utf8_lossy(&url),
                    &store.frontier.get(&url).unwrap().unwrap(),
                )
                .unwrap();
                e.queued = None;
                store.frontier.insert(&url, store.codec.enc(&e)).unwrap();
            }
            store
                .meta
                .insert("schema_version", &2u32.to_be_bytes())
                .unwrap();
            assert!(!store.is_queued(&u(1)).unwrap());
            assert_eq!(store.check_queue().unwrap().len(), 3);
        }
        let store = Store::open(dir.path(), "test").unwrap();
        assert!(!store
            .db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == b"queue_index"));
        assert!((1..=3).all(|i| store.is_queued(&u(i)).unwrap()));
        assert_eq!(store.check_queue().unwrap(), Vec::<String>::new());
        // The run goes on: fetching one takes it out of the queue.
        store
            .commit(&entry(&u(2)), &Commit::Listing, &[], policy(t(0)))
            .unwrap();
        assert!(!store.is_queued(&u(2)).unwrap());
        assert_eq!(store.queued(), 2);
        assert_eq!(store.check_queue().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_url_queued_again_in_a_later_run_has_one_queue_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let url = "http://tinhuy.test/tin-tuc/bai-1.html";
        store.enqueue(&[entry(url)], policy(t(0))).unwrap();
        let later = EnqueuePolicy {
            run: 2,
            ..policy(t(0))
        };
        assert_eq!(store.enqueue(&[entry(url)], later).unwrap(), 1);
        assert_eq!(store.queued(), 1);
        assert_eq!(store.check_queue().unwrap(), Vec::<String>::new());
        store
            .commit(&entry(url), &Commit::Listing, &[], later)
            .unwrap();
        assert_eq!(store.queued(), 0);
    }

    #[test]
    fn compact_db_gives_a_store_without_a_dictionary_one_and_recompresses_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let url = |i: usize| format!("http://baotinh.test/thoi-su/bai-{i}.html");
        let body = |i: usize| format!("{LONG_BODY} Tin số {i} của phóng viên thường trú.");
        let n = 300;
        let plain_versions = {
            let store = Store::open(dir.path(), "test").unwrap();
            for i in 0..n {
                capture(&store, &url(i), &body(i), t(i as i64));
            }
            assert!(
                !store.has_dictionary(),
                "too few records to train on while crawling"
            );
            store
                .versions
                .iter()
                .map(|kv| kv.unwrap().1.len())
                .sum::<usize>()
        };
        let store = Store::open(dir.path(), "test").unwrap();
        let (store, c) = store.compact().unwrap();
        assert!(c.trained);
        assert!(store.has_dictionary());
        // Every version and article record, and nothing else.
        assert_eq!(c.recompressed, 2 * n as u64);
        let dict_versions: usize = store.versions.iter().map(|kv| kv.unwrap().1.len()).sum();
        assert!(
            dict_versions * 2 < plain_versions,
            "versions {plain_versions} -> {dict_versions} bytes"
        );
        for i in 0..n {
            assert_eq!(store.versions(&url(i)).unwrap()[0].fields.body, body(i));
            assert_eq!(store.article(&url(i)).unwrap().unwrap().url, url(i));
        }
        // A second compaction has nothing left to recompress.
        let (store, c) = store.compact().unwrap();
        assert!(!c.trained);
        assert_eq!(c.recompressed, 0);
        assert_eq!(store.all_versions().count(), n);
    }

    #[test]
    fn a_store_whose_crawls_were_too_small_to_train_gets_a_dictionary_from_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let url = |i: usize| format!("http://ubnd.test/tin-tuc/thong-bao-{i}.html");
        let body = |i: usize| format!("{LONG_BODY} Thông báo số {i}/TB-UBND.");
        for i in 0..5 {
            capture(&store, &url(i), &body(i), t(i as i64));
        }
        assert!(!store.ensure_dictionary().unwrap(), "too few records");
        for i in 5..300 {
            capture(&store, &url(i), &body(i), t(i as i64));
        }
        assert!(!store.has_dictionary());
        assert!(store.ensure_dictionary().unwrap());
        assert!(store.has_dictionary());
        assert!(!store.ensure_dictionary().unwrap(), "once");
        capture(&store, &url(300), &body(300), t(300));
        let raw = store
            .versions
            .get(version_key(&url(300), 1))
            .unwrap()
            .unwrap();
        assert!(zstd::zstd_safe::get_dict_id_from_frame(&raw).is_some());
        drop(store);
        let store = Store::open(dir.path(), "test").unwrap();
        for i in [0, 150, 300] {
            assert_eq!(store.versions(&url(i)).unwrap()[0].fields.body, body(i));
        }
    }
}
