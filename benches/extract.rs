//! Extraction benchmark: quality and speed of the article extractor on the public
//! article-extraction benchmark (181 pages with ground truth, MIT), one thread.
//!
//! `cargo bench --bench extract [-- --rounds N] [-- --data DIR]`
//!
//! The data is read from `../shared/benchmarks/article-extraction/` next to the repository
//! (or `--data DIR`, or `$LUUTRU_BENCH_DATA`); it is 7 MiB, so it is not copied into the
//! repository. For each path (generic = no selectors; selectors = a fixed selector set) it
//! writes `target/extract-bench/<path>.json` in the form `score.py` reads, runs `score.py`
//! when python3 is there, and prints pages per second (best of the rounds; parsing and
//! extraction included, decoding bytes to text excluded).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use luutru::extract::{decode_html, parse_page, SelectorSpec, SiteSelectors};

struct Page {
    id: String,
    url: url::Url,
    html: String,
}

fn load(dir: &Path) -> Result<Vec<Page>, String> {
    let truth_path = dir.join("ground-truth.json");
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&truth_path)
            .map_err(|e| format!("{}: {e}", truth_path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", truth_path.display()))?;
    let obj = truth
        .as_object()
        .ok_or_else(|| format!("{}: not an object", truth_path.display()))?;
    let mut pages = Vec::with_capacity(obj.len());
    for (id, rec) in obj {
        let path = dir.join("html").join(format!("{id}.html.gz"));
        let gz = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let url = rec
            .get("url")
            .and_then(|u| u.as_str())
            .and_then(|u| url::Url::parse(u).ok())
            .unwrap_or_else(|| url::Url::parse("http://example.invalid/").expect("static URL"));
        pages.push(Page {
            id: id.clone(),
            url,
            html: decode_html(&bytes, None),
        });
    }
    pages.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(pages)
}

/// The fixed selector set of the selector path: what a site configuration holds. The body
/// selector is `body` with the page furniture removed, so that every page is measured on
/// the selector path (a body selector matching nothing would fall back to the generic
/// extractor and measure that instead).
fn fixed_selectors() -> SiteSelectors {
    let s = |t: &str| Some(SelectorSpec::parse(t).expect("static selector is valid"));
    SiteSelectors {
        title: s("h1"),
        date: s("time, .date"),
        body: s("body"),
        author: s("[rel=author], .author"),
        summary: s(".summary, .sapo, .description"),
        remove: [
            "nav",
            "header",
            "footer",
            "aside",
            "form",
            "figure",
            ".comments",
            ".related",
        ]
        .iter()
        .map(|t| SelectorSpec::parse(t).expect("static selector is valid"))
        .collect(),
    }
}

fn run(
    name: &str,
    pages: &[Page],
    selectors: &SiteSelectors,
    rounds: usize,
    out_dir: &Path,
    data: &Path,
) {
    let fetched_at =
        chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00+07:00").expect("static date");
    let mut best = f64::INFINITY;
    let mut predictions = serde_json::Map::new();
    let mut from_generic = 0;
    for round in 0..rounds {
        let start = Instant::now();
        for p in pages {
            let parsed = parse_page(&p.html, &p.url, selectors, true, fetched_at);
            if round == 0 {
                let a = parsed.article.unwrap_or_default();
                if a.sources.body.as_deref() == Some("generic") {
                    from_generic += 1;
                }
                // Captions are marked in `captions`; the benchmark's ground truth is the
                // running text without them.
                let text: Vec<&str> = a
                    .body
                    .split("\n\n")
                    .filter(|para| !a.captions.iter().any(|c| c == para))
                    .collect();
                predictions.insert(
                    p.id.clone(),
                    serde_json::json!({ "articleBody": text.join("\n\n") }),
                );
            } else {
                std::hint::black_box(parsed);
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let out = out_dir.join(format!("{name}.json"));
    if let Err(e) = std::fs::write(&out, serde_json::Value::Object(predictions).to_string()) {
        eprintln!("cannot write {}: {e}", out.display());
    }
    println!(
        "{name:>10}: {} pages in {:.3} s (best of {rounds}) = {:.0} pages/s; body from generic on {from_generic}",
        pages.len(),
        best,
        pages.len() as f64 / best
    );
    let score = std::process::Command::new("python3")
        .arg(data.join("score.py"))
        .arg(&out)
        .output();
    match score {
        Ok(o) if o.status.success() => {
            print!("{name:>10}: {}", String::from_utf8_lossy(&o.stdout))
        }
        _ => println!(
            "{name:>10}: score with python3 {} {}",
            data.join("score.py").display(),
            out.display()
        ),
    }
}

fn parse_only(pages: &[Page], rounds: usize) {
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let start = Instant::now();
        for p in pages {
            std::hint::black_box(scraper::Html::parse_document(&p.html));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{:>10}: {} pages in {best:.3} s (best of {rounds}) = {:.0} pages/s",
        "parse-only",
        pages.len(),
        pages.len() as f64 / best
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut rounds = 5;
    let mut data: Option<PathBuf> = std::env::var_os("LUUTRU_BENCH_DATA").map(PathBuf::from);
    let mut only: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(rounds),
            "--data" => data = args.next().map(PathBuf::from),
            "--only" => only = args.next(),
            // cargo bench passes --bench to every bench target.
            _ => {}
        }
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = data.unwrap_or_else(|| manifest.join("../shared/benchmarks/article-extraction"));
    let pages = match load(&data) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("extract bench: cannot load benchmark data: {e}\n(pass --data DIR or set LUUTRU_BENCH_DATA)");
            std::process::exit(2);
        }
    };
    let out_dir = manifest.join("target/extract-bench");
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        eprintln!("cannot create {}: {e}", out_dir.display());
    }
    let want = |n: &str| only.as_deref().is_none_or(|o| o == n);
    if want("parse") {
        parse_only(&pages, rounds);
    }
    if want("generic") {
        run(
            "generic",
            &pages,
            &SiteSelectors::default(),
            rounds,
            &out_dir,
            &data,
        );
    }
    if want("selectors") {
        run(
            "selectors",
            &pages,
            &fixed_selectors(),
            rounds,
            &out_dir,
            &data,
        );
    }
}
