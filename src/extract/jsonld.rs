//! JSON-LD (`<script type="application/ld+json">`) as a source of article fields.
//!
//! Parts: [`find_article`] finds the first article object of a page (top level, in an
//! array or in `@graph`; `@type` a string or an array) and reads headline, dates, author
//! (string, object or array of either) and description into [`JsonLdArticle`].
//! Malformed JSON is skipped: pages often ship broken blocks next to good ones.

use scraper::Html;
use serde_json::Value;

use super::text::clean_text;

/// The article fields a page's JSON-LD states (raw text; dates are parsed by the caller).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonLdArticle {
    pub headline: Option<String>,
    pub date_published: Option<String>,
    pub date_modified: Option<String>,
    pub author: Option<String>,
    pub description: Option<String>,
    pub article_body: Option<String>,
}

const ARTICLE_TYPES: &[&str] = &[
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "blogposting",
    "report",
    "scholarlyarticle",
    "techarticle",
    "liveblogposting",
];

fn is_article(obj: &serde_json::Map<String, Value>) -> bool {
    let ty_matches = |s: &str| {
        let s = s
            .rsplit(['/', ':'])
            .next()
            .unwrap_or(s)
            .to_ascii_lowercase();
        ARTICLE_TYPES.contains(&s.as_str())
    };
    match obj.get("@type") {
        Some(Value::String(s)) => ty_matches(s),
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str().is_some_and(ty_matches)),
        _ => false,
    }
}

/// Depth-first search for the first article object.
fn find_in(v: &Value, depth: usize) -> Option<&serde_json::Map<String, Value>> {
    if depth > 8 {
        return None;
    }
    match v {
        Value::Array(items) => items.iter().find_map(|i| find_in(i, depth + 1)),
        Value::Object(obj) => {
            if is_article(obj) {
                return Some(obj);
            }
            if let Some(g) = obj.get("@graph") {
                if let Some(found) = find_in(g, depth + 1) {
                    return Some(found);
                }
            }
            // WebPage { mainEntity: NewsArticle } is common on newspaper platforms.
            obj.get("mainEntity")
                .or_else(|| obj.get("mainEntityOfPage"))
                .and_then(|m| find_in(m, depth + 1))
        }
        _ => None,
    }
}

fn string_of(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => clean_text(s),
        Value::Number(n) => n.to_string(),
        Value::Object(o) => {
            return o
                .get("name")
                .or_else(|| o.get("@value"))
                .and_then(string_of)
        }
        Value::Array(a) => return a.iter().find_map(string_of),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn author_of(v: &Value) -> Option<String> {
    match v {
        Value::Array(items) => {
            let names: Vec<String> = items.iter().filter_map(author_of).collect();
            (!names.is_empty()).then(|| names.join(", "))
        }
        Value::Object(o) => o.get("name").and_then(string_of),
        Value::String(s) => {
            let s = clean_text(s);
            (!s.is_empty() && !s.starts_with("http")).then_some(s)
        }
        _ => None,
    }
}

/// Parses a JSON-LD block, tolerating the raw newlines and tabs inside strings that many
/// CMSs emit.
fn parse_block(text: &str) -> Option<Value> {
    let trimmed = text.trim().trim_end_matches(';');
    if let Ok(v) = serde_json::from_str(trimmed) {
        return Some(v);
    }
    let cleaned: String = trimmed
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    serde_json::from_str(&cleaned).ok()
}

/// The first article object in the page's JSON-LD, if any.
pub fn find_article(doc: &Html) -> Option<JsonLdArticle> {
    let scripts = doc.root_element().descendent_elements().filter(|e| {
        e.value().name() == "script"
            && e.value()
                .attr("type")
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
    });
    for script in scripts {
        let text: String = script.text().collect();
        let Some(v) = parse_block(&text) else {
            continue;
        };
        if let Some(obj) = find_in(&v, 0) {
            let get = |k: &str| obj.get(k).and_then(string_of);
            return Some(JsonLdArticle {
                headline: get("headline").or_else(|| get("name")),
                date_published: get("datePublished").or_else(|| get("dateCreated")),
                date_modified: get("dateModified"),
                author: obj.get("author").and_then(author_of),
                description: get("description"),
                article_body: get("articleBody"),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(json: &str) -> Html {
        Html::parse_document(&format!(
            "<html><head><script type=\"application/ld+json\">{json}</script></head><body></body></html>"
        ))
    }

    #[test]
    fn news_article_inside_graph() {
        let doc = page(
            r#"{"@context":"https://schema.org","@graph":[
                {"@type":"WebSite","name":"Báo Gia Lai"},
                {"@type":"BreadcrumbList","itemListElement":[]},
                {"@type":["NewsArticle"],"headline":"Tiêu đề  bài","datePublished":"2025-10-22T19:25:52+07:00",
                 "dateModified":"2025-10-23T08:00:00+07:00",
                 "author":[{"@type":"Person","name":"Minh Anh"},{"@type":"Person","name":"Thu Hà"}],
                 "description":"Tóm tắt"}]}"#,
        );
        let a = find_article(&doc).expect("article in @graph");
        assert_eq!(a.headline.as_deref(), Some("Tiêu đề bài"));
        assert_eq!(
            a.date_published.as_deref(),
            Some("2025-10-22T19:25:52+07:00")
        );
        assert_eq!(
            a.date_modified.as_deref(),
            Some("2025-10-23T08:00:00+07:00")
        );
        assert_eq!(a.author.as_deref(), Some("Minh Anh, Thu Hà"));
        assert_eq!(a.description.as_deref(), Some("Tóm tắt"));
    }

    #[test]
    fn author_as_string_or_object_and_broken_blocks() {
        let doc = Html::parse_document(
            r#"<script type="application/ld+json">{ broken </script>
            <script type="application/ld+json">[{"@type":"Organization","name":"X"},
              {"@type":"ReportageNewsArticle","headline":"H","author":"Phạm Thị Hoài"}]</script>"#,
        );
        let a = find_article(&doc).expect("article in array");
        assert_eq!(a.author.as_deref(), Some("Phạm Thị Hoài"));
        let doc =
            page(r#"{"@type":"Article","headline":"H","author":{"@type":"Person","name":"A B"}}"#);
        assert_eq!(
            find_article(&doc).and_then(|a| a.author).as_deref(),
            Some("A B")
        );
    }

    #[test]
    fn raw_newlines_in_strings_are_tolerated() {
        let doc = page("{\"@type\":\"NewsArticle\",\"headline\":\"Dòng một\nDòng hai\"}");
        assert_eq!(
            find_article(&doc).and_then(|a| a.headline).as_deref(),
            Some("Dòng một Dòng hai")
        );
    }

    #[test]
    fn no_article_type_gives_none() {
        let doc = page(r#"{"@type":"WebPage","name":"Trang chủ"}"#);
        assert_eq!(find_article(&doc), None);
    }
}
