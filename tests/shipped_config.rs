//! The shipped `crawl.toml`: every site compiles, and each site's article / follow patterns
//! accept the example URLs of its CMS family (shared/SITES.md) and reject others.

use luutru::config::{Config, PageKind};
use url::Url;

fn shipped() -> Config {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crawl.toml");
    Config::load(&path).unwrap_or_else(|e| panic!("shipped crawl.toml does not load: {e}"))
}

fn kind(config: &Config, site: &str, url: &str) -> Option<PageKind> {
    let site = config
        .site(site)
        .unwrap_or_else(|| panic!("site {site} missing"));
    let url = luutru::canon::canonicalize(&Url::parse(url).unwrap());
    if !site.in_scope(&url) {
        return None;
    }
    site.classify(&url)
}

#[test]
fn shipped_config_loads_with_polite_rates_and_six_or_more_sites() {
    let c = shipped();
    assert!(c.sites.len() >= 6, "{} sites", c.sites.len());
    for s in &c.sites {
        assert!(s.rate > 0.0 && s.rate <= 1.0, "{}: rate {}", s.name, s.rate);
        assert!(!s.seeds.is_empty(), "{}: no seeds", s.name);
        for seed in &s.seeds {
            assert!(s.in_scope(seed), "{}: seed {seed} out of scope", s.name);
        }
    }
    assert!(c.crawl.respect_robots);
}

#[test]
fn each_site_accepts_its_example_urls_and_rejects_others() {
    let c = shipped();
    let cases: &[(&str, &str, Option<PageKind>)] = &[
        (
            "tinhuy-haiduong",
            "http://tinhuyhaiduong.vn/news/Pages/new.aspx?CateID=2&ItemID=8793",
            Some(PageKind::Article),
        ),
        (
            "tinhuy-haiduong",
            "http://tinhuyhaiduong.vn/news/Pages/new.aspx?ItemID=8793&CateID=5&utm_source=zalo",
            Some(PageKind::Article),
        ),
        (
            "tinhuy-haiduong",
            "http://tinhuyhaiduong.vn/news/Pages/list.aspx?CateID=2",
            Some(PageKind::Listing),
        ),
        (
            "tinhuy-haiduong",
            "http://tinhuyhaiduong.vn/Search/Pages/results.aspx?k=chi+linh",
            None,
        ),
        (
            "tinhuy-haiduong",
            "http://tinhuyhaiduong.vn/news/Pages/new.aspx?CateID=2",
            None,
        ),
        (
            "tinhuy-haiduong",
            "https://baohaiduong.vn/news/Pages/new.aspx?ItemID=1",
            None,
        ),
        (
            "baohaiduong",
            "https://baohaiduong.vn/chi-linh-lap-dat-camera-giam-sat-181234.html",
            Some(PageKind::Article),
        ),
        (
            "baohaiduong",
            "https://baohaiduong.vn/chuyen-muc/thoi-su/1",
            Some(PageKind::Listing),
        ),
        ("baohaiduong", "https://baohaiduong.vn/anh/logo.png", None),
        (
            "quansu-haiduong",
            "https://quansu.haiduong.gov.vn/ViewDetail/1234@/dien-tap-khu-vuc-phong-thu.html",
            Some(PageKind::Article),
        ),
        (
            "quansu-haiduong",
            "https://quansu.haiduong.gov.vn/ViewList/12@/tin-tuc.html",
            Some(PageKind::Listing),
        ),
        (
            "baogialai",
            "https://baogialai.com.vn/gia-lai-khoi-cong-cao-toc-post312345.html",
            Some(PageKind::Article),
        ),
        (
            "baogialai",
            "https://baogialai.com.vn/thoi-su/",
            Some(PageKind::Listing),
        ),
        (
            "baogialai",
            "https://baogialai.com.vn/tim-kiem/?q=ca-phe",
            None,
        ),
        (
            "baohatinh",
            "https://baohatinh.vn/ha-tinh-don-bao-so-5-post287654.html",
            Some(PageKind::Article),
        ),
        (
            "baohatinh",
            "https://baohatinh.vn/kinh-te/",
            Some(PageKind::Listing),
        ),
        (
            "laocai-gov",
            "https://www.laocai.gov.vn/tin-tuc/tin-trong-tinh/khai-truong-mua-du-lich-1234567.html",
            Some(PageKind::Article),
        ),
        (
            "laocai-gov",
            "https://www.laocai.gov.vn/tin-tuc/tin-trong-tinh/",
            Some(PageKind::Listing),
        ),
        (
            "laocai-gov",
            "https://www.laocai.gov.vn/Login?returnurl=/",
            None,
        ),
        (
            "quangnam-gov",
            "https://www.quangnam.gov.vn/Default.aspx?tabid=82&ID=23456",
            Some(PageKind::Article),
        ),
        (
            "quangnam-gov",
            "https://www.quangnam.gov.vn/Default.aspx?tabid=82&Group=3&page=2",
            Some(PageKind::Listing),
        ),
        (
            "quangnam-gov",
            "https://www.quangnam.gov.vn/van-ban.pdf",
            None,
        ),
    ];
    for (site, url, want) in cases {
        assert_eq!(kind(&c, site, url), *want, "{site}: {url}");
    }
}
