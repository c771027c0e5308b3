//! Search and export benchmark over a synthetic store of Vietnamese-like articles.
//!
//! `cargo bench --bench search`
//!
//! Environment:
//! - `LUUTRU_BENCH_ARTICLES` (default 100000): articles in the store; one in ten has a second
//!   version.
//! - `LUUTRU_BENCH_DIR` (default `/dev/shm/luutru-bench-search` when `/dev/shm` exists, else
//!   `target/luutru-bench-search`): where the store is built. It is kept and reused by the
//!   next run with the same article count (`LUUTRU_BENCH_REBUILD=1` forces a rebuild). The
//!   store's WARC writer fsyncs every capture, as it must in a crawl; on this machine's disk
//!   that is ~5 ms each, so the default builds in tmpfs, where fsync costs nothing.
//! - `LUUTRU_BENCH_STEPS` (default `search,as_of,export`): which measurements to run.
//!
//! Steps: build the store through the public `Store` API (archive + commit per page), build
//! the index (`SearchIndex::rebuild`), time `search` in-process for several query classes
//! (p50 / p99 / max, 20 hits with snippets each), time `search_as_of` (a full scan), then run
//! each export in a child process (so its peak RSS, VmHWM, is its own) and report MB/s.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use luutru::config::PageKind;
use luutru::dedup::content_hash;
use luutru::export::{export, ExportFormat, ExportOptions};
use luutru::extract::Extracted;
use luutru::query::{parse_date_bound, Filter};
use luutru::search::{fold, search_as_of, SearchIndex, SearchOrder};
use luutru::store::model::{FrontierEntry, FrontierState};
use luutru::store::warc::Exchange;
use luutru::store::{ArticleStore, Commit, EnqueuePolicy, FetchedArticle, Store};

const SITES: usize = 10;
const HITS: usize = 20;
const QUERIES_PER_CLASS: usize = 100;

const SYLLABLES: &[&str] = &[
    "của",
    "và",
    "các",
    "là",
    "có",
    "được",
    "trong",
    "cho",
    "với",
    "người",
    "những",
    "đã",
    "năm",
    "này",
    "một",
    "không",
    "tại",
    "để",
    "công",
    "tác",
    "tỉnh",
    "huyện",
    "xã",
    "thành",
    "phố",
    "nhân",
    "dân",
    "phát",
    "triển",
    "kinh",
    "tế",
    "hội",
    "đảng",
    "bộ",
    "chính",
    "quyền",
    "cán",
    "nghị",
    "tổ",
    "chức",
    "thực",
    "hiện",
    "kế",
    "hoạch",
    "nông",
    "nghiệp",
    "sản",
    "xuất",
    "đầu",
    "tư",
    "dự",
    "án",
    "giao",
    "thông",
    "đường",
    "giáo",
    "dục",
    "học",
    "sinh",
    "trường",
    "y",
    "bệnh",
    "viện",
    "văn",
    "hóa",
    "du",
    "lịch",
    "an",
    "ninh",
    "trật",
    "tự",
    "quốc",
    "phòng",
    "môi",
    "khoa",
    "nghệ",
    "doanh",
    "lao",
    "động",
    "việc",
    "làm",
    "thu",
    "nhập",
    "chương",
    "trình",
    "mục",
    "tiêu",
    "thôn",
    "mới",
    "giảm",
    "nghèo",
    "bền",
    "vững",
    "camera",
    "giám",
    "sát",
    "số",
    "chuyển",
    "đổi",
    "điện",
    "tử",
    "hành",
    "cải",
    "cách",
    "thủ",
    "tục",
    "ủy",
    "ban",
    "mặt",
    "trận",
    "thanh",
    "niên",
    "phụ",
    "nữ",
    "cựu",
    "chiến",
    "binh",
    "lãnh",
    "đạo",
    "chỉ",
    "kiểm",
    "tra",
    "đốc",
    "sở",
    "phó",
    "chủ",
    "tịch",
    "bí",
    "thư",
    "thường",
    "trực",
    "đồng",
    "quyết",
    "định",
    "ngân",
    "sách",
    "tài",
    "thuế",
    "đất",
    "đai",
    "xây",
    "dựng",
    "quy",
    "khu",
    "cụm",
    "làng",
    "nghề",
    "vải",
    "thiều",
    "lúa",
    "gạo",
    "thủy",
    "chăn",
    "nuôi",
    "dịch",
    "chống",
    "thiên",
    "tai",
    "bão",
    "lũ",
    "mưa",
    "hạn",
    "hán",
    "biển",
    "đảo",
    "biên",
    "giới",
    "cửa",
    "khẩu",
    "tháng",
    "ngày",
    "tuần",
    "quý",
    "sáng",
    "chiều",
    "tối",
    "hôm",
    "nay",
    "qua",
    "đến",
    "từ",
    "theo",
    "về",
    "trên",
    "dưới",
    "sau",
    "trước",
    "khi",
    "đó",
    "nhiều",
    "hơn",
    "rất",
    "cũng",
    "còn",
    "sẽ",
    "đang",
    "vừa",
    "chí",
    "ông",
    "bà",
    "anh",
    "chị",
    "em",
    "gia",
    "đình",
    "cộng",
    "bản",
    "phường",
    "thị",
    "trấn",
    "hoà",
    "thuỵ",
    "khoẻ",
    "lưu",
    "trữ",
    "điểm",
    "thí",
    "chức",
    "vụ",
];

const PLACES: &[&str] = &[
    "Chí Linh",
    "Đông Triều",
    "Hải Dương",
    "Quảng Ninh",
    "Lạng Sơn",
    "Cao Bằng",
    "Hà Giang",
    "Điện Biên",
    "Lai Châu",
    "Sơn La",
    "Yên Bái",
    "Tuyên Quang",
    "Thái Nguyên",
    "Bắc Giang",
    "Bắc Ninh",
    "Hưng Yên",
    "Thái Bình",
    "Nam Định",
    "Ninh Bình",
    "Thanh Hóa",
    "Nghệ An",
    "Hà Tĩnh",
    "Quảng Bình",
    "Quảng Trị",
    "Đà Nẵng",
    "Quảng Nam",
    "Quảng Ngãi",
    "Bình Định",
    "Phú Yên",
    "Khánh Hòa",
    "Gia Lai",
    "Kon Tum",
    "Đắk Lắk",
    "Lâm Đồng",
    "Tây Ninh",
    "Long An",
    "Bến Tre",
    "Trà Vinh",
    "Vĩnh Long",
    "Đồng Tháp",
    "An Giang",
    "Kiên Giang",
    "Cần Thơ",
    "Sóc Trăng",
    "Bạc Liêu",
    "Cà Mau",
];

const AUTHORS: &[&str] = &[
    "Nguyễn Văn Đức",
    "Trần Thị Hoa",
    "Lê Minh Tuấn",
    "Phạm Thu Hà",
    "Hoàng Văn Nam",
    "Vũ Thị Lan",
    "Đặng Quốc Việt",
    "Bùi Thanh Hương",
    "Đỗ Mạnh Hùng",
    "Ngô Thị Thủy",
];

/// One synthetic article, a pure function of its number (so queries can be drawn from
/// article text without reading the store).
struct Article {
    site: String,
    url: String,
    title: String,
    summary: String,
    author: String,
    body: String,
    published: DateTime<FixedOffset>,
}

struct Gen {
    words: WeightedIndex<f64>,
}

impl Gen {
    fn new() -> Gen {
        // Zipf-like: the n-th syllable is 1/n as frequent as the first.
        let weights: Vec<f64> = (1..=SYLLABLES.len()).map(|r| 1.0 / r as f64).collect();
        Gen {
            words: WeightedIndex::new(weights).expect("positive weights"),
        }
    }

    fn sentence(&self, rng: &mut StdRng, min: usize, max: usize) -> String {
        let n = rng.random_range(min..=max);
        let mut s = String::new();
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            if rng.random_bool(0.03) {
                s.push_str(PLACES[rng.random_range(0..PLACES.len())]);
            } else {
                let w = SYLLABLES[self.words.sample(rng)];
                if i == 0 {
                    let mut c = w.chars();
                    if let Some(first) = c.next() {
                        s.extend(first.to_uppercase());
                        s.push_str(c.as_str());
                    }
                } else {
                    s.push_str(w);
                }
            }
        }
        s
    }

    fn article(&self, i: usize, edited: bool) -> Article {
        let mut rng = StdRng::seed_from_u64(i as u64);
        let site = format!("site{:02}", i % SITES);
        let title = self.sentence(&mut rng, 8, 14);
        let summary = self.sentence(&mut rng, 15, 30) + ".";
        let author = AUTHORS[rng.random_range(0..AUTHORS.len())].to_string();
        let paragraphs: Vec<String> = (0..rng.random_range(4..=8))
            .map(|_| {
                (0..rng.random_range(3..=6))
                    .map(|_| self.sentence(&mut rng, 12, 25) + ".")
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let mut body = paragraphs.join("\n\n");
        if edited {
            body.push_str("\n\n");
            body.push_str(&self.sentence(&mut rng, 12, 25));
            body.push_str(" (cập nhật).");
        }
        let start = 1_514_739_600i64; // 2018-01-01T00:00:00+07:00
        let published = FixedOffset::east_opt(7 * 3600)
            .expect("valid offset")
            .timestamp_opt(start + rng.random_range(0..7 * 365 * 86_400i64), 0)
            .single()
            .expect("in range");
        Article {
            url: format!("http://{site}.test/tin-tuc/bai-{i:07}.html"),
            site,
            title,
            summary,
            author,
            body,
            published,
        }
    }
}

fn html(a: &Article) -> Vec<u8> {
    let mut s = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body>\
         <h1>{}</h1><p class=\"sapo\">{}</p><p class=\"author\">{}</p>",
        a.title, a.title, a.summary, a.author
    );
    for p in a.body.split("\n\n") {
        s.push_str("<p>");
        s.push_str(p);
        s.push_str("</p>");
    }
    s.push_str("</body></html>");
    s.into_bytes()
}

fn store_page(store: &Store, a: &Article, at: DateTime<Utc>) {
    let raw = html(a);
    let path = a.url.split_once(".test").map_or("/", |(_, p)| p);
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}.test\r\nUser-Agent: luutru-bench\r\n\r\n",
        a.site
    );
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        raw.len()
    );
    let ptr = store
        .archive(&Exchange {
            target_uri: &a.url,
            date: at,
            ip: None,
            request_head: request.as_bytes(),
            response_head: head.as_bytes(),
            body: &raw,
            revisit_of: None,
        })
        .expect("archive");
    let fields = Extracted {
        title: Some(a.title.clone()),
        published: Some(a.published),
        author: Some(a.author.clone()),
        summary: Some(a.summary.clone()),
        body: a.body.clone(),
        ..Extracted::default()
    };
    let entry = FrontierEntry {
        url: a.url.clone(),
        site: a.site.clone(),
        depth: 1,
        kind: PageKind::Article,
        state: FrontierState::Queued,
        run: 1,
        attempts: 0,
        last_error: None,
        queued: None,
    };
    let fa = FetchedArticle {
        site: a.site.clone(),
        fetched_url: a.url.clone(),
        declared_canonical: None,
        redirected_from: Vec::new(),
        key_hint: None,
        content_hash: content_hash(&fields),
        fields,
        http_status: 200,
        fetched_at: ptr.date,
        warc: ptr,
        etag: None,
        last_modified: None,
    };
    store
        .commit(
            &entry,
            &Commit::Article(Box::new(fa)),
            &[],
            EnqueuePolicy {
                run: 1,
                fresh_after: at,
                revisit_walk: false,
            },
        )
        .expect("commit");
}

fn build_store(dir: &Path, n: usize) -> Duration {
    let started = Instant::now();
    let store = Store::open(dir, "bench").expect("open store");
    let gen = Gen::new();
    for i in 0..n {
        let a = gen.article(i, false);
        let at = a.published.with_timezone(&Utc) + chrono::Duration::hours(1);
        store_page(&store, &a, at);
        if i % 10 == 9 {
            store_page(
                &store,
                &gen.article(i, true),
                at + chrono::Duration::days(30),
            );
        }
        if (i + 1) % 10_000 == 0 {
            eprintln!(
                "  {} articles, {:.0} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    store.flush().expect("flush");
    started.elapsed()
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) this process has used, from /proc (clock ticks of 1/100 s).
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Child mode: one export, then a JSON line with its numbers.
fn child(spec: &str, dir: &Path) {
    let parts: Vec<&str> = spec.split(':').collect();
    let [format, versions, site] = parts[..] else {
        panic!("bad child spec {spec}");
    };
    let store = Store::open(dir, "bench-export").expect("open store");
    let format = match format {
        "open" => {
            // Baseline: the store opened and walked, nothing written.
            let n = store.articles().count();
            println!("{{\"articles\":{n},\"vm_hwm_kb\":{}}}", vm_hwm_kb());
            return;
        }
        "jsonl" => ExportFormat::Jsonl,
        "csv" => ExportFormat::Csv,
        "warc" => ExportFormat::Warc,
        other => panic!("unknown format {other}"),
    };
    let opts = ExportOptions {
        format,
        filter: Filter {
            sites: if site == "-" {
                Vec::new()
            } else {
                vec![site.to_string()]
            },
            ..Filter::default()
        },
        all_versions: versions == "all",
    };
    let path = dir.join(format!("export.{}", parts[0]));
    let file = std::fs::File::create(&path).expect("create export file");
    let mut out = std::io::BufWriter::new(file);
    let started = Instant::now();
    let cpu_before = cpu_secs();
    let stats = export(&store, &store.warc_dir(), &opts, &mut out).expect("export");
    out.flush().expect("flush");
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu_before;
    drop(out);
    let _ = std::fs::remove_file(&path);
    println!(
        "{{\"secs\":{secs},\"cpu_secs\":{cpu},\"bytes\":{},\"records\":{},\"versions\":{},\"skipped\":{},\"vm_hwm_kb\":{}}}",
        stats.bytes,
        stats.records,
        stats.versions,
        stats.skipped,
        vm_hwm_kb()
    );
}

struct Class {
    name: &'static str,
    limit: usize,
    queries: Vec<(String, Filter, SearchOrder)>,
}

fn query_classes(n: usize) -> Vec<Class> {
    let gen = Gen::new();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let folded = |w: &str| fold(w);
    let common = |rng: &mut StdRng| folded(SYLLABLES[rng.random_range(0..40)]);
    let rare = |rng: &mut StdRng| {
        folded(SYLLABLES[rng.random_range(SYLLABLES.len() - 60..SYLLABLES.len())])
    };
    let all = Filter::default();
    let mut classes = Vec::new();
    let mut push = |name, f: &mut dyn FnMut(&mut StdRng) -> (String, Filter, SearchOrder)| {
        let queries = (0..QUERIES_PER_CLASS).map(|_| f(&mut rng)).collect();
        classes.push(Class {
            name,
            limit: HITS,
            queries,
        });
    };
    push("2 common words", &mut |r| {
        (
            format!("{} {}", common(r), common(r)),
            all.clone(),
            SearchOrder::Relevance,
        )
    });
    push("2 rare words", &mut |r| {
        (
            format!("{} {}", rare(r), rare(r)),
            all.clone(),
            SearchOrder::Relevance,
        )
    });
    push("place phrase", &mut |r| {
        (
            format!("\"{}\"", folded(PLACES[r.random_range(0..PLACES.len())])),
            all.clone(),
            SearchOrder::Relevance,
        )
    });
    push("3-word phrase from a body", &mut |r| {
        let a = gen.article(r.random_range(0..n), false);
        let words: Vec<&str> = a.body.split_whitespace().collect();
        let i = r.random_range(0..words.len().saturating_sub(3).max(1));
        let phrase = words[i..(i + 3).min(words.len())].join(" ");
        (
            format!("\"{}\"", fold(&phrase)),
            all.clone(),
            SearchOrder::Relevance,
        )
    });
    push("word -exclusion", &mut |r| {
        (
            format!("{} {} -{}", common(r), rare(r), common(r)),
            all.clone(),
            SearchOrder::Relevance,
        )
    });
    push("word + site + year", &mut |r| {
        let year = 2018 + r.random_range(0..7);
        let filter = Filter {
            sites: vec![format!("site{:02}", r.random_range(0..SITES))],
            since: Some(parse_date_bound(&year.to_string(), false).expect("year")),
            until: Some(parse_date_bound(&year.to_string(), true).expect("year")),
            ..Filter::default()
        };
        (common(r), filter, SearchOrder::Relevance)
    });
    push("2 common words, newest first", &mut |r| {
        (
            format!("{} {}", common(r), common(r)),
            all.clone(),
            SearchOrder::Newest,
        )
    });
    // The same common-word queries, one hit: the query alone, nearly without the cost of
    // loading stored hits and cutting snippets.
    let first = Class {
        name: "2 common words, 1 hit",
        limit: 1,
        queries: classes[0].queries.clone(),
    };
    classes.push(first);
    classes
}

fn main() {
    let n: usize = std::env::var("LUUTRU_BENCH_ARTICLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::var_os("LUUTRU_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            if Path::new("/dev/shm").is_dir() {
                PathBuf::from("/dev/shm/luutru-bench-search")
            } else {
                PathBuf::from("target/luutru-bench-search")
            }
        });
    if let Ok(spec) = std::env::var("LUUTRU_BENCH_CHILD") {
        child(&spec, &dir);
        return;
    }
    let marker = dir.join("bench-articles");
    let reuse = std::env::var_os("LUUTRU_BENCH_REBUILD").is_none()
        && std::fs::read_to_string(&marker)
            .ok()
            .and_then(|s| s.lines().next().map(|l| l.trim() == n.to_string()))
            .unwrap_or(false);
    let loadavg = || {
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into())
    };
    println!(
        "machine: {} cores, load average {} (other work on the machine inflates every number)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    println!("store: {} ({n} articles)", dir.display());
    if reuse {
        let note = std::fs::read_to_string(&marker).unwrap_or_default();
        println!(
            "  reusing the store built earlier ({})",
            note.lines().nth(1).unwrap_or("build time unknown")
        );
    } else {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create bench dir");
        let took = build_store(&dir, n);
        let note = format!(
            "{n}\nbuilt in {:.0} s: {} articles + {} second versions",
            took.as_secs_f64(),
            n,
            n / 10
        );
        std::fs::write(&marker, &note).expect("write marker");
        println!("  built in {:.1} s", took.as_secs_f64());
    }
    println!(
        "  size: WARC {:.0} MB, sled {:.0} MB",
        dir_bytes(&dir.join("warc")) as f64 / 1e6,
        dir_bytes(&dir.join("db")) as f64 / 1e6
    );

    let store = Store::open(&dir, "bench").expect("open store");
    let mut index = SearchIndex::open(&dir).expect("open index");
    if index.num_docs() != n as u64 {
        let started = Instant::now();
        let count = index.rebuild(&store).expect("rebuild");
        println!(
            "index rebuild: {count} articles in {:.1} s, {:.0} MB",
            started.elapsed().as_secs_f64(),
            dir_bytes(index.dir()) as f64 / 1e6
        );
    } else {
        println!(
            "index: reused ({} docs, {:.0} MB)",
            index.num_docs(),
            dir_bytes(index.dir()) as f64 / 1e6
        );
    }

    let steps =
        std::env::var("LUUTRU_BENCH_STEPS").unwrap_or_else(|_| "search,as_of,export".into());
    let step = |name: &str| steps.split(',').any(|s| s.trim() == name);
    if step("search") {
        search_latency(&index, &store, n);
    }
    if step("as_of") {
        as_of_latency(&store);
    }
    drop(index);
    drop(store);
    if step("export") {
        exports(&dir);
    }
    println!("load average at the end: {}", loadavg());
}

fn search_latency(index: &SearchIndex, store: &Store, n: usize) {
    println!(
        "\nsearch, in-process, {HITS} hits with snippets, {QUERIES_PER_CLASS} queries per class:"
    );
    println!(
        "{:<30} {:>8} {:>8} {:>8} {:>10}",
        "class", "p50 ms", "p99 ms", "max ms", "mean hits"
    );
    let classes = query_classes(n);
    // Warm-up: the first queries page the index in.
    for c in &classes {
        for (q, f, o) in c.queries.iter().take(5) {
            index
                .search_ordered(store, q, f, c.limit, *o)
                .expect("search");
        }
    }
    let mut all_times = Vec::new();
    for c in &classes {
        let mut times = Vec::with_capacity(c.queries.len());
        let mut hits = 0;
        for (q, f, o) in &c.queries {
            let started = Instant::now();
            let found = index
                .search_ordered(store, q, f, c.limit, *o)
                .expect("search");
            times.push(started.elapsed());
            hits += found.len();
        }
        times.sort();
        println!(
            "{:<30} {:>8.2} {:>8.2} {:>8.2} {:>10.1}",
            c.name,
            ms(percentile(&times, 50)),
            ms(percentile(&times, 99)),
            ms(*times.last().expect("queries")),
            hits as f64 / c.queries.len() as f64
        );
        all_times.extend(times);
    }
    all_times.sort();
    println!(
        "{:<30} {:>8.2} {:>8.2} {:>8.2}",
        "all",
        ms(percentile(&all_times, 50)),
        ms(percentile(&all_times, 99)),
        ms(*all_times.last().expect("queries"))
    );
}

fn as_of_latency(store: &Store) {
    println!("\nsearch_as_of (full scan of the store):");
    let as_of: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339("2022-01-01T00:00:00+07:00").expect("date");
    for q in ["camera giam sat", "\"chi linh\"", "cong tac -dang"] {
        let started = Instant::now();
        let hits = search_as_of(store, q, as_of, &Filter::default(), HITS).expect("as of");
        println!(
            "  {:<20} {:>6.2} s, {} hits",
            q,
            started.elapsed().as_secs_f64(),
            hits.len()
        );
    }
}

fn exports(dir: &Path) {
    println!("\nexports (each in its own process; peak RSS = VmHWM of that process):");
    let exe = std::env::current_exe().expect("current exe");
    let run = |spec: &str| -> serde_json::Value {
        let out = Command::new(&exe)
            .env("LUUTRU_BENCH_CHILD", spec)
            .env("LUUTRU_BENCH_DIR", dir)
            .output()
            .expect("run child");
        assert!(
            out.status.success(),
            "{spec}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("child JSON")
    };
    let base = run("open:latest:-");
    println!(
        "  baseline (open store, walk articles): peak RSS {:.0} MB",
        base["vm_hwm_kb"].as_f64().unwrap_or(0.0) / 1024.0
    );
    println!(
        "  {:<22} {:>8} {:>6} {:>7} {:>6} {:>7} {:>10} {:>8}",
        "export", "records", "MB", "wall s", "MB/s", "CPU s", "MB/CPU-s", "peak MB"
    );
    for (label, spec) in [
        ("jsonl latest", "jsonl:latest:-"),
        ("csv latest", "csv:latest:-"),
        ("warc latest", "warc:latest:-"),
        ("warc all versions", "warc:all:-"),
        ("warc one site (1/10)", "warc:all:site03"),
    ] {
        let r = run(spec);
        let mb = r["bytes"].as_f64().unwrap_or(0.0) / 1e6;
        let secs = r["secs"].as_f64().unwrap_or(0.0);
        let cpu = r["cpu_secs"].as_f64().unwrap_or(0.0);
        println!(
            "  {:<22} {:>8} {:>6.0} {:>7.1} {:>6.0} {:>7.1} {:>10.0} {:>8.0}",
            label,
            r["records"],
            mb,
            secs,
            mb / secs.max(1e-9),
            cpu,
            mb / cpu.max(1e-9),
            r["vm_hwm_kb"].as_f64().unwrap_or(0.0) / 1024.0
        );
        assert_eq!(r["skipped"], 0, "{label}: captures skipped");
    }
}
