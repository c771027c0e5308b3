//! `<meta>` tags as a fallback source of article fields.
//!
//! Parts: [`MetaTags::read`] collects the tags of a page once; the `title`, `published`,
//! `modified`, `author` and `summary` lookups return a value with the tag name that gave it,
//! for provenance (`meta:og:title`).

use scraper::Html;
use std::collections::HashMap;

use super::text::clean_text;

/// The `<meta>` values of one page, keyed by lower-cased `property`, `name` or `itemprop`.
#[derive(Debug, Default)]
pub struct MetaTags {
    values: HashMap<String, String>,
}

/// A value found in the metadata and the key that held it.
pub type Found = (String, &'static str);

impl MetaTags {
    pub fn read(doc: &Html) -> Self {
        let mut values = HashMap::new();
        // By tag name: selector matching over the whole tree costs more than this.
        for el in doc.root_element().descendent_elements() {
            let v = el.value();
            if v.name() != "meta" {
                continue;
            }
            let Some(content) = v.attr("content") else {
                continue;
            };
            let content = clean_text(content);
            if content.is_empty() {
                continue;
            }
            for key_attr in ["property", "name", "itemprop"] {
                if let Some(key) = v.attr(key_attr) {
                    // The first tag of a name wins, as in browsers' and crawlers' readers.
                    values
                        .entry(key.trim().to_ascii_lowercase())
                        .or_insert_with(|| content.clone());
                }
            }
        }
        Self { values }
    }

    fn first(&self, keys: &[&'static str]) -> Option<Found> {
        keys.iter()
            .find_map(|k| self.values.get(*k).map(|v| (v.clone(), *k)))
    }

    pub fn title(&self) -> Option<Found> {
        self.first(&["og:title", "twitter:title", "title"])
    }

    /// Raw published-date text (parsed by the caller, which reports unparseable values).
    pub fn published(&self) -> Option<Found> {
        self.first(&[
            "article:published_time",
            "datepublished",
            "pubdate",
            "publishdate",
            "dc.date.issued",
            "dcterms.created",
            "og:published_time",
            "date",
        ])
    }

    pub fn modified(&self) -> Option<Found> {
        self.first(&[
            "article:modified_time",
            "datemodified",
            "og:updated_time",
            "dcterms.modified",
            "lastmod",
        ])
    }

    pub fn author(&self) -> Option<Found> {
        // `article:author` is often a profile URL, which is no name.
        ["author", "article:author", "dc.creator"]
            .iter()
            .find_map(|k| {
                let v = self.values.get(*k)?;
                if v.starts_with("http://") || v.starts_with("https://") {
                    None
                } else {
                    Some((v.clone(), *k))
                }
            })
    }

    pub fn summary(&self) -> Option<Found> {
        self.first(&["description", "og:description", "twitter:description"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_og_and_itemprop_tags() {
        let doc = Html::parse_document(
            r#"<html><head>
            <meta property="og:title" content="Tiêu đề&nbsp;bài">
            <meta name="description" content=" Tóm tắt ">
            <meta property="og:description" content="Khác">
            <meta itemprop="datePublished" content="2025-10-22T19:25:52+07:00">
            <meta property="article:author" content="https://example.org/tac-gia">
            <meta name="author" content="Phạm Thị Hoài">
            <meta name="pubdate" content="">
            </head><body></body></html>"#,
        );
        let m = MetaTags::read(&doc);
        assert_eq!(m.title(), Some(("Tiêu đề bài".into(), "og:title")));
        assert_eq!(m.summary(), Some(("Tóm tắt".into(), "description")));
        assert_eq!(
            m.published(),
            Some(("2025-10-22T19:25:52+07:00".into(), "datepublished"))
        );
        assert_eq!(m.author(), Some(("Phạm Thị Hoài".into(), "author")));
        assert_eq!(m.modified(), None);
    }
}
