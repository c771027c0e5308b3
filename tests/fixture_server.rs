//! Tests of the test harness itself: the fixture server serves the fixture sites as
//! described (routes, days, placeholders, validators, robots, faults, request log), and the
//! fixtures agree with their expected.toml and selectors.toml, so crawl tests that fail
//! point at luutru rather than at the fixtures.

mod common;

use std::collections::{BTreeSet, VecDeque};
use std::io::Read as _;
use std::time::{Duration, Instant};

use chrono::{FixedOffset, Utc};
use common::http::{self, HttpResponse};
use common::{expected, route_key, Fault, FixtureServer, Robots, SITES};
use regex::Regex;
use scraper::{ElementRef, Html, Selector};
use unicode_normalization::UnicodeNormalization;

const TINHUY_8601: &str = "/news/Pages/new.aspx?CateID=5&ItemID=8601";

/// The page's text decoded the way a browser would: HTTP charset, then `<meta>`, then
/// detection.
fn decode(resp: &HttpResponse) -> (String, &'static encoding_rs::Encoding) {
    let label = resp
        .header("content-type")
        .and_then(|ct| {
            ct.split(';')
                .find_map(|p| p.trim().strip_prefix("charset="))
        })
        .map(str::to_string)
        .or_else(|| meta_charset(&resp.body));
    let enc = match label.and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes())) {
        Some(e) => e,
        None => {
            let mut det = chardetng::EncodingDetector::new();
            det.feed(&resp.body, true);
            det.guess(None, true)
        }
    };
    let (text, _) = enc.decode_without_bom_handling(&resp.body);
    (text.into_owned(), enc)
}

fn meta_charset(body: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let label: String = head[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!label.is_empty()).then_some(label)
}

/// Text as luutru is meant to compare it: NFC, no-break and zero-width spaces cleaned,
/// whitespace collapsed.
fn clean(text: &str) -> String {
    let t: String = text
        .nfc()
        .filter(|c| !matches!(c, '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}'))
        .map(|c| if c == '\u{a0}' { ' ' } else { c })
        .collect();
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn element_text(el: ElementRef<'_>, remove: &[Selector]) -> String {
    let mut out = String::new();
    for node in el.descendants() {
        let Some(text) = node.value().as_text() else {
            continue;
        };
        let removed = node
            .ancestors()
            .any(|a| ElementRef::wrap(a).is_some_and(|e| remove.iter().any(|s| s.matches(&e))));
        if !removed {
            out.push_str(text);
        }
        out.push(' ');
    }
    clean(&out)
}

fn now_vn() -> chrono::DateTime<FixedOffset> {
    Utc::now().with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
}

#[test]
fn serves_pages_and_answers_404_for_unknown_paths() {
    let s = FixtureServer::start("127.0.0.2", "tinhuy");
    let home = s.get("/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let exp = expected("tinhuy");
    let art = s.get(TINHUY_8601);
    assert_eq!(art.status, 200);
    assert!(art.text().contains(&exp.article(TINHUY_8601).title));
    assert_eq!(s.get("/no/such/page.aspx").status, 404);
    assert_eq!(
        s.get("/news/Pages/new.aspx?CateID=5&ItemID=99999").status,
        404
    );
    let post = http::request("POST", &s.url("/"), &[], Duration::from_secs(5)).unwrap();
    assert_eq!(post.status, 405);
    let head = http::request("HEAD", &s.url(TINHUY_8601), &[], Duration::from_secs(5)).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
fn query_order_tracking_parameters_and_session_ids_do_not_change_the_route() {
    let s = FixtureServer::start("127.0.0.2", "tinhuy");
    let exp = expected("tinhuy");
    let title = &exp.article(TINHUY_8601).title;
    for pq in [
        "/news/Pages/new.aspx?ItemID=8601&CateID=5",
        "/news/Pages/new.aspx?CateID=5&ItemID=8601&utm_source=zalo&utm_medium=share",
        "/news/Pages/new.aspx?fbclid=IwAR0x&CateID=5&ItemID=8601",
    ] {
        let r = s.get(pq);
        assert_eq!(r.status, 200, "{pq}");
        assert!(r.text().contains(title.as_str()), "{pq}");
    }
    // Another category id is a different route serving the same article.
    let alias = s.get("/news/Pages/new.aspx?CateID=12&ItemID=8601");
    assert_eq!(alias.status, 200);
    assert!(alias.text().contains(title.as_str()));
    assert_ne!(alias.text(), s.get(TINHUY_8601).text());

    let l = FixtureServer::start("127.0.0.3", "liferay");
    let exp = expected("liferay");
    let a = &exp.articles[0];
    let (path, _) = a.path.split_once("/content/").unwrap();
    let slug = a.path.rsplit('/').next().unwrap();
    let with_session = format!("{path}/content/{slug};jsessionid=0123456789ABCDEF0123456789ABCDEF");
    assert_eq!(l.get(&with_session).status, 200);
    let print = a
        .aliases
        .iter()
        .find(|p| p.contains("viewMode=print"))
        .unwrap();
    let (p, q) = print.split_once('?').unwrap();
    let reordered: Vec<&str> = q.split('&').rev().collect();
    let r = l.get(&format!("{p};jsessionid=ABC?{}", reordered.join("&")));
    assert_eq!(r.status, 200);
    assert!(r.text().contains("print();"), "the print view");
    assert_eq!(l.hits(&a.path), 1, "jsessionid is ignored by hits()");
}

#[test]
fn placeholders_are_filled_differently_on_every_request() {
    let s = FixtureServer::start("127.0.0.2", "tinhuy");
    let before = now_vn();
    let one = s.get(TINHUY_8601).text();
    let two = s.get(TINHUY_8601).text();
    let after = now_vn();
    for page in [&one, &two] {
        assert!(!page.contains("{{"), "unfilled placeholder");
        let today: Vec<String> = [before, after]
            .iter()
            .map(|t| common::server::format_date("{thu}, ngày {d}/{m}/{yyyy}", t))
            .collect();
        assert!(
            today
                .iter()
                .any(|t| page.contains(&format!("<span class=\"today\">{t}</span>"))),
            "today's date line"
        );
    }
    assert_ne!(one, two);
    let views = Regex::new(r"Lượt truy cập: (\d+)").unwrap();
    let v1: u64 = views.captures(&one).unwrap()[1].parse().unwrap();
    let v2: u64 = views.captures(&two).unwrap()[1].parse().unwrap();
    assert_eq!(v2, v1 + 1);
    let session = Regex::new(r#"siteClientTag: "([0-9A-F]{32})""#).unwrap();
    let s1 = session
        .captures(&one)
        .and_then(|c| c.get(1))
        .unwrap()
        .as_str()
        .to_string();
    let s2 = session
        .captures(&two)
        .and_then(|c| c.get(1))
        .unwrap()
        .as_str()
        .to_string();
    assert_ne!(s1, s2);
    let others = |p: &str| {
        let start = p.find("CÁC BÀI VIẾT KHÁC:").unwrap();
        let end = start + p[start..].find("</ul>").unwrap();
        p[start..end].to_string()
    };
    assert_ne!(
        others(&one),
        others(&two),
        "the other-articles list rotates"
    );
    assert_eq!(others(&one).matches("<li>").count(), 4);

    // Day 2 shows tomorrow's date: the simulated day moves the header date too.
    s.set_day(2);
    let tomorrow = now_vn() + chrono::Duration::days(1);
    let line = common::server::format_date("{thu}, ngày {d}/{m}/{yyyy}", &tomorrow);
    assert!(s.get(TINHUY_8601).text().contains(&line));
}

#[test]
fn validators_ignore_placeholders_and_conditional_requests_get_304() {
    let s = FixtureServer::start("127.0.0.2", "tinhuy");
    let a = s.get(TINHUY_8601);
    let b = s.get(TINHUY_8601);
    assert_ne!(a.body, b.body);
    let etag = a.header("etag").unwrap().to_string();
    let lm = a.header("last-modified").unwrap().to_string();
    assert_eq!(b.header("etag"), Some(etag.as_str()));
    assert_eq!(b.header("last-modified"), Some(lm.as_str()));
    let get = |h: &[(&str, &str)]| {
        http::request("GET", &s.url(TINHUY_8601), h, Duration::from_secs(5)).unwrap()
    };
    let r = get(&[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(
        get(&[("If-None-Match", &format!("\"x\", W/{etag}"))]).status,
        304
    );
    assert_eq!(get(&[("If-None-Match", "\"0000\"")]).status, 200);
    assert_eq!(get(&[("If-Modified-Since", &lm)]).status, 304);
    assert_eq!(
        get(&[("If-Modified-Since", "Mon, 01 Jan 2018 00:00:00 GMT")]).status,
        200
    );
    // If-None-Match wins over If-Modified-Since (RFC 9110).
    assert_eq!(
        get(&[("If-None-Match", "\"0000\""), ("If-Modified-Since", &lm)]).status,
        200
    );
    assert!(
        s.get("/news/Pages/list.aspx?CateID=5")
            .header("etag")
            .is_none(),
        "listings are dynamic"
    );

    // Day 2 changed the file: a new ETag, a later Last-Modified, old validators miss.
    s.set_day(2);
    let c = s.get(TINHUY_8601);
    assert_ne!(c.header("etag"), Some(etag.as_str()));
    assert_eq!(get(&[("If-None-Match", &etag)]).status, 200);
    assert_eq!(get(&[("If-Modified-Since", &lm)]).status, 200);
}

#[test]
fn the_request_log_records_every_request() {
    let s = FixtureServer::start("127.0.0.4", "nukeviet");
    let t0 = Instant::now();
    let exp = expected("nukeviet");
    let path = &exp.articles[0].path;
    http::request(
        "GET",
        &s.url(path),
        &[("If-None-Match", "\"abc\""), ("X-Test", "1")],
        Duration::from_secs(5),
    )
    .unwrap();
    s.get("/news/tin-tuc-su-kien/");
    s.get("/missing");
    let log = s.log();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].method, "GET");
    assert_eq!(&log[0].path_and_query, path);
    assert_eq!(log[0].header("if-none-match"), Some("\"abc\""));
    assert_eq!(log[0].header("User-Agent"), Some("luutru-fixture-test"));
    assert_eq!(log[0].status, Some(200));
    assert_eq!(log[2].status, Some(404));
    assert!(log[0].at >= t0 && log[0].at <= log[1].at && log[1].at <= log[2].at);
    assert_eq!(s.hits(path), 1);
    assert_eq!(s.hits("/missing"), 1);
    assert_eq!(s.hits_path("/news/tin-tuc-su-kien/"), 1);
    s.clear_log();
    assert!(s.log().is_empty());
}

#[test]
fn robots_can_be_the_sites_absent_a_body_or_an_error() {
    let s = FixtureServer::start("127.0.0.2", "tinhuy");
    let r = s.get("/robots.txt");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Disallow: /Search/"));
    s.set_robots(Robots::Absent);
    assert_eq!(s.get("/robots.txt").status, 404);
    s.set_robots(Robots::Body("User-agent: *\nCrawl-delay: 2\n".into()));
    let r = s.get("/robots.txt");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "User-agent: *\nCrawl-delay: 2\n")
    );
    assert_eq!(r.header("content-type"), Some("text/plain"));
    s.set_robots(Robots::Status(500));
    assert_eq!(s.get("/robots.txt").status, 500);
    let d = FixtureServer::start("127.0.0.5", "dnn");
    assert_eq!(d.get("/robots.txt").status, 404, "dnn has no robots.txt");
}

#[test]
fn status_and_retry_after_faults_last_as_long_as_said() {
    let s = FixtureServer::start("127.0.0.2", "tinhuy");
    s.add_fault(TINHUY_8601, Fault::Status(503, 2));
    let codes: Vec<u16> = (0..3).map(|_| s.get(TINHUY_8601).status).collect();
    assert_eq!(codes, [503, 503, 200]);
    assert_eq!(
        s.get("/news/Pages/new.aspx?ItemID=8634&CateID=5").status,
        200,
        "other pages unaffected"
    );

    s.add_fault("/", Fault::RetryAfter(2));
    let r = s.get("/");
    assert_eq!((r.status, r.header("retry-after")), (429, Some("2")));
    assert_eq!(s.get("/").status, 200);

    s.add_fault("/", Fault::RetryAfterDate(30));
    let r = s.get("/");
    assert_eq!(r.status, 503);
    let when = chrono::DateTime::parse_from_rfc2822(r.header("retry-after").unwrap()).unwrap();
    let wait = when.with_timezone(&Utc) - Utc::now();
    assert!(
        wait > chrono::Duration::seconds(25) && wait <= chrono::Duration::seconds(31),
        "{wait}"
    );

    // A key without a query matches every query of the path; add_fault_n limits any fault.
    s.add_fault_n("/news/Pages/list.aspx", Fault::Status(500, usize::MAX), 1);
    assert_eq!(s.get("/news/Pages/list.aspx?CateID=7").status, 500);
    assert_eq!(s.get("/news/Pages/list.aspx?CateID=7").status, 200);
    s.add_fault("/news/Pages/list.aspx?CateID=7", Fault::Status(502, 1));
    assert_eq!(s.get("/news/Pages/list.aspx?CateID=12").status, 200);
    assert_eq!(s.get("/news/Pages/list.aspx?CateID=7").status, 502);
}

#[test]
fn a_hung_request_never_answers_while_others_are_served() {
    let s = FixtureServer::start("127.0.0.2", "tinhuy");
    s.add_fault("/hang", Fault::Hang);
    let t = Instant::now();
    let err = http::request("GET", &s.url("/hang"), &[], Duration::from_millis(400)).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    assert!(t.elapsed() >= Duration::from_millis(400));
    assert_eq!(s.get("/").status, 200);
    let log = s.log();
    assert_eq!(log[0].path_and_query, "/hang");
    assert_eq!(log[0].status, None);
    drop(s); // must not wait for the hung response
}

#[test]
fn huge_truncated_gzip_and_content_type_faults() {
    let s = FixtureServer::start("127.0.0.2", "tinhuy");
    let size = 3 * 1024 * 1024 + 17;
    s.add_fault("/huge", Fault::Huge(size));
    let r = s.get("/huge");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-length").is_none(),
        "streamed without a length"
    );
    assert_eq!(r.body.len() as u64, size);
    assert!(r.complete);

    s.add_fault(TINHUY_8601, Fault::Truncated);
    let r = s.get(TINHUY_8601);
    let announced: usize = r.header("content-length").unwrap().parse().unwrap();
    assert!(!r.complete);
    assert!(
        r.body.len() < announced && r.body.len() >= announced / 2 - 1,
        "{} of {announced}",
        r.body.len()
    );
    s.clear_faults();

    s.add_fault(TINHUY_8601, Fault::Gzip);
    let r = s.get(TINHUY_8601);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&r.body[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains(&expected("tinhuy").article(TINHUY_8601).title));
    s.clear_faults();

    s.add_fault(
        "/files/bao-cao.pdf",
        Fault::ContentType("application/pdf".into()),
    );
    let r = s.get("/files/bao-cao.pdf");
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/pdf"))
    );
    assert!(r.body.starts_with(b"%PDF-"));
    s.add_fault("/", Fault::ContentType("application/octet-stream".into()));
    let r = s.get("/");
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert!(
        r.text().contains("Tỉnh ủy Hải Dương"),
        "the page's own body"
    );
}

#[test]
fn redirect_slow_and_trap_faults() {
    let s = FixtureServer::start("127.0.0.2", "tinhuy");
    s.add_fault("/vong-lap", Fault::RedirectLoop);
    let a = s.get("/vong-lap");
    assert_eq!(
        (a.status, a.header("location")),
        (302, Some("/vong-lap?loop=1"))
    );
    let b = s.get("/vong-lap?loop=1");
    assert_eq!((b.status, b.header("location")), (302, Some("/vong-lap")));

    s.add_fault("/ra-ngoai", Fault::RedirectTo("http://example.com/".into()));
    let r = s.get("/ra-ngoai");
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("http://example.com/"))
    );

    s.add_fault(TINHUY_8601, Fault::Slow(300));
    let t = Instant::now();
    let r = s.get(TINHUY_8601);
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 200);
    assert!(r.header("etag").is_some(), "then served as usual");

    s.add_fault("/lich-cong-tac", Fault::Trap);
    let link = Regex::new(r#"href="(/lich-cong-tac\?ngay=[0-9-]+)""#).unwrap();
    let links = |pq: &str| -> BTreeSet<String> {
        link.captures_iter(&s.get(pq).text())
            .map(|c| c[1].to_string())
            .collect()
    };
    let first = links("/lich-cong-tac");
    assert!(first.len() >= 30, "{first:?}");
    let next = links("/lich-cong-tac?ngay=2024-02-01");
    assert!(next.len() >= 30);
    assert!(
        next.difference(&first).count() >= 28,
        "every month brings new query strings"
    );
}

/// Every expected article answers as expected.toml says on every day, under every alias,
/// and its page holds the expected title and paragraphs.
#[test]
fn every_expected_article_is_served_as_described_on_every_day() {
    for (i, site) in SITES.iter().enumerate() {
        let s = FixtureServer::start(&format!("127.0.1.{}", i + 1), site);
        let exp = expected(site);
        assert_eq!(exp.site, *site);
        assert!(s.days() >= 2, "{site} has a day 2");
        for day in 1..=s.days() {
            s.set_day(day);
            for a in &exp.articles {
                let st = a.on_day(day);
                for path in a.all_paths() {
                    let r = s.get(path);
                    let want = st.status.unwrap_or(404);
                    assert_eq!(r.status, want, "{site} day {day} {path}");
                    if want == 301 {
                        assert_eq!(r.header("location"), st.redirect_to.as_deref());
                    }
                    if want != 200 {
                        continue;
                    }
                    let (text, _) = decode(&r);
                    let page = clean(
                        &Html::parse_document(&text)
                            .root_element()
                            .text()
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                    assert!(
                        page.contains(&st.title),
                        "{site} day {day} {path}: title {}",
                        st.title
                    );
                    for p in &st.paragraphs {
                        assert!(
                            page.contains(p.as_str()),
                            "{site} day {day} {path}: paragraph {p}"
                        );
                    }
                    for c in &a.captions {
                        assert!(page.contains(&c.text), "{site} {path}: caption {}", c.text);
                    }
                    for b in &exp.boilerplate {
                        assert!(
                            !st.search_text().contains(b.as_str()),
                            "{site} {path}: boilerplate {b} in the data"
                        );
                    }
                }
            }
        }
    }
}

/// selectors.toml picks exactly the expected fields out of every live article page.
#[test]
fn recommended_selectors_extract_the_expected_fields() {
    for (i, site) in SITES.iter().enumerate() {
        let Some(sel_text) = common::selectors(site) else {
            assert_eq!(*site, "dnn", "only dnn is crawled without selectors");
            continue;
        };
        let sel: toml::Table = toml::from_str(&sel_text).unwrap();
        let get = |k: &str| {
            sel.get(k)
                .and_then(|v| v.as_str())
                .map(|s| Selector::parse(s).unwrap())
        };
        let remove: Vec<Selector> = sel
            .get("remove")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .map(|s| Selector::parse(s).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let s = FixtureServer::start(&format!("127.0.2.{}", i + 1), site);
        let exp = expected(site);
        for day in 1..=s.days() {
            s.set_day(day);
            for a in exp.live_on(day) {
                let st = a.on_day(day);
                for path in a.all_paths() {
                    let (text, _) = decode(&s.get(path));
                    let doc = Html::parse_document(&text);
                    let first = |k: &str| {
                        get(k)
                            .and_then(|s| doc.select(&s).next())
                            .map(|e| element_text(e, &[]))
                    };
                    let ctx = format!("{site} day {day} {path}");
                    assert_eq!(first("title").as_deref(), Some(st.title.as_str()), "{ctx}");
                    assert_eq!(first("author"), a.author.clone(), "{ctx}");
                    assert_eq!(first("summary"), a.summary.clone(), "{ctx}");
                    let published = chrono::DateTime::parse_from_rfc3339(&a.published).unwrap();
                    let date = first("date").unwrap_or_default();
                    assert!(
                        date.contains(&published.format("%d/%m/%Y").to_string()),
                        "{ctx}: date {date}"
                    );
                    let body_el = doc.select(&get("body").unwrap()).next().unwrap();
                    let body = element_text(body_el, &remove);
                    let mut want = st.paragraphs.clone();
                    for c in a.captions.iter().rev() {
                        want.insert(c.at.min(want.len()), c.text.clone());
                    }
                    assert_eq!(body, clean(&want.join(" ")), "{ctx}: body");
                    for b in &exp.boilerplate {
                        assert!(
                            !body.contains(b.as_str()),
                            "{ctx}: boilerplate {b} in the body"
                        );
                    }
                }
            }
        }
    }
}

/// Following the fixture pages' own links with the recommended patterns reaches every
/// live article, and every followed link answers 200 (no broken links in a clean crawl).
#[test]
fn every_fixture_link_resolves_and_reaches_every_live_article() {
    let href = Selector::parse("a[href]").unwrap();
    for (i, site) in SITES.iter().enumerate() {
        let s = FixtureServer::start(&format!("127.0.3.{}", i + 1), site);
        let exp = expected(site);
        let compile = |v: &[String]| v.iter().map(|p| Regex::new(p).unwrap()).collect::<Vec<_>>();
        let (article, follow, deny) = (
            compile(&exp.patterns.article),
            compile(&exp.patterns.follow),
            compile(&exp.patterns.deny),
        );
        for day in 1..=s.days() {
            s.set_day(day);
            let mut seen = BTreeSet::new();
            let mut reached = BTreeSet::new();
            let mut queue: VecDeque<String> = exp.patterns.seeds.iter().cloned().collect();
            while let Some(pq) = queue.pop_front() {
                if !seen.insert(route_key(&pq)) {
                    continue;
                }
                let r = s.get(&pq);
                assert_eq!(r.status, 200, "{site} day {day}: link {pq}");
                let url = s.url(&pq);
                if article.iter().any(|re| re.is_match(&url)) {
                    reached.insert(exp.article(&pq).path.clone());
                    assert!(
                        exp.article(&pq).on_day(day).is_live(),
                        "{site} day {day}: links to {pq}"
                    );
                }
                let (text, _) = decode(&r);
                let doc = Html::parse_document(&text);
                for a in doc.select(&href) {
                    let Some(h) = a.value().attr("href") else {
                        continue;
                    };
                    if !h.starts_with('/') {
                        continue;
                    }
                    let full = s.url(h);
                    let wanted = article.iter().chain(&follow).any(|re| re.is_match(&full));
                    if wanted && !deny.iter().any(|re| re.is_match(&full)) {
                        queue.push_back(h.to_string());
                    }
                }
            }
            let live: BTreeSet<String> = exp.live_on(day).iter().map(|a| a.path.clone()).collect();
            assert_eq!(
                reached, live,
                "{site} day {day}: articles reachable from the seeds"
            );
        }
    }
}

#[test]
fn legacy_encodings_decode_to_their_clean_twins() {
    let s = FixtureServer::start("127.0.0.6", "legacy");
    let exp = expected("legacy");
    let body = |pq: &str| {
        let r = s.get(pq);
        let (text, enc) = decode(&r);
        let doc = Html::parse_document(&text);
        let el = doc
            .select(&Selector::parse("td.noidung").unwrap())
            .next()
            .unwrap();
        (element_text(el, &[]), enc, r)
    };
    let (twin, _, _) = body("/tintuc/chitiet.asp?id=611");
    let (meta, enc, r) = body("/tintuc/chitiet.asp?id=601");
    assert_eq!(
        r.header("content-type"),
        Some("text/html"),
        "601 declares its charset only in <meta>"
    );
    assert_eq!(enc, encoding_rs::WINDOWS_1258);
    assert!(
        std::str::from_utf8(&r.body).is_err(),
        "the bytes are not UTF-8"
    );
    assert_eq!(meta, twin);
    let (undeclared, enc, r) = body("/tintuc/chitiet.asp?id=603");
    assert!(meta_charset(&r.body).is_none());
    assert_eq!(
        enc,
        encoding_rs::WINDOWS_1258,
        "chardetng recognises the undeclared page"
    );
    assert_eq!(undeclared, twin);
    assert_eq!(
        twin,
        clean(
            &exp.article("/tintuc/chitiet.asp?id=611")
                .paragraphs
                .join(" ")
        )
    );

    // The page is NFD (only the per-request fill-ins, such as the other-articles list, are not).
    let page = s.get("/tintuc/chitiet.asp?id=602").text();
    let start = page.find("class=noidung>").unwrap();
    let raw_body = &page[start..start + page[start..].find("</TD>").unwrap()];
    assert!(unicode_normalization::is_nfd(raw_body));
    assert!(raw_body.contains(&"hoà".nfd().collect::<String>()));
    assert!(raw_body.contains('\u{a0}') && raw_body.contains('\u{200b}'));
    let (nfd_body, _, _) = body("/tintuc/chitiet.asp?id=602");
    let (old_marks, _, _) = body("/tintuc/chitiet.asp?id=612");
    let (new_marks, _, _) = body("/tintuc/chitiet.asp?id=622");
    assert_eq!(nfd_body, old_marks);
    assert!(old_marks.contains("hoà giải") && new_marks.contains("hòa giải"));
    assert_ne!(old_marks, new_marks);
    assert_eq!(common::fold(&old_marks), common::fold(&new_marks));
}

#[test]
fn expected_data_describes_the_day_two_edits() {
    let mut kinds = Vec::new();
    let mut new_articles = 0;
    for site in SITES {
        let exp = expected(site);
        new_articles += exp.new_on(2).len();
        for (a, c) in exp.changes_on(2) {
            kinds.push(c.kind.clone());
            if c.is_edit() {
                assert!(
                    !c.added.is_empty() || !c.removed.is_empty(),
                    "{site} {}",
                    a.path
                );
                let before = a.on_day(1);
                let after = a.on_day(2);
                assert!(before.title != after.title || before.paragraphs != after.paragraphs);
            }
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        ["gone", "gone", "number", "paragraph", "sentence", "title"]
    );
    assert_eq!(new_articles, 1);
    let tinhuy = expected("tinhuy");
    let seed = tinhuy.article(TINHUY_8601);
    assert_eq!(
        seed.near_duplicates,
        ["baomoi:/chi-linh-xay-dung-de-an-lap-dat-camera-giam-sat-158301.html"]
    );
    let republished = expected("baomoi");
    let r = republished.article("/chi-linh-xay-dung-de-an-lap-dat-camera-giam-sat-158301.html");
    assert_eq!(r.last_paragraph(), "Theo Tỉnh ủy Hải Dương");
    assert_eq!(r.near_duplicates, [format!("tinhuy:{TINHUY_8601}")]);
    // The search oracle: diacritic-free phrase over the three portals that mention it.
    let hits: usize = SITES
        .iter()
        .map(|s| expected(s).matching(1, "camera giam sat").len())
        .sum();
    assert_eq!(hits, 5);
    let q = common::Query::parse("Chi LINH \"camera giam sat\" -covid");
    assert_eq!(q.phrases.len(), 3);
    assert_eq!(q.excluded, ["covid"]);
    let baomoi_hits = republished.query(1, "\"camera giam sat\" chi linh");
    assert_eq!(baomoi_hits.len(), 2, "158301 and 158390 mention both");
    assert_eq!(
        republished
            .query(1, "\"camera giam sat\" chi linh -covid")
            .len(),
        1
    );
    assert!(
        republished.query(1, "\"giam sat camera\"").is_empty(),
        "phrases keep their order"
    );
}

/// The config text the harness writes is accepted by luutru's own loader (selectors.toml
/// included), scopes each site to its server, and the recommended patterns classify every
/// fixture article URL as an article and the listings as listings.
#[test]
fn harness_config_is_accepted_by_luutru_and_classifies_fixture_urls() {
    use luutru::config::{Config, PageKind};
    let servers: Vec<FixtureServer> = SITES
        .iter()
        .enumerate()
        .map(|(i, s)| FixtureServer::start(&format!("127.0.4.{}", i + 1), s))
        .collect();
    let mut text = common::crawl_table(&[("rate", "2.0"), ("revisit", "\"0s\"")]);
    for s in &servers {
        text.push('\n');
        text.push_str(
            &common::fixture_site(s.site(), s)
                .line("max_depth = 6")
                .build(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_config(dir.path(), &text);
    let cfg = Config::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(cfg.sites.len(), SITES.len());
    assert_eq!(cfg.sites[0].max_depth, 6);
    for (i, s) in servers.iter().enumerate() {
        let site = cfg.site(s.site()).unwrap();
        let other = &servers[(i + 1) % servers.len()];
        for a in &expected(s.site()).articles {
            for p in a.all_paths() {
                let url = url::Url::parse(&s.url(p)).unwrap();
                assert!(site.in_scope(&url), "{url}");
                assert_eq!(site.classify(&url), Some(PageKind::Article), "{url}");
                let foreign = url::Url::parse(&other.url(p)).unwrap();
                assert!(!site.in_scope(&foreign), "{foreign} is another host");
            }
        }
        let listing = match s.site() {
            "tinhuy" => "/news/Pages/list.aspx?CateID=5&Page=2",
            "nukeviet" => "/news/tin-tuc-su-kien/page-2",
            "baomoi" => "/thoi-su/trang-2.html",
            "dnn" => "/tin-tuc/PageID/2",
            "liferay" => "/web/guest/tin-tuc-su-kien;jsessionid=0A1B2C3D",
            _ => "/tintuc/default.asp?page=2",
        };
        let url = url::Url::parse(&s.url(listing)).unwrap();
        assert_eq!(site.classify(&url), Some(PageKind::Listing), "{url}");
    }
}
