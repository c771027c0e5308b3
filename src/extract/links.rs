//! Outgoing links and the canonical URL of a page.
//!
//! Parts: [`links_and_canonical`] (the one entry point) and the `<base href>` resolution it
//! shares between both.

use std::collections::HashSet;

use scraper::Html;
use url::Url;

/// Resolves `href` against `base`: http(s) only, fragment dropped.
fn resolve(base: &Url, href: &str) -> Option<Url> {
    // Whitespace and control characters inside hrefs are stripped by browsers.
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let lower = href.get(..11).unwrap_or(href).to_ascii_lowercase();
    if lower.starts_with("javascript:") || lower.starts_with("mailto:") || lower.starts_with("tel:")
    {
        return None;
    }
    let mut url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// Links of the page in document order, deduplicated, and its canonical URL.
///
/// One pass over the elements, matched by tag name: CSS selector matching over the whole
/// tree, three times, cost more than the rest of link extraction.
pub fn links_and_canonical(doc: &Html, page_url: &Url) -> (Vec<Url>, Option<Url>) {
    let mut base_href: Option<&str> = None;
    let mut canonical_href: Option<&str> = None;
    let mut hrefs: Vec<&str> = Vec::new();
    // Pages repeat the same href many times (menus, teasers); resolving is the costly step.
    let mut seen_raw: HashSet<&str> = HashSet::new();
    for el in doc.root_element().descendent_elements() {
        let v = el.value();
        match v.name() {
            "a" | "area" => {
                if let Some(h) = v.attr("href") {
                    if seen_raw.insert(h) {
                        hrefs.push(h);
                    }
                }
            }
            "base" if base_href.is_none() => base_href = v.attr("href"),
            "link" if canonical_href.is_none() => {
                let canonical = v.attr("rel").is_some_and(|r| {
                    r.split_ascii_whitespace()
                        .any(|t| t.eq_ignore_ascii_case("canonical"))
                });
                if canonical {
                    canonical_href = v.attr("href");
                }
            }
            _ => {}
        }
    }
    let base = base_href
        .and_then(|h| page_url.join(h.trim()).ok())
        .unwrap_or_else(|| page_url.clone());
    let mut seen = HashSet::new();
    let mut links = Vec::new();
    for h in hrefs {
        if let Some(url) = resolve(&base, h) {
            if seen.insert(url.as_str().to_string()) {
                links.push(url);
            }
        }
    }
    let canonical = canonical_href.and_then(|h| resolve(&base, h));
    (links, canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_href_fragments_dedup_and_order() {
        let doc = Html::parse_document(
            r##"<html><head><base href="/news/Pages/">
            <link rel="Canonical" href="new.aspx?ItemID=7#top"></head><body>
            <a href="new.aspx?CateID=1&amp;ItemID=7#comments">a</a>
            <a href="list.aspx?p=2">b</a>
            <a href=" new.aspx?CateID=1&amp;ItemID=7 ">dup</a>
            <a href="#top">self</a><a href="javascript:void(0)">js</a>
            <a href="mailto:x@y.vn">mail</a><a href="ftp://h/x">ftp</a>
            <a href="//cdn.example.vn/x.html">proto-relative</a>
            <a href="https://Example.VN/abs">abs</a>
            <map><area href="/map.aspx"></map>
            </body></html>"##,
        );
        let page = Url::parse("http://tinhuyhaiduong.vn/a/b.aspx").expect("static URL");
        let (links, canonical) = links_and_canonical(&doc, &page);
        let got: Vec<&str> = links.iter().map(Url::as_str).collect();
        assert_eq!(
            got,
            [
                "http://tinhuyhaiduong.vn/news/Pages/new.aspx?CateID=1&ItemID=7",
                "http://tinhuyhaiduong.vn/news/Pages/list.aspx?p=2",
                "http://cdn.example.vn/x.html",
                "https://example.vn/abs",
                "http://tinhuyhaiduong.vn/map.aspx",
            ]
        );
        assert_eq!(
            canonical.as_ref().map(Url::as_str),
            Some("http://tinhuyhaiduong.vn/news/Pages/new.aspx?ItemID=7")
        );
    }

    #[test]
    fn without_base_links_resolve_against_page() {
        let doc = Html::parse_document(r#"<a href="x.html">x</a><a href="../y.html">y</a>"#);
        let page = Url::parse("https://site.vn/news/cat/page.html").expect("static URL");
        let (links, canonical) = links_and_canonical(&doc, &page);
        let got: Vec<&str> = links.iter().map(Url::as_str).collect();
        assert_eq!(
            got,
            [
                "https://site.vn/news/cat/x.html",
                "https://site.vn/news/y.html"
            ]
        );
        assert_eq!(canonical, None);
    }
}
