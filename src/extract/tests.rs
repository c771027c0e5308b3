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
    // The author line inside the content block (removed by a selector on the selector path).
    assert_eq!(ex.author.as_deref(), Some("Phạm Thị Hoài, VPTU"));
    assert_eq!(ex.sources.author.as_deref(), Some("heuristic"));
    assert!(!ex.body.contains("Phạm Thị Hoài"), "{}", ex.body);
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

/// A DNN-style provincial portal page, extracted with no selectors at all.
const DNN: &str = r#"<html><head><title>Tỉnh Lào Cai tổ chức hội nghị xúc tiến đầu tư năm 2024 - Cổng TTĐT tỉnh Lào Cai</title></head>
<body><form id="Form" action="/tin-tuc">
<div id="dnn_HeaderPane" class="HeaderPane"><span class="today">Thứ Năm, 25/04/2024</span>
<ul class="topmenu"><li><a href="/">Trang chủ</a></li><li><a href="/gioi-thieu">Giới thiệu</a></li><li><a href="/tin-tuc">Tin tức - Sự kiện</a></li></ul></div>
<div id="dnn_ContentPane" class="ContentPane"><div class="DnnModule"><div class="ArticleDetail">
<h2 class="ArticleTitle">Tỉnh Lào Cai tổ chức hội nghị xúc tiến đầu tư năm 2024</h2>
<div class="PostDate">Ngày đăng: 24/04/2024 | 15:20</div>
<div class="ArticleSummary">Sáng 24/4, UBND tỉnh Lào Cai tổ chức hội nghị xúc tiến đầu tư với sự tham gia của hơn 300 doanh nghiệp trong và ngoài nước.</div>
<div class="ArticleContent">
<p>Phát biểu tại hội nghị, đồng chí Chủ tịch UBND tỉnh nhấn mạnh, Lào Cai luôn coi doanh nghiệp là trung tâm, là động lực của phát triển kinh tế, xã hội.</p>
<p>Tỉnh cam kết tạo mọi điều kiện thuận lợi về thủ tục, mặt bằng, nguồn nhân lực, để các nhà đầu tư yên tâm triển khai dự án trên địa bàn.</p>
<p>Tại hội nghị, tỉnh đã trao quyết định chủ trương đầu tư cho 12 dự án, với tổng vốn đăng ký hơn 15.000 tỷ đồng, tập trung vào du lịch, nông nghiệp công nghệ cao và logistics.</p>
<p style="text-align:right"><strong>Minh Đức</strong></p>
</div>
<div class="TinLienQuan"><h3>Tin liên quan</h3><ul>
<li><a href="/tin-tuc/1">Lào Cai đón 1 triệu lượt khách du lịch trong quý I</a> <span>(20/04/2024)</span></li>
<li><a href="/tin-tuc/2">Hội nghị tổng kết công tác đối ngoại năm 2023</a> <span>(15/04/2024)</span></li></ul></div>
</div></div></div>
<div id="dnn_FooterPane" class="FooterPane">Cổng thông tin điện tử tỉnh Lào Cai. Cập nhật lần cuối: 25/04/2024 08:00</div>
</form></body></html>"#;

#[test]
fn dnn_portal_without_selectors() {
    let now = DateTime::parse_from_rfc3339("2024-04-25T09:00:00+07:00").expect("static date");
    let ex = extract_html(DNN, &SiteSelectors::default(), now);
    assert_eq!(
        ex.title.as_deref(),
        Some("Tỉnh Lào Cai tổ chức hội nghị xúc tiến đầu tư năm 2024")
    );
    assert_eq!(ex.sources.title.as_deref(), Some("heuristic"));
    assert_eq!(
        ex.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2024-04-24T15:20:00+07:00")
    );
    assert_eq!(ex.sources.published.as_deref(), Some("heuristic"));
    assert!(ex.body.contains("Phát biểu tại hội nghị"), "{}", ex.body);
    assert!(ex.body.contains("logistics."), "{}", ex.body);
    for bad in [
        "Trang chủ",
        "Tin liên quan",
        "1 triệu lượt khách",
        "Cập nhật lần cuối",
        "Thứ Năm, 25/04/2024",
        "Ngày đăng",
        // The right-aligned bold byline closing the content is the author, not body text.
        "Minh Đức",
    ] {
        assert!(!ex.body.contains(bad), "body contains {bad:?}: {}", ex.body);
    }
    assert_eq!(ex.author.as_deref(), Some("Minh Đức"));
    assert_eq!(ex.sources.author.as_deref(), Some("heuristic"));
}

/// A NukeViet page: related list with `<em>` dates, a view counter, selectors configured.
const NUKEVIET: &str = r#"<html><head><title>Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 15</title>
<meta property="og:title" content="Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 15"></head><body>
<div class="headerSimple"><span class="current-time">Thứ tư - 28/09/2022</span></div>
<div class="col-md-18"><div class="news_column panel panel-default"><div class="panel-body">
<h1 class="title margin-bottom-lg">Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 15</h1>
<div class="row margin-bottom-lg"><div class="col-md-12"><span class="h5">Thứ tư - 28/09/2022 21:45</span></div>
<div class="col-md-12"><ul class="list-inline text-right"><li>Đã xem: 1234</li></ul></div></div>
<div class="hometext m-bottom">Chiều 28/9, Ban Chấp hành Đảng bộ tỉnh tổ chức hội nghị lần thứ 15.</div>
<div id="news-bodyhtml" class="bodytext margin-bottom-lg"><p>Hội nghị đã thảo luận, cho ý kiến vào dự thảo báo cáo tình hình kinh tế, xã hội chín tháng đầu năm.</p>
<p>Hội nghị thống nhất các nhiệm vụ, giải pháp trọng tâm trong những tháng cuối năm, trong đó tập trung đẩy nhanh giải ngân vốn đầu tư công.</p></div>
<p class="h5 text-right"><strong>Phòng Thông tin</strong></p>
</div></div>
<div class="news_column panel panel-default"><div class="panel-body other-news"><ul class="related">
<li><a href="/news/a-1.html">Kỳ họp thứ 10 HĐND tỉnh khóa XVI</a> <em>(25/09/2022)</em></li>
<li><a href="/news/b-2.html">Tổng kết công tác dân vận năm 2022</a> <em>(20/09/2022)</em></li></ul></div></div></div>
</body></html>"#;

#[test]
fn nukeviet_page_with_selectors() {
    let sel = SiteSelectors {
        title: spec("h1.title"),
        date: spec("span.h5"),
        body: spec("#news-bodyhtml.bodytext"),
        author: spec("p.h5.text-right"),
        summary: spec(".hometext"),
        remove: vec![],
    };
    let now = DateTime::parse_from_rfc3339("2022-09-29T09:00:00+07:00").expect("static date");
    let ex = extract_html(NUKEVIET, &sel, now);
    assert_eq!(
        ex.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2022-09-28T21:45:00+07:00")
    );
    assert_eq!(ex.author.as_deref(), Some("Phòng Thông tin"));
    assert_eq!(
        ex.summary.as_deref(),
        Some("Chiều 28/9, Ban Chấp hành Đảng bộ tỉnh tổ chức hội nghị lần thứ 15.")
    );
    assert_eq!(ex.body.split("\n\n").count(), 2, "{}", ex.body);
    assert_eq!(ex.sources.summary.as_deref(), Some("selector:.hometext"));

    // Without selectors: the date next to the title, not the header's or a related one.
    let ex = extract_html(NUKEVIET, &SiteSelectors::default(), now);
    assert_eq!(
        ex.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2022-09-28T21:45:00+07:00")
    );
    assert!(ex.body.contains("giải ngân vốn đầu tư công"), "{}", ex.body);
    assert!(!ex.body.contains("Kỳ họp thứ 10"), "{}", ex.body);
    assert!(!ex.body.contains("Đã xem"), "{}", ex.body);
    // NukeViet's right-aligned bold author line after the body.
    assert_eq!(ex.author.as_deref(), Some("Phòng Thông tin"));
    assert_eq!(ex.sources.author.as_deref(), Some("heuristic"));
    assert!(!ex.body.contains("Phòng Thông tin"), "{}", ex.body);
}

// ------------------------------------------------------------------ author heuristic

/// A portal article page with no JSON-LD and no author `<meta>`: `tail` closes the body
/// block, `after` follows it inside the article, `rest` follows the article.
fn portal_page(tail: &str, after: &str, rest: &str) -> String {
    format!(
        r#"<html><head><title>Huyện Bắc Hà khai mạc lễ hội mận Tam hoa năm 2024 - Cổng TTĐT tỉnh Lào Cai</title></head>
<body><div class="header"><span class="today">Thứ Năm, 25/04/2024</span>
<ul class="menu"><li><a href="/">Trang chủ</a></li><li><a href="/tin-tuc">Tin tức</a></li></ul></div>
<div class="sidebar-left"><div class="box"><span class="author">Ban Biên tập</span></div></div>
<div class="main"><div class="detail">
<h1 class="title">Huyện Bắc Hà khai mạc lễ hội mận Tam hoa năm 2024</h1>
<div class="date">24/04/2024 15:20</div>
<div class="content">
<p>Tối 24/4, huyện Bắc Hà tổ chức khai mạc lễ hội mận Tam hoa năm 2024, với nhiều hoạt động văn hóa, thể thao, du lịch hấp dẫn.</p>
<p>Năm nay, toàn huyện có hơn 1.300 ha mận cho thu hoạch, sản lượng ước đạt 9.000 tấn, giá bán ổn định, người trồng mận có lãi khá.</p>
<p>Lễ hội kéo dài đến hết tháng 5, nhằm quảng bá sản phẩm, thu hút khách du lịch đến với vùng cao nguyên trắng Bắc Hà.</p>
{tail}
</div>
{after}
</div>
{rest}
</div>
<div class="footer">Cổng thông tin điện tử tỉnh Lào Cai. Cập nhật: 25/04/2024 08:00</div>
</body></html>"#
    )
}

fn no_selectors(html: &str) -> Extracted {
    let now = DateTime::parse_from_rfc3339("2024-04-25T09:00:00+07:00").expect("static date");
    extract_html(html, &SiteSelectors::default(), now)
}

fn assert_heuristic_author(ex: &Extracted, want: &str) {
    assert_eq!(ex.author.as_deref(), Some(want), "{:?}", ex.sources);
    assert_eq!(ex.sources.author.as_deref(), Some("heuristic"));
}

#[test]
fn author_from_markup_of_the_cms_families() {
    for (markup, want) in [
        // DNN: a div after the content; the class is matched in any case.
        (r#"<div class="ArticleAuthor">Đức Huy</div>"#, "Đức Huy"),
        // Liferay.
        (r#"<p class="author_post">Minh Tâm</p>"#, "Minh Tâm"),
        (
            r#"<div class="news-author">Tác giả: Hoài Nam</div>"#,
            "Hoài Nam",
        ),
        // Old table layouts.
        (
            r#"<table><tr><td class="tacgia" align="right"><b>Nguyễn Thị Lan - Phòng Y tế</b></td></tr></table>"#,
            "Nguyễn Thị Lan - Phòng Y tế",
        ),
        (r#"<span itemprop="author">Thu Hà</span>"#, "Thu Hà"),
        (
            r#"<a rel="author" href="/tac-gia/minh-anh">Minh Anh</a>"#,
            "Minh Anh",
        ),
        // A date and a source credit in the same line are not part of the name.
        (
            r#"<div class="author">Quang Minh | 24/04/2024 15:20 | Nguồn: Báo Lào Cai</div>"#,
            "Quang Minh",
        ),
        // A label in its own element: the name is next to it.
        (
            r#"<div class="info"><span class="author-label">Tác giả:</span> <b>Thanh Hà</b></div>"#,
            "Thanh Hà",
        ),
    ] {
        let ex = no_selectors(&portal_page("", markup, ""));
        assert_heuristic_author(&ex, want);
        assert!(!ex.body.contains(want), "{markup}: body {}", ex.body);
    }
}

#[test]
fn author_from_a_labelled_line_below_the_title() {
    let html = portal_page("", "", "").replace(
        r#"<div class="date">24/04/2024 15:20</div>"#,
        r#"<div class="date">24/04/2024 15:20</div><div class="info">Tác giả: Minh Anh - Phòng Văn hóa | Lượt xem: 120</div>"#,
    );
    let ex = no_selectors(&html);
    assert_heuristic_author(&ex, "Minh Anh - Phòng Văn hóa");
    // The date is still the article's.
    assert_eq!(
        ex.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2024-04-24T15:20:00+07:00")
    );
}

#[test]
fn author_from_the_byline_closing_the_body_which_leaves_the_body() {
    for (tail, want) in [
        // Right-aligned and bold (tinhuy-style and DNN portals).
        (
            r#"<p style="text-align: right;"><strong>Minh Đức</strong></p>"#,
            "Minh Đức",
        ),
        (
            r#"<p align="right"><em>Văn phòng Tỉnh ủy</em></p>"#,
            "Văn phòng Tỉnh ủy",
        ),
        (
            r#"<p class="text-right">Phạm Thị Hoài, VPTU</p>"#,
            "Phạm Thị Hoài, VPTU",
        ),
        // Plain lines that are strictly names.
        ("<p>PV</p>", "PV"),
        (
            "<p>Nguyễn Văn An - Trần Thị Bình</p>",
            "Nguyễn Văn An - Trần Thị Bình",
        ),
        // Labelled.
        ("<p>Bài và ảnh: Hồng Nhung</p>", "Hồng Nhung"),
    ] {
        let ex = no_selectors(&portal_page(tail, "", ""));
        assert_heuristic_author(&ex, want);
        assert_eq!(ex.sources.body.as_deref(), Some("generic"));
        // Like a `remove` selector on the selector path: the byline is not body text.
        assert!(
            ex.body.ends_with("vùng cao nguyên trắng Bắc Hà."),
            "{tail}: {}",
            ex.body
        );
    }
    // The byline before a closing source credit: the credit stays in the body.
    let ex = no_selectors(&portal_page(
        r#"<p style="text-align:right"><b>Minh Đức</b></p><p><i>Theo Báo Lào Cai</i></p>"#,
        "",
        "",
    ));
    assert_heuristic_author(&ex, "Minh Đức");
    assert!(
        ex.body.ends_with("Bắc Hà.\n\nTheo Báo Lào Cai"),
        "{}",
        ex.body
    );
}

#[test]
fn source_credit_is_not_an_author() {
    for tail in [
        r#"<p style="text-align: right;"><strong>Theo TTXVN</strong></p>"#,
        "<p>Theo TTXVN</p>",
        r#"<p align="right"><b>(Theo Báo Lào Cai)</b></p>"#,
        r#"<p style="text-align: right;"><strong>Nguồn: Báo Lào Cai</strong></p>"#,
    ] {
        let ex = no_selectors(&portal_page(tail, "", ""));
        assert_eq!(ex.author, None, "{tail}");
        assert_eq!(ex.sources.author, None);
        // The credit is text of the republished article and stays in its body.
        assert!(
            ex.body.contains("Theo") || ex.body.contains("Nguồn"),
            "{tail}: {}",
            ex.body
        );
    }
    let ex = no_selectors(&portal_page(
        "",
        r#"<div class="author">Theo TTXVN</div>"#,
        "",
    ));
    assert_eq!(ex.author, None);
}

#[test]
fn comment_authors_are_not_the_author() {
    let comments = r#"<div id="comments"><h3>Ý kiến bạn đọc</h3>
<div class="comment-item"><span class="comment-author">Hoàng Văn Khải</span> <span>24/04/2024 20:00</span>
<p>Lễ hội năm nay rất đẹp, mong huyện tổ chức thường xuyên hơn nữa.</p></div></div>
<section class="binh-luan"><div itemscope itemtype="https://schema.org/Comment"><b itemprop="author">Lê Thị Mai</b>
<p>Cảm ơn bài viết.</p></div></section>
<div class="box-y-kien"><p style="text-align:right"><strong>Trần Minh Tuấn</strong></p></div>"#;
    let ex = no_selectors(&portal_page("", "", comments));
    assert_eq!(ex.author, None, "{:?}", ex.sources);
    assert!(!ex.body.contains("Hoàng Văn Khải"), "{}", ex.body);
}

#[test]
fn related_lists_are_not_the_author() {
    // A related list with authors, by class and without one.
    let related = r#"<div class="tin-lien-quan"><h3>Tin liên quan</h3><ul>
<li><a href="/tin-tuc/1">Lào Cai đón 1 triệu lượt khách du lịch</a> <span class="author">Minh Anh</span></li></ul></div>
<div class="box-news"><ul>
<li><a href="/tin-tuc/2">Hội nghị tổng kết công tác đối ngoại năm 2023</a> <span class="author">Thu Hà</span></li>
<li><a href="/tin-tuc/3">Bắc Hà phát triển du lịch cộng đồng</a> <span class="author">Văn Nam</span></li></ul></div>"#;
    let ex = no_selectors(&portal_page("", "", related));
    assert_eq!(ex.author, None, "{:?}", ex.sources);
    // Nor the author markup of a sidebar box before the title.
    assert!(ex.author.as_deref() != Some("Ban Biên tập"));
}

#[test]
fn date_lines_and_sentences_are_not_the_author() {
    for (tail, after) in [
        (
            r#"<p style="text-align: right;"><strong>24/04/2024</strong></p>"#,
            "",
        ),
        ("<p>Ngày 24 tháng 4 năm 2024</p>", ""),
        ("", r#"<div class="author">24/04/2024 15:20</div>"#),
        // A bold sentence-case line, a navigation label, a closing sentence.
        (
            r#"<p><strong>Phát triển du lịch gắn với bảo tồn văn hóa</strong></p>"#,
            "",
        ),
        (
            r#"<p style="text-align:right"><strong>Tin cùng chuyên mục</strong></p>"#,
            "",
        ),
        (
            r#"<p style="text-align:right">Chúc lễ hội thành công.</p>"#,
            "",
        ),
        // A plain ASCII title-case line (no styling) is not taken as a name.
        ("<p>Related Articles</p>", ""),
    ] {
        let ex = no_selectors(&portal_page(tail, after, ""));
        assert_eq!(ex.author, None, "{tail}{after}: {:?}", ex.author);
    }
}

#[test]
fn author_heuristic_keeps_a_configured_body_and_yields_to_selectors() {
    let html = portal_page(
        r#"<p style="text-align: right;"><strong>Minh Đức</strong></p>"#,
        "",
        "",
    );
    // A body selector and no author selector: the author is found, the configured body is
    // left as the site's selectors make it (a `remove` selector takes a byline out).
    let sel = SiteSelectors {
        body: spec(".content"),
        ..Default::default()
    };
    let now = DateTime::parse_from_rfc3339("2024-04-25T09:00:00+07:00").expect("static date");
    let ex = extract_html(&html, &sel, now);
    assert_heuristic_author(&ex, "Minh Đức");
    assert!(ex.body.ends_with("\n\nMinh Đức"), "{}", ex.body);
    // An author selector that matches wins; one that matches nothing falls back.
    let sel = SiteSelectors {
        author: spec(".content p:last-child"),
        ..Default::default()
    };
    let ex = extract_html(&html, &sel, now);
    assert_eq!(ex.author.as_deref(), Some("Minh Đức"));
    assert_eq!(
        ex.sources.author.as_deref(),
        Some("selector:.content p:last-child")
    );
    let sel = SiteSelectors {
        author: spec(".no-such-author"),
        ..Default::default()
    };
    assert_heuristic_author(&extract_html(&html, &sel, now), "Minh Đức");
}
