//! Near-duplicates across sites: the same article republished elsewhere with small edits
//! (a newspaper copying a Party portal article, adding a "Theo …" line, changing a figure).
//! Such pairs are linked, never merged.
//!
//! **Why MinHash and not SimHash.** Measured on a realistic pair (the tests below: a 489-word
//! provincial article and its republication with a "Theo Tỉnh ủy Hải Dương" line, one
//! sentence rewritten and one number changed), a 64-bit SimHash over 3-syllable shingles
//! differs in 7–10 bits depending on the shingle size, while a different article on the same
//! topic differs in 22–30. The cheap SimHash index (4 exact 16-bit bands, so Hamming
//! distance ≤ 3) misses the real pair; a threshold near 12 would separate them but needs 13
//! bands of 5 bits, i.e. ~30 000 candidates per lookup at 1M articles. The Jaccard
//! similarity of the shingle sets separates the same texts far better (0.83 against 0.08),
//! and MinHash with LSH banding indexes it so that a lookup only meets articles that
//! really share text.
//!
//! Parts:
//! - [`syllables`] / [`signature`]: 3-syllable shingles of the body's
//!   [`key_form`], [`NUM_HASHES`] min-hashes of them.
//! - [`similarity`]: the Jaccard estimate of two signatures.
//! - [`NearDupIndex`]: a `sled::Tree` holding each article's signature and its [`BANDS`]
//!   band entries; [`NearDupIndex::lookup`] reads the buckets of a signature's bands and
//!   confirms the candidates against [`MIN_SIMILARITY`]; [`NearDupIndex::insert`] and
//!   [`NearDupIndex::remove`] change one article atomically; [`NearDupIndex::apply`] writes
//!   many changes in one sorted pass (the store's path: crawls, re-extraction and rebuilds
//!   mark texts and apply them when they finish); [`NearDupIndex::load`] fills an empty
//!   index in bulk.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
    TransactionalTree,
};
use xxhash_rust::xxh3::xxh3_64;

use crate::extract::key_form;
use crate::{Error, Result};

/// Syllables per shingle. 3 keeps the pair above apart best (Jaccard 0.83 vs 0.08; 2-syllable
/// shingles give 0.86 vs 0.14, common bigrams such as "tỉnh ủy" weigh too much, and 4 or 5
/// make every edit cost more shingles).
pub const SHINGLE: usize = 3;
/// Bodies with fewer syllables get no signature: a caption-only page or a two-line notice
/// shares most of its few shingles with any other notice of the same kind.
pub const MIN_SYLLABLES: usize = 30;
/// Min-hashes per signature; the Jaccard estimate has a standard error of
/// √(J(1−J)/64) ≈ 0.06 at J = 0.5. Each keeps 16 bits (b-bit min-wise hashing): two
/// different minima then agree by chance with probability 2⁻¹⁶, a bias of 0.00002, for half
/// the storage of 32 bits.
pub const NUM_HASHES: usize = 64;
/// LSH bands and rows per band: two articles become candidates when all [`ROWS`] hashes of
/// any band agree, which happens with probability 1 − (1 − J³)¹². That is 0.80 at J = 0.5,
/// 0.99 at J = 0.7 and 0.9999 at J = 0.83 (the republication above), but 0.09 at J = 0.2
/// and 0.01 at J = 0.1, so unrelated articles seldom even need a look.
pub const BANDS: usize = 12;
pub const ROWS: usize = 3;
/// Estimated Jaccard similarity from which two articles are near-duplicates. Republications
/// with edits sit near 0.8, articles on the same topic of the same portal below 0.15.
pub const MIN_SIMILARITY: f64 = 0.5;

const _: () = assert!(BANDS * ROWS <= NUM_HASHES);
const _: () = assert!(BANDS < 256);

/// The min-hashes of one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature([u16; NUM_HASHES]);

impl Signature {
    /// A signature from stored hashes (as [`hashes`](Self::hashes) gave them).
    pub fn from_hashes(hashes: [u16; NUM_HASHES]) -> Self {
        Signature(hashes)
    }

    pub fn hashes(&self) -> &[u16; NUM_HASHES] {
        &self.0
    }

    /// The stored form: [`NUM_HASHES`] × u16, little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|h| h.to_le_bytes()).collect()
    }

    /// A signature from [`to_bytes`](Self::to_bytes); `None` when `b` has the wrong length.
    pub fn from_bytes(b: &[u8]) -> Option<Signature> {
        (b.len() == SIG_BYTES).then(|| {
            Signature(std::array::from_fn(|i| {
                u16::from_le_bytes([b[2 * i], b[2 * i + 1]])
            }))
        })
    }

    /// The hash of band `b`: its [`ROWS`] min-hashes hashed together.
    fn band(&self, b: usize) -> u64 {
        let mut bytes = [0u8; ROWS * 2];
        for (i, h) in self.0[b * ROWS..(b + 1) * ROWS].iter().enumerate() {
            bytes[i * 2..i * 2 + 2].copy_from_slice(&h.to_le_bytes());
        }
        xxh3_64(&bytes)
    }
}

/// The splitmix64 finaliser: a bijection of u64 that mixes every input bit into every
/// output bit, so `mix(x ^ seed)` for distinct seeds acts as distinct random permutations.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One fixed seed per min-hash. Fixed forever: changing them changes every stored signature.
const SEEDS: [u64; NUM_HASHES] = {
    let mut s = [0u64; NUM_HASHES];
    let mut i = 0;
    while i < NUM_HASHES {
        s[i] = mix((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        i += 1;
    }
    s
};

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)
}

/// The syllables of a key-form text: space-separated pieces with edge punctuation trimmed
/// (numbers such as "11.250" stay whole), punctuation-only pieces dropped.
pub fn syllables(key_form_text: &str) -> impl Iterator<Item = &str> {
    key_form_text
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !is_word_char(c)))
        .filter(|w| !w.is_empty())
}

/// The signature of an article body (as stored; its key form is taken here, so case,
/// Unicode normalisation and tone placement do not matter). `None` below
/// [`MIN_SYLLABLES`].
pub fn signature(body: &str) -> Option<Signature> {
    let key = key_form(body);
    let sylls: Vec<u64> = syllables(&key).map(|s| xxh3_64(s.as_bytes())).collect();
    if sylls.len() < MIN_SYLLABLES {
        return None;
    }
    let mut mins = [u64::MAX; NUM_HASHES];
    let mut buf = [0u8; SHINGLE * 8];
    for w in sylls.windows(SHINGLE) {
        for (i, h) in w.iter().enumerate() {
            buf[i * 8..i * 8 + 8].copy_from_slice(&h.to_le_bytes());
        }
        let x = xxh3_64(&buf);
        for (m, seed) in mins.iter_mut().zip(SEEDS) {
            *m = (*m).min(mix(x ^ seed));
        }
    }
    // The minimum is taken on all 64 bits so ties between shingles stay impossible; only
    // the stored value is cut to its high (best-mixed) 16 bits.
    Some(Signature(mins.map(|m| (m >> 48) as u16)))
}

/// Estimated Jaccard similarity of the two bodies' shingle sets, in 0..=1.
pub fn similarity(a: &Signature, b: &Signature) -> f64 {
    let same = a.0.iter().zip(&b.0).filter(|(x, y)| x == y).count();
    same as f64 / NUM_HASHES as f64
}

/// A near-duplicate found by [`NearDupIndex::lookup`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NearMatch {
    pub url: String,
    /// Estimated Jaccard similarity, [`MIN_SIMILARITY`]..=1.
    pub similarity: f64,
}

/// The index, in one `sled::Tree` of its own. An article's id is xxh3 of its URL.
///
/// - `r` + id (u64 BE) → the signatures of the URLs with that id (one, barring a hash
///   collision): repeated `[u16 LE url length][url][NUM_HASHES × u16 LE]`.
/// - `b` + band number + the band hash's top [`BUCKET_BITS`] (BE) → the bucket: repeated
///   `[next 32 bits of the band hash (BE)][id (BE)]`, 12 bytes per article.
///
/// Why buckets rather than one key per (band, article): sled 0.34 spends ~200 bytes of disk
/// and a few µs per key, and its memory grows past its cache bound with tens of millions of
/// small keys. Measured at 1M articles, 13 keys per article made a 2.6 GB tree built in
/// 430 s (a bulk build of it was killed at 24 GB RSS); buckets keep the key count at
/// 12 × 65 536 whatever the archive's size, and a lookup is 12 `get`s of ~180-byte values
/// at 1M articles.
pub struct NearDupIndex {
    tree: sled::Tree,
}

/// Bits of the band hash in the bucket key.
pub const BUCKET_BITS: u32 = 16;
const REC: u8 = b'r';
const BAND: u8 = b'b';
const SIG_BYTES: usize = NUM_HASHES * 2;
const ENTRY: usize = 12;

fn url_id(url: &str) -> u64 {
    xxh3_64(url.as_bytes())
}

fn rec_key(id: u64) -> [u8; 9] {
    let mut k = [REC; 9];
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

/// Bucket key and bucket entry of band `b` of `sig` for article `id`.
fn band_entry(sig: &Signature, b: usize, id: u64) -> ([u8; 4], [u8; ENTRY]) {
    let h = sig.band(b);
    let bucket = (h >> (64 - BUCKET_BITS)) as u16;
    let mut key = [BAND, b as u8, 0, 0];
    key[2..].copy_from_slice(&bucket.to_be_bytes());
    let mut entry = [0u8; ENTRY];
    entry[..4].copy_from_slice(&((h >> (64 - BUCKET_BITS - 32)) as u32).to_be_bytes());
    entry[4..].copy_from_slice(&id.to_be_bytes());
    (key, entry)
}

type Bucket = Vec<(String, Signature)>;

fn corrupt(key: String, message: &str) -> Error {
    Error::CorruptRecord {
        key,
        message: message.to_string(),
    }
}

fn decode_record(id: u64, bytes: &[u8]) -> Result<Bucket> {
    let err = |m: &str| corrupt(format!("neardup r{id:016x}"), m);
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or_else(|| err("truncated URL length"))?;
        let len = u16::from_le_bytes(*len) as usize;
        if tail.len() < len + SIG_BYTES {
            return Err(err("truncated entry"));
        }
        let url = std::str::from_utf8(&tail[..len])
            .map_err(|_| err("URL is not UTF-8"))?
            .to_string();
        let sig =
            std::array::from_fn(|i| u16::from_le_bytes([tail[len + 2 * i], tail[len + 2 * i + 1]]));
        out.push((url, Signature(sig)));
        rest = &tail[len + SIG_BYTES..];
    }
    Ok(out)
}

fn encode_record(bucket: &[(String, Signature)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bucket.len() * (2 + 100 + SIG_BYTES));
    for (url, sig) in bucket {
        // URLs longer than 64 KiB are refused before they get here (`check_url`).
        out.extend_from_slice(&(url.len() as u16).to_le_bytes());
        out.extend_from_slice(url.as_bytes());
        for h in &sig.0 {
            out.extend_from_slice(&h.to_le_bytes());
        }
    }
    out
}

fn check_url(url: &str) -> Result<()> {
    if url.len() > u16::MAX as usize {
        return Err(Error::InvalidUrl {
            url: url.chars().take(200).collect(),
            message: "longer than 65535 bytes".into(),
        });
    }
    Ok(())
}

fn abort(e: Error) -> ConflictableTransactionError<Error> {
    ConflictableTransactionError::Abort(e)
}

fn tx_result<T>(r: std::result::Result<T, TransactionError<Error>>) -> Result<T> {
    r.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => Error::Db(e),
    })
}

/// The bands of `sig` whose entry no other URL of the same record also holds: after an id
/// collision two URLs can share an entry, which must outlive the removal of one of them.
fn own_bands(record: &[(String, Signature)], url: &str, sig: &Signature) -> Vec<usize> {
    (0..BANDS)
        .filter(|&b| {
            let h = sig.band(b);
            !record.iter().any(|(u, s)| u != url && s.band(b) == h)
        })
        .collect()
}

fn entries(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.chunks_exact(ENTRY)
}

fn tx_add_entry(
    tx: &TransactionalTree,
    key: [u8; 4],
    entry: [u8; ENTRY],
) -> ConflictableTransactionResult<(), Error> {
    let mut v = tx.get(key)?.map(|v| v.to_vec()).unwrap_or_default();
    if !entries(&v).any(|e| e == entry) {
        v.extend_from_slice(&entry);
        tx.insert(&key[..], v)?;
    }
    Ok(())
}

fn tx_remove_entry(
    tx: &TransactionalTree,
    key: [u8; 4],
    entry: [u8; ENTRY],
) -> ConflictableTransactionResult<(), Error> {
    let Some(v) = tx.get(key)? else {
        return Ok(());
    };
    let kept: Vec<u8> = entries(&v)
        .filter(|e| *e != entry)
        .flatten()
        .copied()
        .collect();
    if kept.is_empty() {
        tx.remove(&key[..])?;
    } else if kept.len() != v.len() {
        tx.insert(&key[..], kept)?;
    }
    Ok(())
}

impl NearDupIndex {
    pub fn new(tree: sled::Tree) -> Self {
        NearDupIndex { tree }
    }

    /// Indexes `url` with `sig`, replacing what it had. Atomic.
    pub fn insert(&self, url: &str, sig: &Signature) -> Result<()> {
        check_url(url)?;
        tx_result(self.tree.transaction(|tx| Self::insert_tx(tx, url, sig)))
    }

    /// Removes `url`; false when it was not indexed. Atomic.
    pub fn remove(&self, url: &str) -> Result<bool> {
        tx_result(self.tree.transaction(|tx| Self::remove_tx(tx, url)))
    }

    /// [`insert`](Self::insert) inside a caller's transaction over this index's tree, so a
    /// page's records and its index entries can be written together.
    pub fn insert_tx(
        tx: &TransactionalTree,
        url: &str,
        sig: &Signature,
    ) -> ConflictableTransactionResult<(), Error> {
        check_url(url).map_err(abort)?;
        let id = url_id(url);
        let rk = rec_key(id);
        let mut record = match tx.get(rk)? {
            Some(v) => decode_record(id, &v).map_err(abort)?,
            None => Vec::new(),
        };
        if let Some(pos) = record.iter().position(|(u, _)| u == url) {
            if &record[pos].1 == sig {
                return Ok(());
            }
            let old = record.remove(pos).1;
            for b in own_bands(&record, url, &old) {
                let (k, e) = band_entry(&old, b, id);
                tx_remove_entry(tx, k, e)?;
            }
        }
        for b in 0..BANDS {
            let (k, e) = band_entry(sig, b, id);
            tx_add_entry(tx, k, e)?;
        }
        record.push((url.to_string(), sig.clone()));
        tx.insert(&rk[..], encode_record(&record))?;
        Ok(())
    }

    /// [`remove`](Self::remove) inside a caller's transaction.
    pub fn remove_tx(
        tx: &TransactionalTree,
        url: &str,
    ) -> ConflictableTransactionResult<bool, Error> {
        let id = url_id(url);
        let rk = rec_key(id);
        let Some(v) = tx.get(rk)? else {
            return Ok(false);
        };
        let mut record = decode_record(id, &v).map_err(abort)?;
        let Some(pos) = record.iter().position(|(u, _)| u == url) else {
            return Ok(false);
        };
        let old = record.remove(pos).1;
        for b in own_bands(&record, url, &old) {
            let (k, e) = band_entry(&old, b, id);
            tx_remove_entry(tx, k, e)?;
        }
        if record.is_empty() {
            tx.remove(&rk[..])?;
        } else {
            tx.insert(&rk[..], encode_record(&record))?;
        }
        Ok(true)
    }

    /// Applies many changes at once: each URL's new signature, or `None` to take it out of
    /// the index. A crawl defers its changes to the end of the run (see
    /// `Store::apply_near_pending`): one article's twelve band buckets lie anywhere in the
    /// tree, and writing them page by page, in a transaction, held sled's process-wide
    /// lock for a quarter of a crawl. Here records are read in id order and buckets written
    /// in key order, each bucket once per call.
    ///
    /// Not atomic, but safe to repeat after a crash: buckets are written before records,
    /// removals are derived from the stored records (unchanged until the buckets are
    /// written), and additions are always made and never duplicated. A URL given twice
    /// keeps its last change.
    pub fn apply(&self, changes: Vec<(String, Option<Signature>)>) -> Result<()> {
        let mut by_id: BTreeMap<u64, Vec<(String, Option<Signature>)>> = BTreeMap::new();
        for (url, sig) in changes {
            check_url(&url)?;
            let same_id = by_id.entry(url_id(&url)).or_default();
            same_id.retain(|(u, _)| *u != url);
            same_id.push((url, sig));
        }
        // (bucket key, is an addition, entry): removals sort first within a bucket, so an
        // entry both removed (old signature) and added (new one) stays.
        let mut ops: Vec<([u8; 4], bool, [u8; ENTRY])> = Vec::new();
        let mut records: Vec<([u8; 9], Option<Vec<u8>>)> = Vec::new();
        for (id, changes) in by_id {
            let rk = rec_key(id);
            let mut record = match self.tree.get(rk)? {
                Some(v) => decode_record(id, &v)?,
                None => Vec::new(),
            };
            let before = record.clone();
            for (url, new) in changes {
                if let Some(pos) = record.iter().position(|(u, _)| *u == url) {
                    if Some(&record[pos].1) != new.as_ref() {
                        let old = record.remove(pos).1;
                        for b in own_bands(&record, &url, &old) {
                            let (k, e) = band_entry(&old, b, id);
                            ops.push((k, false, e));
                        }
                    }
                }
                if let Some(sig) = new {
                    for b in 0..BANDS {
                        let (k, e) = band_entry(&sig, b, id);
                        ops.push((k, true, e));
                    }
                    if !record.iter().any(|(u, _)| *u == url) {
                        record.push((url, sig));
                    }
                }
            }
            if record != before {
                records.push((rk, (!record.is_empty()).then(|| encode_record(&record))));
            }
        }
        ops.sort_unstable();
        for group in ops.chunk_by(|a, b| a.0 == b.0) {
            let key = group[0].0;
            let stored = self.tree.get(key)?;
            let mut v = stored.as_deref().map(<[u8]>::to_vec).unwrap_or_default();
            for (_, add, e) in group {
                if *add {
                    if !entries(&v).any(|x| x == e) {
                        v.extend_from_slice(e);
                    }
                } else {
                    v = entries(&v).filter(|x| x != e).flatten().copied().collect();
                }
            }
            if stored.as_deref().unwrap_or_default() != v.as_slice() {
                if v.is_empty() {
                    self.tree.remove(key)?;
                } else {
                    self.tree.insert(key, v)?;
                }
            }
        }
        for (rk, v) in records {
            match v {
                Some(v) => self.tree.insert(rk, v)?,
                None => self.tree.remove(rk)?,
            };
        }
        Ok(())
    }

    /// Fills an empty index with many articles at once (rebuilding the database): each
    /// bucket is written once instead of once per article. A URL given twice keeps its last
    /// signature. Not atomic as a whole (a crash leaves a partial index: clear the tree and
    /// load again); refused when the index is not empty.
    pub fn load<I, S>(&self, articles: I) -> Result<()>
    where
        I: IntoIterator<Item = (S, Signature)>,
        S: Into<String>,
    {
        if !self.tree.is_empty() {
            return Err(Error::CorruptRecord {
                key: "neardup".into(),
                message: "bulk load into a non-empty index".into(),
            });
        }
        let mut latest: HashMap<String, Signature> = HashMap::new();
        for (url, sig) in articles {
            let url = url.into();
            check_url(&url)?;
            latest.insert(url, sig);
        }
        let mut records: HashMap<u64, Bucket> = HashMap::new();
        for (url, sig) in latest {
            records.entry(url_id(&url)).or_default().push((url, sig));
        }
        let mut buckets: HashMap<[u8; 4], Vec<u8>> = HashMap::new();
        for (&id, record) in &records {
            let mut seen = BTreeSet::new();
            for (_, sig) in record {
                for b in 0..BANDS {
                    let (k, e) = band_entry(sig, b, id);
                    // Id collisions with equal band hashes share one entry.
                    if seen.insert((k, e)) {
                        buckets.entry(k).or_default().extend_from_slice(&e);
                    }
                }
            }
        }
        let mut writes: Vec<(Vec<u8>, Vec<u8>)> = records
            .into_iter()
            .map(|(id, r)| (rec_key(id).to_vec(), encode_record(&r)))
            .chain(buckets.into_iter().map(|(k, v)| (k.to_vec(), v)))
            .collect();
        // Plain inserts in key order: measured on sled 0.34, `apply_batch` of 10k keys held
        // 5× the memory (940 MB against 185 MB for 300k keys) and left gets 3× slower;
        // key order keeps each node's writes together.
        writes.sort_unstable();
        for (k, v) in writes {
            self.tree.insert(k, v)?;
        }
        Ok(())
    }

    /// The signature stored for `url`.
    pub fn get(&self, url: &str) -> Result<Option<Signature>> {
        let id = url_id(url);
        let Some(v) = self.tree.get(rec_key(id))? else {
            return Ok(None);
        };
        Ok(decode_record(id, &v)?
            .into_iter()
            .find(|(u, _)| u == url)
            .map(|(_, s)| s))
    }

    /// Indexed articles at [`MIN_SIMILARITY`] or more from `sig`, `url` itself left out,
    /// most similar first (ties by URL). `url` need not be indexed.
    pub fn lookup(&self, url: &str, sig: &Signature) -> Result<Vec<NearMatch>> {
        let mut ids = BTreeSet::new();
        for b in 0..BANDS {
            let (k, e) = band_entry(sig, b, 0);
            let Some(v) = self.tree.get(k)? else {
                continue;
            };
            if v.len() % ENTRY != 0 {
                return Err(corrupt(
                    format!("neardup bucket {k:?}"),
                    "not a whole number of entries",
                ));
            }
            for entry in entries(&v).filter(|x| x[..4] == e[..4]) {
                let mut id = [0u8; 8];
                id.copy_from_slice(&entry[4..]);
                ids.insert(u64::from_be_bytes(id));
            }
        }
        let mut out = Vec::new();
        for id in ids {
            let Some(v) = self.tree.get(rec_key(id))? else {
                return Err(corrupt(
                    format!("neardup r{id:016x}"),
                    "bucket entry without a signature record",
                ));
            };
            for (u, s) in decode_record(id, &v)? {
                let sim = similarity(sig, &s);
                if u != url && sim >= MIN_SIMILARITY {
                    out.push(NearMatch {
                        url: u,
                        similarity: sim,
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then_with(|| a.url.cmp(&b.url))
        });
        Ok(out)
    }

    /// [`lookup`](Self::lookup) with the signature stored for `url`; empty when it has none.
    pub fn lookup_url(&self, url: &str) -> Result<Vec<NearMatch>> {
        match self.get(url)? {
            Some(sig) => self.lookup(url, &sig),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A provincial Party portal article (written for this test, in the portals' style).
    const ARTICLE: &str = "Chiều 12/6/2024, Ban Chấp hành Đảng bộ tỉnh Hải Dương tổ chức Hội nghị lần thứ 25 để đánh giá tình hình thực hiện nhiệm vụ chính trị 6 tháng đầu năm và bàn giải pháp thực hiện nhiệm vụ 6 tháng cuối năm 2024. Đồng chí Trần Đức Thắng, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy, Trưởng đoàn đại biểu Quốc hội tỉnh chủ trì hội nghị.

Theo báo cáo của Ban Thường vụ Tỉnh ủy, trong 6 tháng đầu năm, tổng sản phẩm trên địa bàn tỉnh ước tăng 9,32% so với cùng kỳ năm trước, đứng thứ 8 cả nước và thứ 4 vùng đồng bằng sông Hồng. Thu ngân sách nhà nước ước đạt 11.250 tỷ đồng, bằng 56,8% dự toán năm. Tỉnh đã thu hút thêm 412 triệu USD vốn đầu tư trực tiếp nước ngoài, tăng gần gấp đôi so với cùng kỳ. Sản xuất nông nghiệp ổn định, vụ lúa xuân được mùa, năng suất bình quân đạt 63,5 tạ mỗi héc-ta.

Công tác xây dựng Đảng và hệ thống chính trị tiếp tục được quan tâm. Ban Thường vụ Tỉnh ủy đã lãnh đạo tổ chức thành công đại hội chi bộ nhiệm kỳ 2024 - 2027 ở 2.064 chi bộ trực thuộc đảng ủy cơ sở, đúng tiến độ và bảo đảm chất lượng. Công tác kiểm tra, giám sát và thi hành kỷ luật đảng được thực hiện nghiêm túc; công tác phòng, chống tham nhũng, tiêu cực có nhiều chuyển biến tích cực.

Bên cạnh kết quả đạt được, hội nghị thẳng thắn chỉ ra một số hạn chế như tiến độ giải ngân vốn đầu tư công còn chậm, công tác giải phóng mặt bằng một số dự án trọng điểm còn vướng mắc, tình trạng vi phạm trật tự xây dựng và đất đai ở một số địa phương chưa được xử lý dứt điểm.

Phát biểu kết luận hội nghị, đồng chí Bí thư Tỉnh ủy yêu cầu các cấp ủy, tổ chức đảng, chính quyền các cấp tập trung đẩy nhanh tiến độ giải ngân vốn đầu tư công, phấn đấu đến ngày 30/9 giải ngân đạt trên 70% kế hoạch vốn được giao. Các địa phương cần tháo gỡ dứt điểm khó khăn trong giải phóng mặt bằng cho các dự án khu công nghiệp, đường vành đai I và tuyến đường trục Bắc Nam của tỉnh.

Đồng chí cũng đề nghị chuẩn bị chu đáo các điều kiện tiến tới đại hội đảng bộ các cấp nhiệm kỳ 2025 - 2030, trong đó chú trọng công tác nhân sự, xây dựng văn kiện và bảo đảm an ninh trật tự. Mỗi cán bộ, đảng viên phải nêu cao tinh thần trách nhiệm, dám nghĩ, dám làm, dám chịu trách nhiệm vì lợi ích chung, góp phần hoàn thành thắng lợi các chỉ tiêu kinh tế - xã hội năm 2024.";

    /// The provincial newspaper's republication: a "Theo" line, one sentence rewritten,
    /// one number changed.
    fn republished() -> String {
        let s = ARTICLE
            .replace(
                "hội nghị thẳng thắn chỉ ra một số hạn chế như tiến độ giải ngân vốn đầu tư công còn chậm, công tác giải phóng mặt bằng một số dự án trọng điểm còn vướng mắc, tình trạng vi phạm trật tự xây dựng và đất đai ở một số địa phương chưa được xử lý dứt điểm.",
                "hội nghị cũng chỉ ra những tồn tại cần khắc phục, nhất là việc giải ngân vốn đầu tư công chưa đạt yêu cầu và công tác giải phóng mặt bằng ở một số dự án còn gặp khó khăn.",
            )
            .replace("11.250 tỷ", "11.520 tỷ");
        assert_ne!(s, ARTICLE);
        format!("{s}\n\nTheo Tỉnh ủy Hải Dương")
    }

    /// Another article of the same portal on a close topic (the half-year review of Party
    /// building), with the same formulaic phrases.
    const OTHER: &str = "Sáng 9/7/2024, Ban Thường vụ Tỉnh ủy Hải Dương tổ chức hội nghị sơ kết công tác xây dựng Đảng và hệ thống chính trị 6 tháng đầu năm, triển khai nhiệm vụ 6 tháng cuối năm 2024. Đồng chí Lê Văn Hiệu, Phó Bí thư Thường trực Tỉnh ủy chủ trì hội nghị.

Báo cáo tại hội nghị cho biết, 6 tháng đầu năm, các cấp ủy, tổ chức đảng trong tỉnh đã tập trung lãnh đạo, chỉ đạo thực hiện đồng bộ các nhiệm vụ xây dựng Đảng. Công tác giáo dục chính trị tư tưởng được chú trọng, việc học tập, quán triệt các nghị quyết của Trung ương và của Tỉnh ủy được tổ chức nghiêm túc. Toàn tỉnh đã kết nạp 1.437 đảng viên mới, đạt 52% kế hoạch năm; xem xét, đề nghị tặng huy hiệu Đảng cho 3.820 đảng viên.

Công tác tổ chức cán bộ được thực hiện chặt chẽ, đúng quy định. Ban Thường vụ Tỉnh ủy đã điều động, luân chuyển, bổ nhiệm 46 lượt cán bộ diện Ban Thường vụ Tỉnh ủy quản lý. Việc sắp xếp đơn vị hành chính cấp huyện, cấp xã giai đoạn 2023 - 2025 được triển khai tích cực, dự kiến giảm 64 đơn vị hành chính cấp xã.

Công tác kiểm tra, giám sát tiếp tục được tăng cường. Ủy ban Kiểm tra các cấp đã kiểm tra khi có dấu hiệu vi phạm đối với 27 tổ chức đảng và 58 đảng viên, thi hành kỷ luật 112 đảng viên. Công tác dân vận, mặt trận và các đoàn thể chính trị - xã hội có nhiều đổi mới, góp phần củng cố niềm tin của nhân dân với Đảng.

Tuy nhiên, hội nghị cũng chỉ ra việc sinh hoạt chi bộ ở một số nơi còn hình thức, chất lượng đảng viên mới ở một số cơ sở chưa cao, công tác nắm bắt tư tưởng cán bộ, đảng viên trong quá trình sắp xếp đơn vị hành chính còn có lúc chưa kịp thời.

Kết luận hội nghị, đồng chí Phó Bí thư Thường trực Tỉnh ủy đề nghị các cấp ủy, tổ chức đảng tiếp tục nâng cao chất lượng sinh hoạt chi bộ, chuẩn bị tốt các điều kiện tổ chức đại hội đảng bộ các cấp nhiệm kỳ 2025 - 2030, làm tốt công tác tư tưởng trong quá trình sắp xếp đơn vị hành chính và tập trung hoàn thành thắng lợi các chỉ tiêu, nhiệm vụ năm 2024.";

    fn sig(body: &str) -> Signature {
        signature(body).expect("test bodies are long enough")
    }

    /// Exact Jaccard of the shingle sets, to check the estimate against.
    fn jaccard(a: &str, b: &str) -> f64 {
        let set = |t: &str| {
            let k = key_form(t);
            let s: Vec<&str> = syllables(&k).collect();
            s.windows(SHINGLE)
                .map(|w| w.join(" "))
                .collect::<std::collections::HashSet<_>>()
        };
        let (a, b) = (set(a), set(b));
        a.intersection(&b).count() as f64 / a.union(&b).count() as f64
    }

    #[test]
    fn the_test_article_is_realistic_in_length() {
        assert!(ARTICLE.split_whitespace().count() >= 300);
        assert!(OTHER.split_whitespace().count() >= 300);
    }

    #[test]
    fn republication_is_near_and_a_same_topic_article_is_not() {
        let (a, b, c) = (sig(ARTICLE), sig(&republished()), sig(OTHER));
        let (ab, ac, bc) = (similarity(&a, &b), similarity(&a, &c), similarity(&b, &c));
        assert!(ab >= MIN_SIMILARITY + 0.15, "republication: {ab}");
        assert!(ac < MIN_SIMILARITY - 0.3, "other article: {ac}");
        assert!(bc < MIN_SIMILARITY - 0.3, "other article: {bc}");
        // The estimate tracks the exact value within ~3 standard errors.
        let exact = jaccard(ARTICLE, &republished());
        assert!((ab - exact).abs() < 0.15, "estimate {ab}, exact {exact}");
        let exact = jaccard(ARTICLE, OTHER);
        assert!(exact < 0.15, "{exact}");
    }

    #[test]
    fn key_form_differences_do_not_matter() {
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd(ARTICLE).collect();
        let upper = ARTICLE.to_uppercase().replace("Hòa", "Hoà");
        assert_eq!(sig(ARTICLE), sig(&nfd));
        assert_eq!(sig(ARTICLE), sig(&upper));
    }

    #[test]
    fn short_bodies_get_no_signature() {
        let short = "Ảnh: Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 25.";
        assert!(signature(short).is_none());
        let words: Vec<&str> = ARTICLE.split_whitespace().take(MIN_SYLLABLES).collect();
        assert!(signature(&words.join(" ")).is_some());
        let words: Vec<&str> = ARTICLE.split_whitespace().take(MIN_SYLLABLES - 1).collect();
        assert!(signature(&words.join(" ")).is_none());
    }

    fn temp_index() -> NearDupIndex {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .expect("temporary sled db");
        NearDupIndex::new(db.open_tree("neardup").expect("tree"))
    }

    #[test]
    fn index_insert_lookup_remove() {
        let idx = temp_index();
        let portal = "https://tinhuyhaiduong.vn/tin-tuc/hoi-nghi-25.html";
        let paper = "https://baohaiduong.vn/chinh-tri/hoi-nghi-25-123.html";
        let other = "https://tinhuyhaiduong.vn/tin-tuc/so-ket-6-thang.html";
        let (a, b, c) = (sig(ARTICLE), sig(&republished()), sig(OTHER));
        idx.insert(portal, &a).unwrap();
        idx.insert(other, &c).unwrap();
        // Not indexed yet: found from the signature alone.
        let found = idx.lookup(paper, &b).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].url, portal);
        assert_eq!(found[0].similarity, similarity(&a, &b));

        idx.insert(paper, &b).unwrap();
        // Both ways, and never the article itself.
        let urls = |v: Vec<NearMatch>| v.into_iter().map(|m| m.url).collect::<Vec<_>>();
        assert_eq!(urls(idx.lookup(portal, &a).unwrap()), [paper]);
        assert_eq!(urls(idx.lookup_url(paper).unwrap()), [portal]);
        assert!(idx.lookup(other, &c).unwrap().is_empty());
        assert_eq!(idx.get(paper).unwrap(), Some(b.clone()));

        // Re-inserting with a new signature replaces the old band keys.
        idx.insert(paper, &c).unwrap();
        assert!(idx.lookup(portal, &a).unwrap().is_empty());
        assert_eq!(urls(idx.lookup(other, &c).unwrap()), [paper]);
        idx.insert(paper, &b).unwrap();

        assert!(idx.remove(paper).unwrap());
        assert!(!idx.remove(paper).unwrap());
        assert!(idx.lookup(portal, &a).unwrap().is_empty());
        assert_eq!(idx.get(paper).unwrap(), None);
        // Only the two remaining articles are left in the buckets.
        let ids: BTreeSet<u64> = idx
            .tree
            .scan_prefix([BAND])
            .flat_map(|kv| {
                let v = kv.unwrap().1;
                entries(&v)
                    .map(|e| u64::from_be_bytes(e[4..].try_into().unwrap()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(ids, BTreeSet::from([url_id(portal), url_id(other)]));
    }

    #[test]
    fn nearest_first() {
        let idx = temp_index();
        let a = sig(ARTICLE);
        let mut near = a.clone();
        let mut nearer = a.clone();
        for i in 0..20 {
            near.0[i] ^= 1;
        }
        for i in 60..64 {
            nearer.0[i] ^= 1;
        }
        idx.insert("https://a.vn/near", &near).unwrap();
        idx.insert("https://a.vn/nearer", &nearer).unwrap();
        let found = idx.lookup("https://a.vn/self", &a).unwrap();
        let got: Vec<(&str, f64)> = found
            .iter()
            .map(|m| (m.url.as_str(), m.similarity))
            .collect();
        assert_eq!(
            got,
            [
                ("https://a.vn/nearer", 60.0 / 64.0),
                ("https://a.vn/near", 44.0 / 64.0)
            ]
        );
    }

    #[test]
    fn colliding_ids_share_entries_safely() {
        // Two URLs under one id, as after an xxh3 collision (which cannot be forced through
        // the public API): the record codec keeps both, and removing one of two equal
        // signatures must leave the shared bucket entries alone.
        let a = sig(ARTICLE);
        let record: Bucket = vec![
            ("https://x.vn/1".into(), a.clone()),
            ("https://x.vn/2".into(), a.clone()),
        ];
        let bytes = encode_record(&record);
        assert_eq!(decode_record(7, &bytes).unwrap(), record);
        assert!(own_bands(&record, "https://x.vn/1", &a).is_empty());
        assert_eq!(own_bands(&record[..1], "https://x.vn/1", &a).len(), BANDS);
        assert!(decode_record(7, &bytes[..bytes.len() - 1]).is_err());
    }

    /// The tree's contents with each bucket's entries as a set (their order depends on the
    /// order of insertion).
    fn dump(idx: &NearDupIndex) -> BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> {
        idx.tree
            .iter()
            .map(|kv| {
                let (k, v) = kv.unwrap();
                let set = if k[0] == BAND {
                    entries(&v).map(|e| e.to_vec()).collect()
                } else {
                    BTreeSet::from([v.to_vec()])
                };
                (k.to_vec(), set)
            })
            .collect()
    }

    #[test]
    fn after_updates_the_index_equals_a_fresh_load() {
        let arts = [
            ("https://tinhuyhaiduong.vn/a", sig(ARTICLE)),
            ("https://baohaiduong.vn/b", sig(&republished())),
            ("https://tinhuyhaiduong.vn/c", sig(OTHER)),
            (
                "https://tinhuyhaiduong.vn/d",
                sig(&OTHER.replace("1.437", "1.573")),
            ),
        ];
        let idx = temp_index();
        for (u, s) in &arts {
            idx.insert(u, s).unwrap();
        }
        // Churn: replace, remove, re-add.
        idx.insert(arts[1].0, &arts[2].1).unwrap();
        idx.remove(arts[3].0).unwrap();
        idx.insert(arts[1].0, &arts[1].1).unwrap();
        idx.remove(arts[0].0).unwrap();
        idx.insert(arts[3].0, &arts[3].1).unwrap();

        let fresh = temp_index();
        fresh
            .load(arts[1..].iter().map(|(u, s)| (*u, s.clone())))
            .unwrap();
        assert_eq!(dump(&idx), dump(&fresh));
        // Empty buckets are removed, not left behind.
        assert!(idx.tree.iter().all(|kv| !kv.unwrap().1.is_empty()));
        for (u, s) in &arts[1..] {
            assert_eq!(idx.lookup(u, s).unwrap(), fresh.lookup(u, s).unwrap());
        }
        assert_eq!(fresh.lookup_url(arts[3].0).unwrap()[0].url, arts[2].0);
        assert!(fresh.load([("https://x.vn/", sig(ARTICLE))]).is_err());
    }

    /// Signatures that share some bands with `base` (the first `keep` min-hashes) and
    /// differ in the rest: replacing one by another keeps some bucket entries and moves
    /// the others.
    fn variant(base: &Signature, keep: usize, salt: u16) -> Signature {
        let mut s = base.clone();
        for (i, h) in s.0.iter_mut().enumerate().skip(keep) {
            *h = h.wrapping_add(salt).wrapping_mul(31).wrapping_add(i as u16);
        }
        s
    }

    #[test]
    fn bulk_apply_equals_updates_one_by_one_and_can_be_repeated() {
        let a = sig(ARTICLE);
        let sigs = [
            a.clone(),
            sig(&republished()),
            sig(OTHER),
            variant(&a, 9, 1),
            variant(&a, 30, 2),
            variant(&sig(OTHER), 3, 3),
        ];
        let urls: Vec<String> = (0..7)
            .map(|i| format!("https://tinhuyhaiduong.vn/tin-tuc/bai-{i}.html"))
            .collect();
        // Rounds of changes, as crawls would leave them: new texts, edited texts (some
        // bands kept), texts gone too short, unchanged texts marked again.
        let rounds: Vec<Vec<(usize, Option<usize>)>> = vec![
            vec![
                (0, Some(0)),
                (1, Some(1)),
                (2, Some(2)),
                (3, Some(3)),
                (4, None),
            ],
            vec![
                (0, Some(4)),
                (1, None),
                (5, Some(5)),
                (2, Some(2)),
                (6, Some(3)),
            ],
            vec![
                (0, Some(0)),
                (3, Some(5)),
                (5, None),
                (1, Some(1)),
                (6, Some(3)),
            ],
        ];
        let one_by_one = temp_index();
        let bulk = temp_index();
        for round in &rounds {
            let changes: Vec<(String, Option<Signature>)> = round
                .iter()
                .map(|&(u, s)| (urls[u].clone(), s.map(|s| sigs[s].clone())))
                .collect();
            for (u, s) in &changes {
                match s {
                    Some(s) => one_by_one.insert(u, s).unwrap(),
                    None => {
                        one_by_one.remove(u).unwrap();
                    }
                }
            }
            // A crash after the buckets were written but before the records: the records
            // as they were, the buckets as apply left them. Applying again completes it.
            let records_before: Vec<(Vec<u8>, Vec<u8>)> = bulk
                .tree
                .scan_prefix([REC])
                .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
                .collect();
            bulk.apply(changes.clone()).unwrap();
            for kv in bulk.tree.scan_prefix([REC]) {
                bulk.tree.remove(kv.unwrap().0).unwrap();
            }
            for (k, v) in &records_before {
                bulk.tree.insert(k, v.as_slice()).unwrap();
            }
            bulk.apply(changes.clone()).unwrap();
            assert_eq!(dump(&bulk), dump(&one_by_one));
            // And once more, as after a crash before the marks were cleared.
            bulk.apply(changes).unwrap();
            assert_eq!(dump(&bulk), dump(&one_by_one));
        }
        assert!(bulk.tree.iter().all(|kv| !kv.unwrap().1.is_empty()));
        for u in &urls {
            assert_eq!(
                bulk.lookup_url(u).unwrap(),
                one_by_one.lookup_url(u).unwrap()
            );
        }
        // A URL given twice keeps its last change.
        let twice = temp_index();
        twice
            .apply(vec![
                (urls[0].clone(), Some(sigs[0].clone())),
                (urls[0].clone(), Some(sigs[2].clone())),
            ])
            .unwrap();
        assert_eq!(twice.get(&urls[0]).unwrap(), Some(sigs[2].clone()));
        let single = temp_index();
        single.insert(&urls[0], &sigs[2]).unwrap();
        assert_eq!(dump(&twice), dump(&single));
    }

    #[test]
    fn signature_bytes_round_trip() {
        let a = sig(ARTICLE);
        assert_eq!(a.to_bytes().len(), SIG_BYTES);
        assert_eq!(Signature::from_bytes(&a.to_bytes()), Some(a.clone()));
        assert_eq!(Signature::from_bytes(&a.to_bytes()[1..]), None);
        assert_eq!(Signature::from_bytes(&[]), None);
    }
}
