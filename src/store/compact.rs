//! Compaction of the sled database: the live records copied into a fresh database, which
//! then replaces the old one.
//!
//! sled 0.34 is log-structured: every write appends, and a segment's space comes back only
//! once most of it is garbage. A first crawl writes each page's records several times
//! (queued, fetched, linked to); with sled's log cleaned every 20 ms
//! ([`super::FLUSH_EVERY_MS`]) that leaves `db/` at 1.4 to 1.6 times its live records
//! (at sled's default 500 ms, about 3.6 times). A copy is about 1.6 to 2.4 times the live
//! records, depending on where sled's segment cleaning falls, so after such a crawl it is
//! seldom smaller; the command is for older stores, recompression and the index merge.
//!
//! The copy also brings records up to the store's codec (see `store::codec`): a store
//! without a zstd dictionary gets one trained on a sample of its records, and records not
//! compressed with the newest dictionary are recompressed with it.
//!
//! The swap is crash-safe in the usual way: the copy is built in `db.compact/` and flushed;
//! `db.compact.done` is written; `db/` is renamed to `db.old/` and `db.compact/` to `db/`;
//! the marker and `db.old/` are removed. [`recover`] (run whenever a store is opened)
//! finishes or undoes whatever a kill interrupted: without the marker the copy is
//! incomplete and is dropped; with it the copy is complete and is put in place. Either way
//! the database is one whole copy (and `reindex-db` can rebuild it from the WARC files).
//!
//! It is a command (`luutru compact-db`), not a step of every crawl: the copy holds memory
//! of the order of the live records (sled's in-memory page tables: peak RSS 327 MB for the
//! 100,000-article bench store, 0.4 GB before its records were compressed with a
//! dictionary), which an unattended crawl should not take on by surprise.
//!
//! Parts: [`Store::compact`], [`Compaction`], [`recover`], the sample a dictionary is
//! trained on (`Store::train_dictionary_on_sample`).

use std::path::Path;

use super::Store;
use crate::{Error, Result};

/// Records copied per sled batch.
const COPY_BATCH: usize = 1000;

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    /// Size of `db/` on disk before and after.
    pub before: u64,
    pub after: u64,
    /// Records copied (all trees).
    pub records: u64,
    /// Of those, records recompressed with the store's newest dictionary (written before
    /// it existed).
    pub recompressed: u64,
    /// Whether the store got its dictionary now (it had none: made by an older luutru, or
    /// too small when it was crawled).
    pub trained: bool,
    /// The copy was not smaller than the database, which was kept as it was (`after` is
    /// `before`, nothing was recompressed).
    pub kept: bool,
}

/// Trees whose records go through the store's codec (the others hold keys, raw JSON run
/// records, binary overlays or near-duplicate bands, and are copied as they are).
const RECODED_TREES: [&str; 4] = ["articles", "versions", "payloads", "frontier"];

fn io_err(dir: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::OpenStore {
        path: dir.to_path_buf(),
        message: format!("compacting the database: {what}: {e}"),
    }
}

/// Finishes or undoes a compaction that a kill interrupted (see the module header).
pub(super) fn recover(dir: &Path) -> Result<()> {
    let db = dir.join("db");
    let copy = dir.join("db.compact");
    let done = dir.join("db.compact.done");
    let old = dir.join("db.old");
    let err = |what: &str, e: std::io::Error| io_err(dir, what, e);
    if done.exists() {
        if copy.exists() {
            if db.exists() {
                if old.exists() {
                    std::fs::remove_dir_all(&old).map_err(|e| err("removing db.old", e))?;
                }
                std::fs::rename(&db, &old).map_err(|e| err("moving db aside", e))?;
            }
            std::fs::rename(&copy, &db).map_err(|e| err("putting the copy in place", e))?;
            sync_dir(dir);
        }
        std::fs::remove_file(&done).map_err(|e| err("removing db.compact.done", e))?;
    } else if copy.exists() {
        std::fs::remove_dir_all(&copy).map_err(|e| err("removing an incomplete copy", e))?;
    }
    if old.exists() && db.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| err("removing db.old", e))?;
    }
    Ok(())
}

/// Makes renames inside `dir` durable (best effort: not every platform can fsync a
/// directory, and the marker protocol holds without it).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

impl Store {
    /// Size of the database's files on disk.
    pub fn db_bytes(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }

    /// Compacts the database. Takes the store (sled must be closed to swap its directory)
    /// and gives it back, reopened, with what was done.
    pub fn compact(self) -> Result<(Store, Compaction)> {
        self.compact_if(|before, copy| copy < before)
    }

    /// [`Store::compact`], swapping the copy in only when `take(before, copy)` (their sizes
    /// on disk) says so.
    fn compact_if(self, take: impl Fn(u64, u64) -> bool) -> Result<(Store, Compaction)> {
        let before = self.db_bytes()?;
        let trained = self.ensure_dictionary()?;
        self.flush()?;
        let dir = self.dir.clone();
        let copy_dir = dir.join("db.compact");
        if copy_dir.exists() {
            std::fs::remove_dir_all(&copy_dir)
                .map_err(|e| io_err(&dir, "removing an old copy", e))?;
        }
        // Close everything but the database handle and the lock: sled closes its files when
        // the last tree is dropped.
        let (db, lock) = {
            // Moved into this block, so every other field (trees, WARC writer) drops at
            // its end.
            let store = self;
            let Store { db, _lock, .. } = store;
            (db, _lock)
        };
        // Reopened with a small cache: sled's in-memory nodes are several times the cache
        // setting, and the copy reads each node once.
        drop(db);
        let db = open_db(&dir.join("db"))?;
        let codec = super::Codec::open(db.open_tree("meta")?)?;
        let (records, recompressed, copy_bytes) = copy_db(&db, &copy_dir, &codec)?;
        drop(codec);
        drop(db);
        if !take(before, copy_bytes) {
            // sled's copy is 1.6 to 2.4 times the live records, depending on where its
            // segment cleaning falls: a database compacted not long ago can come out larger.
            // Keep it as it is then (the copy, without its marker, is only a leftover).
            std::fs::remove_dir_all(&copy_dir)
                .map_err(|e| io_err(&dir, "removing a copy that was not smaller", e))?;
            let store = Store::open_locked(&dir, lock, super::DEFAULT_CACHE_BYTES)?;
            return Ok((
                store,
                Compaction {
                    before,
                    after: before,
                    records,
                    recompressed: 0,
                    trained,
                    kept: true,
                },
            ));
        }
        let done = dir.join("db.compact.done");
        std::fs::File::create(&done)
            .and_then(|f| f.sync_all())
            .map_err(|e| io_err(&dir, "writing db.compact.done", e))?;
        sync_dir(&dir);
        recover(&dir)?;
        let store = Store::open_locked(&dir, lock, super::DEFAULT_CACHE_BYTES)?;
        let after = store.db_bytes()?;
        Ok((
            store,
            Compaction {
                before,
                after,
                records,
                recompressed,
                trained,
                kept: false,
            },
        ))
    }
}

/// Cache of the old database and of the copy while copying: each node is read once and
/// written once, in key order.
const COPY_CACHE_BYTES: u64 = 4 << 20;

fn open_db(path: &Path) -> Result<sled::Db> {
    super::open_sled(
        sled::Config::new()
            .path(path)
            .cache_capacity(COPY_CACHE_BYTES),
    )
    .map_err(|e| io_err(path, "opening", e))
}

/// Copies every tree of `db` into a new database at `to`, the records of
/// [`RECODED_TREES`] as `codec` stores them now; returns the records copied and, of those,
/// recompressed, and the copy's size on disk.
fn copy_db(db: &sled::Db, to: &Path, codec: &super::Codec) -> Result<(u64, u64, u64)> {
    let copy = open_db(to)?;
    let mut records = 0;
    let mut recompressed = 0;
    for name in db.tree_names() {
        let from = db.open_tree(&name)?;
        let into = copy.open_tree(&name)?;
        let recode = RECODED_TREES.iter().any(|t| t.as_bytes() == &name[..]);
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for kv in from.iter() {
            let (k, v) = kv?;
            match recode.then(|| codec.recode(&k, &v)).transpose()?.flatten() {
                Some(again) => {
                    recompressed += 1;
                    batch.insert(k, again);
                }
                None => batch.insert(k, v),
            }
            n += 1;
            if n == COPY_BATCH {
                into.apply_batch(std::mem::take(&mut batch))?;
                records += n as u64;
                n = 0;
            }
        }
        into.apply_batch(batch)?;
        records += n as u64;
    }
    copy.flush()?;
    Ok((records, recompressed, copy.size_on_disk()?))
}

impl Store {
    /// Trains the store's dictionary on records spread over its articles, versions and
    /// payload pointers (`false`: too few to train on, see [`Codec::train_on`]).
    ///
    /// [`Codec::train_on`]: super::Codec::train_on
    pub(super) fn train_dictionary_on_sample(&self) -> Result<bool> {
        let mut samples = Vec::new();
        for tree in [&self.versions, &self.articles, &self.payloads] {
            // An even share of the sample from each tree, every `step`-th record: spread
            // over the key space, so over every site.
            let share = super::DICT_SAMPLE_RECORDS / 3;
            let step = (tree.len() / share).max(1);
            let mut bytes = 0;
            for kv in tree.iter().step_by(step).take(share) {
                let (k, v) = kv?;
                let json = self.codec.json(&k, &v)?.into_owned();
                if json.len() > super::COMPRESS_WITH_DICT_OVER {
                    bytes += json.len();
                    samples.push(json);
                }
                if bytes >= super::DICT_SAMPLE_BYTES / 3 {
                    break;
                }
            }
        }
        self.codec.train_on(&samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ArticleStore;

    /// A tree's name and its records.
    type TreeContents = (Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>);

    /// Every tree's records, for comparing two databases.
    fn contents(store: &Store) -> Vec<TreeContents> {
        let mut names = store.db.tree_names();
        names.sort();
        names
            .into_iter()
            .filter(|n| n.as_ref() != b"__sled__default")
            .map(|n| {
                let t = store.db.open_tree(&n).unwrap();
                let kvs = t
                    .iter()
                    .map(|kv| {
                        let (k, v) = kv.unwrap();
                        (k.to_vec(), v.to_vec())
                    })
                    .collect();
                (n.to_vec(), kvs)
            })
            .collect()
    }

    /// A store whose database is mostly overwritten records.
    fn churned_store(dir: &Path) -> Store {
        let store = Store::open(dir, "test").unwrap();
        for round in 0..6u32 {
            for i in 0..2000u32 {
                let value = format!(
                    "{{\"vòng\":{round},\"bài\":{i},\"nội dung\":\"{}\"}}",
                    "Hải Dương ".repeat(40)
                );
                store
                    .runs
                    .insert(
                        format!("http://tinhuy.test/bai-{i:05}.html"),
                        value.as_bytes(),
                    )
                    .unwrap();
            }
            store.flush().unwrap();
        }
        store
    }

    #[test]
    fn compaction_keeps_every_record_and_gives_back_the_space() {
        let dir = tempfile::tempdir().unwrap();
        let store = churned_store(dir.path());
        let before = contents(&store);
        let size = store.db_bytes().unwrap();
        let (store, done) = store.compact().unwrap();
        assert_eq!(done.before, size);
        assert!(done.after < done.before, "{done:?}");
        assert_eq!(contents(&store), before);
        assert!(store.articles().next().is_none());
        drop(store);
        // No leftovers; the store reopens (the lock was held throughout and is free now).
        for leftover in ["db.compact", "db.compact.done", "db.old"] {
            assert!(
                !dir.path().join(leftover).exists(),
                "{leftover} left behind"
            );
        }
        let store = Store::open(dir.path(), "test").unwrap();
        assert_eq!(contents(&store), before);
    }

    #[test]
    fn a_copy_that_is_not_smaller_is_dropped_and_the_database_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = churned_store(dir.path());
        let before = contents(&store);
        let bytes = store.db_bytes().unwrap();
        let (store, c) = store.compact_if(|_, _| false).unwrap();
        assert!(c.kept);
        assert_eq!((c.before, c.after, c.recompressed), (bytes, bytes, 0));
        assert_eq!(contents(&store), before);
        assert!(!dir.path().join("db.compact").exists());
        assert!(!dir.path().join("db.compact.done").exists());
        // The store still works, and a real compaction still happens.
        drop(store);
        let (store, c) = Store::open(dir.path(), "test").unwrap().compact().unwrap();
        assert!(!c.kept && c.after < c.before, "{c:?}");
        assert_eq!(contents(&store), before);
    }

    #[test]
    fn a_compaction_killed_at_any_step_leaves_one_whole_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = churned_store(dir.path());
        let before = contents(&store);
        drop(store);
        let d = dir.path();
        let db = d.join("db");
        let copy = d.join("db.compact");
        let done = d.join("db.compact.done");
        let old = d.join("db.old");
        let make_copy = || {
            let from = open_db(&db).unwrap();
            let codec = crate::store::Codec::open(from.open_tree("meta").unwrap()).unwrap();
            copy_db(&from, &copy, &codec).unwrap();
        };
        let check = |step: &str| {
            let store = Store::open(d, "test").unwrap();
            assert_eq!(contents(&store), before, "after a kill {step}");
            drop(store);
            for leftover in [&copy, &done, &old] {
                assert!(
                    !leftover.exists(),
                    "after a kill {step}: {leftover:?} remains"
                );
            }
        };

        // Killed while copying: a partial copy, no marker.
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::write(copy.join("db"), b"half a copy").unwrap();
        check("while copying");

        // Killed after the marker, before the first rename.
        make_copy();
        std::fs::File::create(&done).unwrap();
        check("after the marker");

        // Killed between the two renames.
        make_copy();
        std::fs::File::create(&done).unwrap();
        std::fs::rename(&db, &old).unwrap();
        check("between the renames");

        // Killed after the swap, before db.old was removed.
        make_copy();
        std::fs::rename(&db, &old).unwrap();
        std::fs::rename(&copy, &db).unwrap();
        check("before the old copy was removed");
    }
}
