//! Near-duplicate index benchmark: signature time of a real-length article, and lookup time
//! in indexes of 100k and 1M articles.
//!
//! `cargo bench --bench neardup` (about 4 minutes on 2 cores, most of it building the 1M
//! index; `LUUTRU_NEARDUP_SIZES=100k cargo bench --bench neardup` skips the 1M index).
//!
//! The indexed signatures are synthetic and loaded with `NearDupIndex::load` (the bulk load
//! of an empty index; the one-article path, `insert`, is timed on the loaded index):
//! - background articles: independent random min-hashes, i.e. articles sharing no text;
//! - "same topic" clusters (1% of the articles, 10 per cluster): each shares a random 25% of
//!   its min-hashes with the cluster's base, so they collide on some bands and cost the
//!   lookup a candidate check without being near-duplicates (Jaccard ≈ 0.25);
//! - 1000 planted near pairs: the copy keeps 80% of the original's min-hashes (Jaccard ≈ 0.8,
//!   like a republication with a "Theo …" line and an edited sentence).
//!
//! Measured: lookup of a planted article (finds its partner), of a cluster member (candidates
//! rejected), of a fresh random signature (no candidate), and the insert of a new article.
//! Computing 1M signatures from real text would take longer than the lookups and test
//! nothing more about the index; the signature of one real article is timed separately.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use luutru::neardup::{signature, NearDupIndex, Signature, MIN_SIMILARITY, NUM_HASHES};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ARTICLE: &str = include_str!("neardup_article.txt");
const PLANTED_PAIRS: usize = 1000;
const CLUSTER_SIZE: usize = 10;

fn random_sig(rng: &mut StdRng) -> [u16; NUM_HASHES] {
    std::array::from_fn(|_| rng.random())
}

/// `base` with each min-hash kept with probability `keep`, else replaced by a random one.
fn derived(base: &[u16; NUM_HASHES], keep: f64, rng: &mut StdRng) -> [u16; NUM_HASHES] {
    std::array::from_fn(|i| {
        if rng.random_bool(keep) {
            base[i]
        } else {
            rng.random()
        }
    })
}

struct Built {
    index: NearDupIndex,
    /// The planted originals, each with its copy's URL.
    planted: Vec<(String, Signature, String)>,
    cluster_members: Vec<(String, Signature)>,
    dir: PathBuf,
    _db: sled::Db,
}

fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn url(i: usize) -> String {
    format!("https://baohaiduong.vn/tin-tuc/bai-viet-so-{i}.html")
}

/// All articles, the planted originals (with their copy's URL), one member per cluster.
type Synthetic = (
    Vec<(String, Signature)>,
    Vec<(String, Signature, String)>,
    Vec<(String, Signature)>,
);

/// The synthetic archive: planted pairs first, then the clusters, then the background.
fn articles(n: usize) -> Synthetic {
    let mut rng = StdRng::seed_from_u64(n as u64);
    let mut all = Vec::with_capacity(n);
    let mut planted = Vec::new();
    let mut cluster_members = Vec::new();
    let clustered = n / 100;
    while all.len() < n {
        let i = all.len();
        if planted.len() < PLANTED_PAIRS {
            let a = random_sig(&mut rng);
            let b = derived(&a, 0.8, &mut rng);
            let (a, b) = (Signature::from_hashes(a), Signature::from_hashes(b));
            planted.push((url(i), a.clone(), url(i + 1)));
            all.push((url(i), a));
            all.push((url(i + 1), b));
        } else if i < PLANTED_PAIRS * 2 + clustered {
            let base = random_sig(&mut rng);
            for j in 0..CLUSTER_SIZE {
                let s = Signature::from_hashes(derived(&base, 0.25, &mut rng));
                if j == 0 {
                    cluster_members.push((url(i), s.clone()));
                }
                all.push((url(i + j), s));
            }
        } else {
            all.push((url(i), Signature::from_hashes(random_sig(&mut rng))));
        }
    }
    (all, planted, cluster_members)
}

fn build(n: usize, label: &str) -> Built {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("neardup-bench-{label}"));
    let _ = std::fs::remove_dir_all(&dir);
    // The store's own sled settings, so the numbers are the crawler's.
    let db = sled::Config::new()
        .path(&dir)
        .cache_capacity(luutru::store::DEFAULT_CACHE_BYTES)
        .temporary(true)
        .open()
        .expect("bench sled db opens");
    let index = NearDupIndex::new(db.open_tree("neardup").expect("tree opens"));
    let (all, planted, cluster_members) = articles(n);
    let started = Instant::now();
    index.load(all).expect("bulk load");
    db.flush().expect("flush");
    eprintln!(
        "neardup: loaded {label} index ({n} articles) in {:.1}s, {:.0} MiB on disk",
        started.elapsed().as_secs_f64(),
        dir_size(&dir) as f64 / (1024.0 * 1024.0)
    );
    Built {
        index,
        planted,
        cluster_members,
        dir,
        _db: db,
    }
}

fn bench_signature(c: &mut Criterion) {
    let words = ARTICLE.split_whitespace().count();
    c.bench_function(&format!("signature/article-{words}-syllables"), |b| {
        b.iter(|| signature(std::hint::black_box(ARTICLE)))
    });
}

fn bench_lookup(c: &mut Criterion) {
    for (n, label) in [(100_000usize, "100k"), (1_000_000, "1M")] {
        // The 1M build takes most of the run; `LUUTRU_NEARDUP_SIZES=100k` skips it.
        let sizes = std::env::var("LUUTRU_NEARDUP_SIZES").unwrap_or_else(|_| "100k,1M".into());
        if !sizes.split(',').any(|s| s.trim() == label) {
            continue;
        }
        let built = build(n, label);
        // Correctness first: every planted copy is found, and nothing below the threshold.
        for (a_url, a, b_url) in &built.planted {
            let found = built.index.lookup(a_url, a).expect("lookup");
            assert!(
                found.iter().any(|m| &m.url == b_url),
                "planted copy of {a_url} not found"
            );
            assert!(found.iter().all(|m| m.similarity >= MIN_SIMILARITY));
        }
        let mut group = c.benchmark_group(format!("lookup/{label}"));
        group
            .sample_size(30)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        let mut k = 0usize;
        group.bench_function("planted-pair", |b| {
            b.iter(|| {
                let (u, s, _) = &built.planted[k % built.planted.len()];
                k += 1;
                built.index.lookup(u, s).expect("lookup")
            })
        });
        let mut k = 0usize;
        group.bench_function("same-topic-cluster", |b| {
            b.iter(|| {
                let (u, s) = &built.cluster_members[k % built.cluster_members.len()];
                k += 1;
                built.index.lookup(u, s).expect("lookup")
            })
        });
        let mut rng = StdRng::seed_from_u64(42);
        let fresh: Vec<Signature> = (0..1000)
            .map(|_| Signature::from_hashes(random_sig(&mut rng)))
            .collect();
        let mut k = 0usize;
        group.bench_function("unrelated", |b| {
            b.iter(|| {
                let s = &fresh[k % fresh.len()];
                k += 1;
                built
                    .index
                    .lookup("https://other.vn/new", s)
                    .expect("lookup")
            })
        });
        // One new article indexed: one sled transaction (12 bucket updates and the record).
        let mut k = 0usize;
        group.bench_function("insert", |b| {
            b.iter(|| {
                k += 1;
                let s = Signature::from_hashes(random_sig(&mut rng));
                built
                    .index
                    .insert(&format!("https://other.vn/new-{k}"), &s)
                    .expect("insert")
            })
        });
        group.finish();
        let dir = built.dir.clone();
        drop(built);
        let _ = std::fs::remove_dir_all(dir);
    }
}

criterion_group!(benches, bench_signature, bench_lookup);
criterion_main!(benches);
