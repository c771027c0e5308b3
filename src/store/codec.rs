//! How records are stored: JSON, zstd-compressed when long, with a dictionary that the store
//! trains on its own first records.
//!
//! A record is compressed on its own (sled reads and writes whole values), and zstd packs a
//! few kilobytes of text poorly on its own: the repeated parts (field names, the site's URL
//! pattern, WARC file names, the commonest syllables of Vietnamese) are new to every frame.
//! A dictionary gives every frame that history. Measured on the 20,000-article crawl bench
//! (benches/README.md, "Crawl"), a 64 KiB dictionary trained on the first records cut the
//! versions from 49.6 to 32.5 MB, the article records from 8.3 to 2.5 MB and the payload
//! pointers from 7.2 to 3.0 MB.
//!
//! Lifecycle. A new store has no dictionary: records longer than
//! [`COMPRESS_RECORDS_OVER`] are compressed without one, and the JSON of every record
//! longer than [`COMPRESS_WITH_DICT_OVER`] is kept as a training sample. Once the samples
//! reach [`DICT_SAMPLE_BYTES`] or [`DICT_SAMPLE_RECORDS`], the store trains a
//! [`DICT_BYTES`] dictionary ([`Codec::train`], called by the store outside its
//! transactions), writes it to `meta` under `zstd_dict/` + a big-endian sequence number,
//! flushes, and only then encodes with it: no record can reach the disk before the
//! dictionary it needs. From then on every record longer than [`COMPRESS_WITH_DICT_OVER`]
//! is compressed with it (kept as JSON when that is not smaller).
//!
//! Every frame names its dictionary (zstd writes the dictionary's id in the frame header),
//! so a store may hold records of several dictionaries and of none; decoding looks the id
//! up among the store's dictionaries, all loaded when the store opens. A dumped record
//! reads with `zstd -d -D <dictionary>` after dumping the dictionary from `meta`.
//!
//! A store whose crawls each write fewer records than [`DICT_SAMPLE_BYTES`] (a few dozen
//! articles a day) gets its dictionary from `Store::ensure_dictionary`, which the crawl
//! command calls after every crawl: it trains on a sample of the stored records once they
//! hold [`DICT_MIN_SAMPLE_BYTES`]. `compact-db` does the same for a store without a
//! dictionary (one made by an older luutru, say), and recompresses every record not
//! compressed with the newest dictionary ([`Codec::recode`]).
//!
//! Parts: [`Codec`] (encode, decode, sample, train, recode), [`plain_enc`] (the
//! dictionary-free encoding, also for the lock file), the constants.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use zstd::zstd_safe;

use super::Pool;
use crate::{Error, Result};

/// Records whose JSON is longer than this are stored zstd-compressed when the store has no
/// dictionary. Below it the frame overhead eats the gain; above it are the versions, which
/// hold article text.
pub const COMPRESS_RECORDS_OVER: usize = 512;
/// With a dictionary, records longer than this are compressed (article records, payload
/// pointers and versions; frontier entries stay plain).
pub const COMPRESS_WITH_DICT_OVER: usize = 128;
/// zstd level for records: level 3 packs Vietnamese article text about 2:1 alone, 3:1
/// with the dictionary, at several hundred MB/s, so it costs the crawl little next to
/// parsing the page. Higher levels gained 3-7% for three times the time.
const RECORD_ZSTD_LEVEL: i32 = 3;
/// The zstd frame magic number. A JSON record starts with `{`, `[` or `"`, never with it.
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Size of a trained dictionary. 32 KiB did 3% worse on the versions, 112 KiB 1% better.
pub const DICT_BYTES: usize = 64 * 1024;
/// Training starts when the samples reach this many bytes of JSON…
pub const DICT_SAMPLE_BYTES: usize = 4 * 1024 * 1024;
/// …or this many records (whichever first): about the first thousand articles.
pub const DICT_SAMPLE_RECORDS: usize = 3000;
/// No dictionary is trained on fewer bytes of samples: four times its size. A store that
/// small gains little from one anyway.
pub const DICT_MIN_SAMPLE_BYTES: usize = 4 * DICT_BYTES;
/// A decoded record larger than this is taken for a damaged frame header.
const MAX_RECORD_BYTES: u64 = 256 * 1024 * 1024;

/// Prefix of the `meta` keys that hold dictionaries (then a big-endian u32 sequence).
pub(crate) const DICT_KEY_PREFIX: &[u8] = b"zstd_dict/";

/// Sampling states.
const COLLECTING: u8 = 0;
const TRAINING: u8 = 1;
const DONE: u8 = 2;

/// One dictionary, prepared for both directions.
struct Dict {
    id: u32,
    cdict: zstd_safe::CDict<'static>,
    ddict: zstd_safe::DDict<'static>,
}

impl Dict {
    fn new(bytes: &[u8]) -> Option<Dict> {
        let id = zstd_safe::get_dict_id_from_dict(bytes)?.get();
        Some(Dict {
            id,
            cdict: zstd_safe::CDict::try_create(bytes, RECORD_ZSTD_LEVEL)?,
            ddict: zstd_safe::DDict::try_create(bytes)?,
        })
    }
}

/// Training samples: the JSON of the first long records.
#[derive(Default)]
struct Samples {
    records: Vec<Vec<u8>>,
    bytes: usize,
}

/// The store's record codec (see the module header).
pub(crate) struct Codec {
    meta: sled::Tree,
    /// The dictionary new records are compressed with: the newest.
    current: RwLock<Option<Arc<Dict>>>,
    /// Every dictionary of the store, by id.
    known: RwLock<HashMap<u32, Arc<Dict>>>,
    /// `COLLECTING` until the samples are full (or the store has a dictionary), then
    /// `TRAINING` while one caller trains, then `DONE`.
    state: AtomicU8,
    samples: Mutex<Samples>,
}

/// Compression contexts, reused: creating one allocates and initialises about a megabyte
/// of tables, more work than compressing a record.
static CCTX: Pool<zstd_safe::CCtx<'static>> = Pool::new();
static DCTX: Pool<zstd_safe::DCtx<'static>> = Pool::new();

impl Codec {
    /// The codec of the store whose `meta` tree this is, with its dictionaries loaded.
    pub(crate) fn open(meta: sled::Tree) -> Result<Codec> {
        let mut known = HashMap::new();
        let mut current = None;
        for kv in meta.scan_prefix(DICT_KEY_PREFIX) {
            let (k, v) = kv?;
            let dict = Dict::new(&v).ok_or_else(|| Error::CorruptRecord {
                key: String::from_utf8_lossy(&k).into_owned(),
                message: "not a zstd dictionary".into(),
            })?;
            let dict = Arc::new(dict);
            known.insert(dict.id, dict.clone());
            current = Some(dict); // keys sort by sequence: the last is the newest
        }
        let state = if current.is_some() { DONE } else { COLLECTING };
        Ok(Codec {
            meta,
            current: RwLock::new(current),
            known: RwLock::new(known),
            state: AtomicU8::new(state),
            samples: Mutex::new(Samples::default()),
        })
    }

    /// Whether the store has a dictionary to compress with.
    pub(crate) fn has_dictionary(&self) -> bool {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// A record as stored (see the module header).
    pub(crate) fn enc<T: serde::Serialize>(&self, v: &T) -> Vec<u8> {
        let json = serde_json::to_vec(v).expect("store records serialize to JSON");
        self.enc_json(json)
    }

    /// [`Codec::enc`] of a record already serialised.
    pub(crate) fn enc_json(&self, json: Vec<u8>) -> Vec<u8> {
        if json.len() <= COMPRESS_WITH_DICT_OVER {
            return json;
        }
        let current = self
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match current {
            Some(dict) => {
                // Compressing into a buffer of the bound fails only on allocation failure;
                // keep JSON then, and when the frame would not be smaller.
                let mut out = Vec::with_capacity(zstd_safe::compress_bound(json.len()));
                let done = CCTX
                    .with(
                        || Some(zstd_safe::CCtx::create()),
                        |c| c.compress_using_cdict(&mut out, &json, &dict.cdict).is_ok(),
                    )
                    .unwrap_or(false);
                if done && out.len() < json.len() {
                    out
                } else {
                    json
                }
            }
            None => {
                self.sample(&json);
                plain_enc_json(json)
            }
        }
    }

    fn sample(&self, json: &[u8]) {
        if self.state.load(Ordering::Relaxed) != COLLECTING {
            return;
        }
        let mut s = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        if s.bytes < DICT_SAMPLE_BYTES && s.records.len() < DICT_SAMPLE_RECORDS {
            s.bytes += json.len();
            s.records.push(json.to_vec());
        }
    }

    /// Whether enough samples are in to train a dictionary (and nobody is training one).
    pub(crate) fn ready_to_train(&self) -> bool {
        if self.state.load(Ordering::Relaxed) != COLLECTING {
            return false;
        }
        let s = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        s.bytes >= DICT_SAMPLE_BYTES || s.records.len() >= DICT_SAMPLE_RECORDS
    }

    /// Trains a dictionary on the samples collected so far, stores it (flushed) and
    /// compresses with it from then on. One caller trains; the others return at once.
    /// `Ok(false)`: nothing done (another caller is training, the store has a dictionary,
    /// or zstd could not train on these samples: too few, or too alike; the codec then
    /// stops sampling for this process).
    pub(crate) fn train(&self) -> Result<bool> {
        if self
            .state
            .compare_exchange(COLLECTING, TRAINING, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return Ok(false);
        }
        let samples = std::mem::take(&mut *self.samples.lock().unwrap_or_else(|p| p.into_inner()));
        let outcome = self.train_on(&samples.records);
        self.state.store(DONE, Ordering::Release);
        outcome
    }

    /// Trains on `samples` and installs the result (see [`Codec::train`]; `Ok(false)` also
    /// when they hold fewer than [`DICT_MIN_SAMPLE_BYTES`]).
    pub(crate) fn train_on(&self, samples: &[Vec<u8>]) -> Result<bool> {
        if samples.iter().map(Vec::len).sum::<usize>() < DICT_MIN_SAMPLE_BYTES {
            return Ok(false);
        }
        let Ok(bytes) = zstd::dict::from_samples(samples, DICT_BYTES) else {
            return Ok(false);
        };
        let Some(dict) = Dict::new(&bytes) else {
            return Ok(false);
        };
        let seq = match self.meta.scan_prefix(DICT_KEY_PREFIX).next_back() {
            Some(kv) => {
                let (k, _) = kv?;
                let n = k
                    .get(DICT_KEY_PREFIX.len()..)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map_or(0, u32::from_be_bytes);
                n + 1
            }
            None => 1,
        };
        let mut key = DICT_KEY_PREFIX.to_vec();
        key.extend_from_slice(&seq.to_be_bytes());
        self.meta.insert(key, bytes)?;
        // On disk before any record that needs it.
        self.meta.flush()?;
        let dict = Arc::new(dict);
        self.known
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dict.id, dict.clone());
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(dict);
        self.state.store(DONE, Ordering::Release);
        Ok(true)
    }

    /// A stored record, decoded (`key` names it in errors).
    pub(crate) fn dec<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
        bytes: &[u8],
    ) -> Result<T> {
        let json = self.json(key, bytes)?;
        serde_json::from_slice(&json).map_err(|e| corrupt(key, e.to_string()))
    }

    /// The JSON of a stored record.
    pub(crate) fn json<'a>(&self, key: &[u8], bytes: &'a [u8]) -> Result<Cow<'a, [u8]>> {
        let Some(id) = dict_id(bytes) else {
            return plain_json(key, bytes);
        };
        let dict = self
            .known
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
            .ok_or_else(|| {
                corrupt(
                    key,
                    format!("compressed with zstd dictionary {id}, which this store does not hold"),
                )
            })?;
        let size = match zstd_safe::get_frame_content_size(bytes) {
            Ok(Some(n)) if n <= MAX_RECORD_BYTES => n as usize,
            _ => {
                return Err(corrupt(
                    key,
                    "cannot read the record's zstd frame header".into(),
                ))
            }
        };
        let mut json = Vec::with_capacity(size);
        DCTX.with(
            || Some(zstd_safe::DCtx::create()),
            |d| d.decompress_using_ddict(&mut json, bytes, &dict.ddict),
        )
        .expect("a decompression context is always made")
        .map_err(|code| {
            corrupt(
                key,
                format!(
                    "cannot decompress the record: {}",
                    zstd_safe::get_error_name(code)
                ),
            )
        })?;
        Ok(Cow::Owned(json))
    }

    /// A stored record as [`Codec::enc`] would store it now: `None` when that is how it
    /// is stored (compressed with the current dictionary, or short JSON), else the new
    /// bytes. `compact-db` recompresses records written before the dictionary with it.
    pub(crate) fn recode(&self, key: &[u8], bytes: &[u8]) -> Result<Option<Vec<u8>>> {
        let current = self
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|d| d.id);
        let id = dict_id(bytes);
        if current.is_some() && id == current {
            return Ok(None);
        }
        if !bytes.starts_with(&ZSTD_MAGIC) && bytes.len() <= COMPRESS_WITH_DICT_OVER {
            return Ok(None);
        }
        let json = self.json(key, bytes)?.into_owned();
        let again = self.enc_json(json);
        Ok((again != bytes).then_some(again))
    }
}

/// The dictionary a stored record was compressed with, if any.
fn dict_id(bytes: &[u8]) -> Option<u32> {
    if !bytes.starts_with(&ZSTD_MAGIC) {
        return None;
    }
    zstd_safe::get_dict_id_from_frame(bytes).map(|id| id.get())
}

fn corrupt(key: &[u8], message: String) -> Error {
    Error::CorruptRecord {
        key: String::from_utf8_lossy(key).into_owned(),
        message,
    }
}

/// A record without a dictionary: JSON, zstd-compressed when longer than
/// [`COMPRESS_RECORDS_OVER`].
pub(crate) fn plain_enc<T: serde::Serialize>(v: &T) -> Vec<u8> {
    plain_enc_json(serde_json::to_vec(v).expect("store records serialize to JSON"))
}

fn plain_enc_json(json: Vec<u8>) -> Vec<u8> {
    if json.len() <= COMPRESS_RECORDS_OVER {
        return json;
    }
    // Compressing an in-memory buffer fails only on allocation failure; keep JSON then.
    static CONTEXTS: Pool<zstd::bulk::Compressor<'static>> = Pool::new();
    CONTEXTS
        .with(
            || zstd::bulk::Compressor::new(RECORD_ZSTD_LEVEL).ok(),
            |c| c.compress(&json).ok(),
        )
        .flatten()
        .unwrap_or(json)
}

/// A record written by [`plain_enc`] (or before records were compressed: plain JSON).
#[cfg(test)]
pub(crate) fn plain_dec<T: serde::de::DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    let json = plain_json(key, bytes)?;
    serde_json::from_slice(&json).map_err(|e| corrupt(key, e.to_string()))
}

/// The JSON of a record written without a dictionary.
fn plain_json<'a>(key: &[u8], bytes: &'a [u8]) -> Result<Cow<'a, [u8]>> {
    if !bytes.starts_with(&ZSTD_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut json = Vec::new();
    zstd::stream::copy_decode(bytes, &mut json)
        .map_err(|e| corrupt(key, format!("cannot decompress the record: {e}")))?;
    Ok(Cow::Owned(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record like a version: Vietnamese text that differs from record to record.
    fn record(i: usize) -> Vec<String> {
        let places = [
            "Chí Linh",
            "Kinh Môn",
            "Nam Sách",
            "Thanh Hà",
            "Gia Lộc",
            "Tứ Kỳ",
        ];
        (0..12)
            .map(|j| {
                format!(
                    "Ngày {}/{}, đoàn công tác của Tỉnh ủy Hải Dương làm việc tại {} về \
                     kết quả thực hiện nghị quyết số {} của Ban Chấp hành Đảng bộ tỉnh.",
                    1 + (i + j) % 28,
                    1 + i % 12,
                    places[(i * 7 + j) % places.len()],
                    100 + i * 13 + j
                )
            })
            .collect()
    }

    fn codec(dir: &std::path::Path) -> (sled::Db, Codec) {
        let db = sled::Config::new().path(dir).open().unwrap();
        let meta = db.open_tree("meta").unwrap();
        (db, Codec::open(meta).unwrap())
    }

    #[test]
    fn short_records_stay_plain_json_long_ones_are_compressed() {
        let short = vec!["hòa".to_string()];
        assert_eq!(plain_enc(&short), serde_json::to_vec(&short).unwrap());

        let long: Vec<String> = (0..200)
            .map(|i| format!("Đoàn công tác tỉnh Hải Dương kiểm tra lần {i}"))
            .collect();
        let stored = plain_enc(&long);
        assert!(stored.starts_with(&ZSTD_MAGIC));
        assert!(stored.len() * 3 < serde_json::to_vec(&long).unwrap().len());
        assert_eq!(plain_dec::<Vec<String>>(b"k", &stored).unwrap(), long);
    }

    #[test]
    fn long_records_written_before_compression_still_read() {
        let long: Vec<String> = (0..200).map(|i| format!("đoạn {i}")).collect();
        let plain = serde_json::to_vec(&long).unwrap();
        assert!(plain.len() > COMPRESS_RECORDS_OVER);
        assert_eq!(plain_dec::<Vec<String>>(b"k", &plain).unwrap(), long);
    }

    #[test]
    fn a_damaged_compressed_record_is_an_error_naming_its_key() {
        let long: Vec<String> = (0..200).map(|i| format!("đoạn {i}")).collect();
        let mut stored = plain_enc(&long);
        stored.truncate(stored.len() / 2);
        let err = plain_dec::<Vec<String>>(b"http://x/a.html", &stored).unwrap_err();
        assert!(
            matches!(&err, Error::CorruptRecord { key, .. } if key == "http://x/a.html"),
            "{err}"
        );
    }

    #[test]
    fn the_codec_samples_trains_once_and_then_compresses_with_its_dictionary() {
        let dir = tempfile::tempdir().unwrap();
        let (_db, codec) = codec(dir.path());
        assert!(!codec.has_dictionary());
        let mut before = Vec::new();
        let mut i = 0;
        while !codec.ready_to_train() {
            before.push((record(i), codec.enc(&record(i))));
            i += 1;
        }
        assert!(i <= DICT_SAMPLE_RECORDS);
        // Without a dictionary: the plain codec's bytes.
        assert_eq!(before[5].1, plain_enc(&before[5].0));

        assert!(codec.train().unwrap());
        assert!(codec.has_dictionary());
        assert!(!codec.ready_to_train());
        assert!(!codec.train().unwrap(), "trains once");

        let r = record(i + 1);
        let with = codec.enc(&r);
        let without = plain_enc(&r);
        assert!(with.starts_with(&ZSTD_MAGIC));
        assert!(zstd_safe::get_dict_id_from_frame(&with).is_some());
        assert!(
            with.len() * 2 < without.len(),
            "{} bytes with the dictionary, {} without",
            with.len(),
            without.len()
        );
        assert_eq!(codec.dec::<Vec<String>>(b"k", &with).unwrap(), r);
        // Records from before the dictionary still read.
        for (r, stored) in &before {
            assert_eq!(&codec.dec::<Vec<String>>(b"k", stored).unwrap(), r);
        }
        // Short records stay plain JSON.
        let short = vec!["Hải Dương".to_string()];
        assert_eq!(codec.enc(&short), serde_json::to_vec(&short).unwrap());
    }

    #[test]
    fn dictionaries_are_stored_and_a_record_of_a_missing_one_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let samples: Vec<Vec<u8>> = (0..400)
            .map(|i| serde_json::to_vec(&record(i)).unwrap())
            .collect();
        let stored = {
            let (_db, codec) = codec(dir.path());
            assert!(codec.train_on(&samples).unwrap());
            codec.enc(&record(1000))
        };
        // Reopened: the dictionary is loaded from `meta`.
        let (db, reopened) = codec(dir.path());
        assert!(reopened.has_dictionary());
        assert_eq!(
            reopened.dec::<Vec<String>>(b"k", &stored).unwrap(),
            record(1000)
        );
        // A store without it (its `meta` emptied) names the dictionary and the key.
        drop(reopened);
        db.open_tree("meta").unwrap().clear().unwrap();
        let bare = Codec::open(db.open_tree("meta").unwrap()).unwrap();
        let err = bare
            .dec::<Vec<String>>(b"http://x/a.html", &stored)
            .unwrap_err();
        assert!(
            matches!(&err, Error::CorruptRecord { key, message }
                if key == "http://x/a.html" && message.contains("dictionary")),
            "{err}"
        );
        // A damaged frame of a known dictionary is an error too, not a panic.
        let codec = Codec::open(db.open_tree("meta").unwrap()).unwrap();
        assert!(codec.train_on(&samples).unwrap());
        let mut damaged = codec.enc(&record(7));
        let n = damaged.len();
        damaged.truncate(n / 2);
        assert!(codec.dec::<Vec<String>>(b"k", &damaged).is_err());
    }
}
