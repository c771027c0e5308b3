//! Near-duplicates across sites: the same article republished elsewhere with small edits
//! (a newspaper copying a Party portal article, adding a "Theo …" line, changing a figure).
//! Such pairs are linked, never merged.
//!
//! **Why MinHash and not SimHash.** Measured on a realistic pair (the tests below: a 480-word
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
//!   [`key_form`](crate::extract::key_form), [`NUM_HASHES`] min-hashes of them.
//! - [`similarity`]: the Jaccard estimate of two signatures.
//! - [`NearDupIndex`]: a `sled::Tree` holding each article's signature and [`BANDS`] band
//!   keys; [`NearDupIndex::lookup`] scans the band keys of a signature and confirms the
//!   candidates against [`MIN_SIMILARITY`].

use std::collections::BTreeSet;

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
/// √(J(1−J)/64) ≈ 0.06 at J = 0.5.
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

/// The min-hashes of one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature([u32; NUM_HASHES]);

impl Signature {
    /// A signature from stored hashes (as [`hashes`](Self::hashes) gave them).
    pub fn from_hashes(hashes: [u32; NUM_HASHES]) -> Self {
        Signature(hashes)
    }

    pub fn hashes(&self) -> &[u32; NUM_HASHES] {
        &self.0
    }

    /// The key of band `b`: its [`ROWS`] hashes hashed together.
    fn band(&self, b: usize) -> u64 {
        let mut bytes = [0u8; ROWS * 4];
        for (i, h) in self.0[b * ROWS..(b + 1) * ROWS].iter().enumerate() {
            bytes[i * 4..i * 4 + 4].copy_from_slice(&h.to_le_bytes());
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
    let mut mins = [u32::MAX; NUM_HASHES];
    let mut buf = [0u8; SHINGLE * 8];
    for w in sylls.windows(SHINGLE) {
        for (i, h) in w.iter().enumerate() {
            buf[i * 8..i * 8 + 8].copy_from_slice(&h.to_le_bytes());
        }
        let x = xxh3_64(&buf);
        for (m, seed) in mins.iter_mut().zip(SEEDS) {
            // The high half: the best-mixed bits of the finaliser.
            let v = (mix(x ^ seed) >> 32) as u32;
            if v < *m {
                *m = v;
            }
        }
    }
    Some(Signature(mins))
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

/// The index, in one `sled::Tree` of its own:
///
/// - `r` + id → the signatures of the URLs with that id (one, barring a hash collision):
///   repeated `[u16 LE url length][url][NUM_HASHES × u32 LE]`.
/// - `b` + band number + band key (u64 BE) + id → empty. A lookup is one prefix scan per
///   band.
///
/// The id is xxh3 of the URL, so a band key is 18 bytes whatever the URL's length; at 1M
/// articles that is 12M keys of 18 bytes instead of 12M copies of a URL.
pub struct NearDupIndex {
    tree: sled::Tree,
}

const REC: u8 = b'r';
const BAND: u8 = b'b';
const ENTRY_SIG_LEN: usize = NUM_HASHES * 4;

fn url_id(url: &str) -> u64 {
    xxh3_64(url.as_bytes())
}

fn rec_key(id: u64) -> [u8; 9] {
    let mut k = [REC; 9];
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

fn band_prefix(band: usize, key: u64) -> [u8; 10] {
    let mut k = [BAND; 10];
    // BANDS < 256: checked below.
    k[1] = band as u8;
    k[2..].copy_from_slice(&key.to_be_bytes());
    k
}

const _: () = assert!(BANDS < 256);

fn band_key(band: usize, key: u64, id: u64) -> [u8; 18] {
    let mut k = [0u8; 18];
    k[..10].copy_from_slice(&band_prefix(band, key));
    k[10..].copy_from_slice(&id.to_be_bytes());
    k
}

type Bucket = Vec<(String, Signature)>;

fn decode_bucket(id: u64, bytes: &[u8]) -> Result<Bucket> {
    let corrupt = |message: &str| Error::CorruptRecord {
        key: format!("neardup r{id:016x}"),
        message: message.to_string(),
    };
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or_else(|| corrupt("truncated URL length"))?;
        let len = u16::from_le_bytes(*len) as usize;
        if tail.len() < len + ENTRY_SIG_LEN {
            return Err(corrupt("truncated entry"));
        }
        let url = std::str::from_utf8(&tail[..len])
            .map_err(|_| corrupt("URL is not UTF-8"))?
            .to_string();
        let mut sig = [0u32; NUM_HASHES];
        for (i, h) in sig.iter_mut().enumerate() {
            let at = len + i * 4;
            *h = u32::from_le_bytes([tail[at], tail[at + 1], tail[at + 2], tail[at + 3]]);
        }
        out.push((url, Signature(sig)));
        rest = &tail[len + ENTRY_SIG_LEN..];
    }
    Ok(out)
}

fn encode_bucket(bucket: &Bucket) -> Vec<u8> {
    let mut out = Vec::with_capacity(bucket.len() * (2 + 100 + ENTRY_SIG_LEN));
    for (url, sig) in bucket {
        // URLs longer than 64 KiB are refused at insert; see `check_url`.
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

/// The band keys of `sig` that no other entry of the bucket also holds (a URL-id collision
/// shares the id part of the key).
fn own_band_keys(bucket: &Bucket, url: &str, sig: &Signature, id: u64) -> Vec<[u8; 18]> {
    (0..BANDS)
        .filter(|&b| {
            let k = sig.band(b);
            !bucket.iter().any(|(u, s)| u != url && s.band(b) == k)
        })
        .map(|b| band_key(b, sig.band(b), id))
        .collect()
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
        let mut bucket = match tx.get(rk)? {
            Some(v) => decode_bucket(id, &v).map_err(abort)?,
            None => Vec::new(),
        };
        if let Some(pos) = bucket.iter().position(|(u, _)| u == url) {
            if &bucket[pos].1 == sig {
                return Ok(());
            }
            for k in own_band_keys(&bucket, url, &bucket[pos].1, id) {
                tx.remove(&k[..])?;
            }
            bucket.remove(pos);
        }
        for k in own_band_keys(&bucket, url, sig, id) {
            tx.insert(&k[..], &[][..])?;
        }
        bucket.push((url.to_string(), sig.clone()));
        tx.insert(&rk[..], encode_bucket(&bucket))?;
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
        let mut bucket = decode_bucket(id, &v).map_err(abort)?;
        let Some(pos) = bucket.iter().position(|(u, _)| u == url) else {
            return Ok(false);
        };
        for k in own_band_keys(&bucket, url, &bucket[pos].1, id) {
            tx.remove(&k[..])?;
        }
        bucket.remove(pos);
        if bucket.is_empty() {
            tx.remove(&rk[..])?;
        } else {
            tx.insert(&rk[..], encode_bucket(&bucket))?;
        }
        Ok(true)
    }

    /// The signature stored for `url`.
    pub fn get(&self, url: &str) -> Result<Option<Signature>> {
        let id = url_id(url);
        let Some(v) = self.tree.get(rec_key(id))? else {
            return Ok(None);
        };
        Ok(decode_bucket(id, &v)?
            .into_iter()
            .find(|(u, _)| u == url)
            .map(|(_, s)| s))
    }

    /// Indexed articles at [`MIN_SIMILARITY`] or more from `sig`, `url` itself left out,
    /// most similar first (ties by URL). `url` need not be indexed.
    pub fn lookup(&self, url: &str, sig: &Signature) -> Result<Vec<NearMatch>> {
        let mut ids = BTreeSet::new();
        for b in 0..BANDS {
            for kv in self.tree.scan_prefix(band_prefix(b, sig.band(b))) {
                let (k, _) = kv?;
                let id = k
                    .get(10..18)
                    .and_then(|s| <[u8; 8]>::try_from(s).ok())
                    .ok_or_else(|| Error::CorruptRecord {
                        key: format!("neardup band key {:?}", &k[..]),
                        message: "not 18 bytes".into(),
                    })?;
                ids.insert(u64::from_be_bytes(id));
            }
        }
        let mut out = Vec::new();
        for id in ids {
            let Some(v) = self.tree.get(rec_key(id))? else {
                return Err(Error::CorruptRecord {
                    key: format!("neardup r{id:016x}"),
                    message: "band key without a signature record".into(),
                });
            };
            for (u, s) in decode_bucket(id, &v)? {
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
        // Only the two remaining articles' records and band keys are left.
        assert_eq!(idx.tree.len(), 2 * (1 + BANDS));
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
    fn colliding_ids_share_a_bucket_safely() {
        // Two URLs in one bucket, as after an xxh3 collision: built by hand through the
        // transaction API with a forced id is not possible, so check the bucket codec and
        // the band-key sharing rule directly.
        let a = sig(ARTICLE);
        let bucket: Bucket = vec![
            ("https://x.vn/1".into(), a.clone()),
            ("https://x.vn/2".into(), a.clone()),
        ];
        let bytes = encode_bucket(&bucket);
        assert_eq!(decode_bucket(7, &bytes).unwrap(), bucket);
        // Removing one of two identical signatures must keep the shared band keys.
        assert!(own_band_keys(&bucket, "https://x.vn/1", &a, 7).is_empty());
        assert!(decode_bucket(7, &bytes[..bytes.len() - 1]).is_err());
    }
}
