//! Tests of the field chain as a whole: selectors with `remove`, fallbacks and provenance,
//! encodings and text forms end to end.

use super::*;

fn fetched() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-04-24T10:00:00+07:00").expect("static date")
}

fn spec(s: &str) -> Option<SelectorSpec> {
    Some(SelectorSpec::parse(s).expect("test selector is valid"))
}

/// A page shaped like tinhuyhaiduong.vn's article template (see SITES.md).
const TINHUY: &str = r##"<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Đồng chí Phó Bí thư Thường trực Tỉnh ủy làm việc với Thường trực Thành ủy Chí Linh</title></head>
<body><form id="aspnetForm">
<div class="header"><div class="today">Thứ tư, ngày 24/4/2024</div>
<ul class="menu"><li><a href="/">Trang chủ</a></li><li><a href="/news/Pages/list.aspx?CateID=1">Tin tức</a></li></ul></div>
<div class="main"><div class="news-detail">
<h1 class="title">Đồng chí Phó Bí thư Thường trực Tỉnh ủy làm việc với Thường trực Thành ủy Chí Linh</h1>
<div class="date">Thứ Tư 31/03/2021 08:35</div>
<div class="fontsize">Xem với cỡ chữ <a href="#">A</a> <a href="#">a</a></div>
<div class="content">
<p><strong>Ngày 30/3/2021, đồng chí Lê Văn Hiệu, Phó Bí thư Thường trực Tỉnh ủy làm việc với Thường trực Thành ủy Chí Linh.</strong></p>
<p style="text-align:center"><img src="/img/a.jpg"></p>
<p class="image_desc">Toàn cảnh buổi làm việc</p>
<p>Tại Chí Linh,&nbsp;dịch bệnh xảy ra tại Công ty TNHH Điện tử POYUN Việt Nam nằm trong Khu công nghiệp Cộng Hòa.</p>
<div><div>Song với sự quan tâm chỉ đạo của Trung ương, của tỉnh và sự vào cuộc khẩn trương.</div></div>
<p class="author">Phạm Thị Hoài, VPTU</p>
</div>
<div class="related"><h3>CÁC BÀI VIẾT KHÁC:</h3><ul>
<li><a href="/news/Pages/new.aspx?CateID=1&amp;ItemID=100">Hội nghị Ban Chấp hành Đảng bộ tỉnh</a> (30/03/2021)</li>
<li><a href="/news/Pages/new.aspx?CateID=1&amp;ItemID=101">Kiểm tra công tác phòng chống dịch</a> (29/03/2021)</li></ul></div>
</div></div>
<div class="footer">Bản quyền thuộc Tỉnh ủy Hải Dương. Cập nhật: 23/04/2024</div>
</form></body></html>"##;

fn tinhuy_selectors() -> SiteSelectors {
    SiteSelectors {
        title: spec("h1.title"),
        date: spec(".date"),
        body: spec(".content"),
        author: spec(".author"),
        summary: None,
        remove: vec![
            SelectorSpec::parse(".fontsize").expect("valid"),
            SelectorSpec::parse(".related").expect("valid"),
            SelectorSpec::parse(".content .author").expect("valid"),
        ],
    }
}

#[test]
fn selector_path_on_tinhuy_page() {
    let ex = extract_html(TINHUY, &tinhuy_selectors(), fetched());
    assert_eq!(
        ex.title.as_deref(),
        Some("Đồng chí Phó Bí thư Thường trực Tỉnh ủy làm việc với Thường trực Thành ủy Chí Linh")
    );
    assert_eq!(
        ex.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2021-03-31T08:35:00+07:00")
    );
    assert_eq!(ex.author.as_deref(), Some("Phạm Thị Hoài, VPTU"));
    assert_eq!(
        ex.body,
        "Ngày 30/3/2021, đồng chí Lê Văn Hiệu, Phó Bí thư Thường trực Tỉnh ủy làm việc với Thường trực Thành ủy Chí Linh.\n\n\
         Toàn cảnh buổi làm việc\n\n\
         Tại Chí Linh, dịch bệnh xảy ra tại Công ty TNHH Điện tử POYUN Việt Nam nằm trong Khu công nghiệp Cộng Hòa.\n\n\
         Song với sự quan tâm chỉ đạo của Trung ương, của tỉnh và sự vào cuộc khẩn trương."
    );
    assert_eq!(ex.captions, ["Toàn cảnh buổi làm việc"]);
    assert_eq!(ex.sources.title.as_deref(), Some("selector:h1.title"));
    assert_eq!(ex.sources.published.as_deref(), Some("selector:.date"));
    assert_eq!(ex.sources.body.as_deref(), Some("selector:.content"));
    assert_eq!(ex.sources.author.as_deref(), Some("selector:.author"));
    assert!(ex.warnings.is_empty(), "{:?}", ex.warnings);
}

#[test]
fn tinhuy_page_without_any_selector() {
    let ex = extract_html(TINHUY, &SiteSelectors::default(), fetched());
    assert_eq!(
        ex.title.as_deref(),
        Some("Đồng chí Phó Bí thư Thường trực Tỉnh ủy làm việc với Thường trực Thành ủy Chí Linh")
    );
    assert_eq!(ex.sources.title.as_deref(), Some("heuristic"));
    assert_eq!(
        ex.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2021-03-31T08:35:00+07:00")
    );
    assert_eq!(ex.sources.published.as_deref(), Some("heuristic"));
    assert_eq!(ex.sources.body.as_deref(), Some("generic"));
    for bad in [
        "24/4/2024",
        "Xem với cỡ chữ",
        "CÁC BÀI VIẾT KHÁC",
        "Hội nghị Ban Chấp hành",
        "Trang chủ",
        "Bản quyền",
    ] {
        assert!(!ex.body.contains(bad), "body contains {bad:?}: {}", ex.body);
    }
    assert!(
        ex.body.starts_with("Ngày 30/3/2021, đồng chí Lê Văn Hiệu"),
        "{}",
        ex.body
    );
    assert!(ex.body.contains("Song với sự quan tâm chỉ đạo"));
}

#[test]
fn selector_matching_nothing_falls_back() {
    let sel = SiteSelectors {
        title: spec("h1.no-such"),
        date: spec(".no-such-date"),
        body: spec("#no-such-body"),
        ..Default::default()
    };
    let ex = extract_html(TINHUY, &sel, fetched());
    assert_eq!(ex.sources.title.as_deref(), Some("heuristic"));
    assert_eq!(ex.sources.published.as_deref(), Some("heuristic"));
    assert_eq!(ex.sources.body.as_deref(), Some("generic"));
    assert!(ex.body.contains("Tại Chí Linh"));
}

#[test]
fn unparseable_selector_date_is_null_with_warning() {
    let html = TINHUY.replace("Thứ Tư 31/03/2021 08:35", "Thứ Tư 31/02/2021 08:35");
    let ex = extract_html(&html, &tinhuy_selectors(), fetched());
    assert_eq!(ex.published, None);
    assert_eq!(ex.sources.published, None);
    assert!(
        ex.warnings
            .iter()
            .any(|w| w.starts_with("date: cannot parse `Thứ Tư 31/02/2021 08:35`")),
        "{:?}",
        ex.warnings
    );
}

#[test]
fn date_selector_uses_datetime_attribute() {
    let html = r#"<html><body><h1>Tiêu đề bài viết</h1><time datetime="2025-10-22T19:25:52+07:00">22/10</time>
        <div class="c"><p>Nội dung bài viết dài đủ để làm thân bài.</p></div></body></html>"#;
    let sel = SiteSelectors {
        date: spec("time"),
        body: spec(".c"),
        ..Default::default()
    };
    let now = DateTime::parse_from_rfc3339("2025-10-23T09:00:00+07:00").expect("static date");
    let ex = extract_html(html, &sel, now);
    assert_eq!(
        ex.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-10-22T19:25:52+07:00")
    );
}

/// A newspaper page on the "cms-body" platform: JSON-LD in @graph, OpenGraph, comments.
const NEWSPAPER: &str = r#"<html><head>
<title>Gia Lai: Khánh thành cầu mới - Báo Gia Lai điện tử</title>
<meta property="og:title" content="Gia Lai: Khánh thành cầu mới">
<meta name="description" content="Sáng 22/10, tỉnh Gia Lai khánh thành cầu mới.">
<meta property="article:published_time" content="2025-10-22T07:00:00+07:00">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"Organization","name":"Báo Gia Lai"},
{"@type":"NewsArticle","headline":"Gia Lai: Khánh thành cầu mới","datePublished":"2025-10-22T19:25:52+07:00",
"dateModified":"2025-10-22T20:00:00+07:00","author":{"@type":"Person","name":"Minh Anh"}}]}</script>
</head><body>
<header class="site-header"><span>Thứ Năm, 23/10/2025</span></header>
<article><h1 class="article__title cms-title">Gia Lai: Khánh thành cầu mới</h1>
<div class="article__sapo">Sáng 22/10, tỉnh Gia Lai khánh thành cầu mới.</div>
<div class="article__body zce-content-body cms-body">
<p>Cây cầu dài 300 mét, nối hai bờ sông Ba, được xây dựng trong hai năm, với tổng vốn đầu tư hơn 200 tỷ đồng.</p>
<figure><img src="x.jpg"><figcaption>Cầu mới nhìn từ trên cao. Ảnh: Minh Anh</figcaption></figure>
<p>Người dân địa phương rất phấn khởi, vì từ nay việc đi lại, buôn bán giữa hai bờ thuận tiện hơn nhiều.</p>
</div></article>
<div class="comments"><div class="comment">Hoàng Văn A, 22/10/2025 21:00: Tuyệt vời, cảm ơn báo đã đưa tin, chúng tôi chờ cây cầu này đã lâu lắm rồi.</div></div>
<div class="related"><a href="/x-1.html">Tin khác về cầu đường, giao thông nông thôn ở Gia Lai trong năm 2025</a></div>
</body></html>"#;

#[test]
fn newspaper_page_uses_json_ld_and_meta_and_skips_comments() {
    let now = DateTime::parse_from_rfc3339("2025-10-23T09:00:00+07:00").expect("static date");
    let ex = extract_html(NEWSPAPER, &SiteSelectors::default(), now);
    assert_eq!(ex.title.as_deref(), Some("Gia Lai: Khánh thành cầu mới"));
    assert_eq!(ex.sources.title.as_deref(), Some("json-ld"));
    assert_eq!(
        ex.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-10-22T19:25:52+07:00")
    );
    assert_eq!(ex.sources.published.as_deref(), Some("json-ld"));
    assert_eq!(
        ex.modified.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-10-22T20:00:00+07:00")
    );
    assert_eq!(ex.author.as_deref(), Some("Minh Anh"));
    assert_eq!(ex.sources.author.as_deref(), Some("json-ld"));
    assert_eq!(
        ex.summary.as_deref(),
        Some("Sáng 22/10, tỉnh Gia Lai khánh thành cầu mới.")
    );
    assert_eq!(ex.sources.summary.as_deref(), Some("meta:description"));
    assert_eq!(ex.sources.body.as_deref(), Some("generic"));
    assert!(ex.body.contains("Cây cầu dài 300 mét"), "{}", ex.body);
    assert!(ex.body.contains("Người dân địa phương"), "{}", ex.body);
    assert!(!ex.body.contains("Tuyệt vời"), "{}", ex.body);
    assert!(!ex.body.contains("Tin khác"), "{}", ex.body);
    assert_eq!(ex.captions, ["Cầu mới nhìn từ trên cao. Ảnh: Minh Anh"]);
}

#[test]
fn meta_fallbacks_when_no_json_ld() {
    let html = NEWSPAPER.replace("application/ld+json", "text/plain");
    let now = DateTime::parse_from_rfc3339("2025-10-23T09:00:00+07:00").expect("static date");
    let ex = extract_html(&html, &SiteSelectors::default(), now);
    assert_eq!(ex.sources.title.as_deref(), Some("meta:og:title"));
    assert_eq!(
        ex.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-10-22T07:00:00+07:00")
    );
    assert_eq!(
        ex.sources.published.as_deref(),
        Some("meta:article:published_time")
    );
    assert_eq!(ex.modified, None);
    assert_eq!(ex.author, None);
}

#[test]
fn future_metadata_date_is_rejected() {
    let html = NEWSPAPER
        .replace("2025-10-22T19:25:52+07:00", "2031-01-01T00:00:00+07:00")
        .replace("2025-10-22T07:00:00+07:00", "2031-01-01T00:00:00+07:00");
    let now = DateTime::parse_from_rfc3339("2025-10-23T09:00:00+07:00").expect("static date");
    let ex = extract_html(&html, &SiteSelectors::default(), now);
    // Neither the future metadata nor the header's today line nor a comment date.
    assert_eq!(ex.published, None, "{:?}", ex.sources.published);
    assert!(ex
        .warnings
        .iter()
        .any(|w| w.contains("after the fetch time")));
}

#[test]
fn parse_page_gives_links_and_optional_article() {
    let base = url::Url::parse("http://tinhuyhaiduong.vn/news/Pages/new.aspx?CateID=1&ItemID=7")
        .expect("static URL");
    let page = parse_page(TINHUY, &base, &tinhuy_selectors(), false, fetched());
    assert!(page.article.is_none());
    let got: Vec<&str> = page.links.iter().map(url::Url::as_str).collect();
    assert_eq!(
        got,
        [
            "http://tinhuyhaiduong.vn/",
            "http://tinhuyhaiduong.vn/news/Pages/list.aspx?CateID=1",
            "http://tinhuyhaiduong.vn/news/Pages/new.aspx?CateID=1&ItemID=100",
            "http://tinhuyhaiduong.vn/news/Pages/new.aspx?CateID=1&ItemID=101",
        ]
    );
    let page = parse_page(TINHUY, &base, &tinhuy_selectors(), true, fetched());
    assert!(page
        .article
        .is_some_and(|a| a.body.contains("Tại Chí Linh")));
}

#[test]
fn selector_spec_errors_are_messages() {
    assert!(SelectorSpec::parse("h1..x").is_err());
    assert!(SelectorSpec::parse("").is_err());
    assert!(SelectorSpec::parse("div[").is_err());
    assert_eq!(
        SelectorSpec::parse(" h1.title ").map(|s| s.text).as_deref(),
        Ok("h1.title")
    );
}

/// The same article written four ways: clean NFC, NFD, old tone marks, windows-1258.
#[test]
fn encodings_and_text_forms_extract_to_same_text_and_key() {
    use unicode_normalization::UnicodeNormalization;
    let clean = TINHUY.replace("<meta charset=\"utf-8\">", "");
    let sel = tinhuy_selectors();
    let reference = extract_html(&clean, &sel, fetched());

    let nfd: String = clean.nfd().collect();
    let from_nfd = extract_html(&decode_html(nfd.as_bytes(), None), &sel, fetched());
    assert_eq!(from_nfd, reference);

    let cp = encoding::tests::cp1258(&clean);
    let html_1258 = decode_html(&cp, Some("text/html; charset=windows-1258"));
    assert_eq!(extract_html(&html_1258, &sel, fetched()), reference);
    let with_meta = clean.replace(
        "<head>",
        "<head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1258\">",
    );
    let cp = encoding::tests::cp1258(&with_meta);
    assert_eq!(
        extract_html(&decode_html(&cp, None), &sel, fetched()),
        reference
    );

    // Old tone marks: the stored text keeps them, the key form does not see them.
    let old = clean.replace("Cộng Hòa", "Cộng Hoà");
    let from_old = extract_html(&old, &sel, fetched());
    assert_ne!(from_old.body, reference.body);
    assert_eq!(key_form(&from_old.body), key_form(&reference.body));
}
