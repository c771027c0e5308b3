//! What each fixture site must extract to: `tests/fixtures/<site>/expected.toml`, parsed.
//!
//! Parts: [`expected`] (load one site), [`SITES`], the data types ([`Expected`],
//! [`ExpectedArticle`], [`Change`], [`Caption`], [`Patterns`]), [`ArticleState`] (an article
//! as it reads on a given fixture day, changes applied) and a small independent search
//! oracle ([`fold`], [`tokens`], [`Query`], [`Expected::query`]) for checking search results
//! against the data instead of against strings written in test code.

use std::collections::BTreeMap;

use serde::Deserialize;
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

use super::server::route_key;

/// Every fixture site, by directory name.
pub const SITES: [&str; 6] = ["tinhuy", "nukeviet", "baomoi", "dnn", "liferay", "legacy"];

/// One site's expected.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub site: String,
    pub description: String,
    /// Strings of the page chrome that must appear in no extracted field of any article.
    pub boilerplate: Vec<String>,
    /// Recommended URL patterns (regexes over the full URL) and seeds (root-relative).
    pub patterns: Patterns,
    /// Human-readable list of the noise each later day adds (`day2`, `day3`).
    #[serde(default)]
    pub noise: BTreeMap<String, Vec<String>>,
    #[serde(rename = "article")]
    pub articles: Vec<ExpectedArticle>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patterns {
    pub seeds: Vec<String>,
    pub article: Vec<String>,
    pub follow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
}

/// One article, as it reads on the first day it is published.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedArticle {
    /// Root-relative path and query of its main URL.
    pub path: String,
    /// Other root-relative URLs that serve the same article (category alias, print view,
    /// `utm_` link, `?redirect=`); they are linked from the fixture pages.
    pub aliases: Vec<String>,
    pub first_day: u32,
    pub title: String,
    /// RFC 3339 with +07:00.
    pub published: String,
    /// RFC 3339 with +07:00, where the page states a modification time.
    pub modified: Option<String>,
    pub author: Option<String>,
    pub summary: Option<String>,
    /// The body's paragraphs in order, captions excluded, NFC.
    pub paragraphs: Vec<String>,
    /// Image captions and the index of the paragraph each one precedes.
    pub captions: Vec<Caption>,
    /// `"<site>:<path>"` of articles on other fixture sites that republish this one.
    #[serde(default)]
    pub near_duplicates: Vec<String>,
    /// Path of an article on the same site that must extract to the same NFC text.
    pub same_text_as: Option<String>,
    /// Path of an article on the same site that must get the same content hash.
    pub same_hash_as: Option<String>,
    pub note: Option<String>,
    #[serde(rename = "change", default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caption {
    pub at: usize,
    pub text: String,
}

/// An intended change of an article on a later day.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub day: u32,
    /// `number`, `sentence`, `title`, `paragraph` (real edits: one new version each),
    /// `gone` (404, 410, or a 301 to `redirect_to`), `back` (served again, unchanged).
    pub kind: String,
    /// The HTTP status the article's URLs answer from that day on.
    pub status: u16,
    pub redirect_to: Option<String>,
    /// Fields whose content changed: `title`, `body`.
    pub fields: Vec<String>,
    /// Words removed and added (whitespace-separated, surrounding punctuation stripped).
    #[serde(default)]
    pub removed: Vec<String>,
    #[serde(default)]
    pub added: Vec<String>,
    /// The whole new title / paragraphs when they changed.
    pub title: Option<String>,
    pub paragraphs: Option<Vec<String>>,
    pub describe: Option<String>,
}

impl Change {
    /// A change of content that must create exactly one new version.
    pub fn is_edit(&self) -> bool {
        !self.fields.is_empty()
    }
}

/// An article as it reads on one fixture day.
#[derive(Debug, Clone)]
pub struct ArticleState<'a> {
    pub article: &'a ExpectedArticle,
    pub day: u32,
    /// `None` before its first day; else what its URLs answer (200, 404, 410, 301).
    pub status: Option<u16>,
    pub redirect_to: Option<String>,
    pub title: String,
    pub paragraphs: Vec<String>,
}

impl ArticleState<'_> {
    pub fn is_live(&self) -> bool {
        self.status == Some(200)
    }

    /// Paragraphs joined by a blank line, as luutru stores a body (captions excluded).
    pub fn body(&self) -> String {
        self.paragraphs.join("\n\n")
    }

    /// Title, summary, body and author: the searchable text.
    pub fn search_text(&self) -> String {
        let a = self.article;
        let mut parts = vec![self.title.clone()];
        parts.extend(a.summary.clone());
        parts.extend(self.paragraphs.iter().cloned());
        parts.extend(a.author.clone());
        parts.join("\n")
    }

    /// Whether the folded syllables of `phrase` occur consecutively in [`Self::search_text`].
    pub fn has_phrase(&self, phrase: &str) -> bool {
        let hay = tokens(&self.search_text());
        let needle = tokens(phrase);
        !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle.as_slice())
    }
}

/// A search query in luutru's syntax, folded: words ANDed, `"quoted phrases"`, `-excluded`
/// words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub phrases: Vec<Vec<String>>,
    pub excluded: Vec<String>,
}

impl Query {
    pub fn parse(q: &str) -> Query {
        let mut out = Query::default();
        let mut rest = q;
        while let Some(start) = rest.find('"') {
            let (before, after) = rest.split_at(start);
            let after = &after[1..];
            let end = after.find('"').unwrap_or(after.len());
            out.push_words(before);
            let phrase = tokens(&after[..end]);
            if !phrase.is_empty() {
                out.phrases.push(phrase);
            }
            rest = after.get(end + 1..).unwrap_or_default();
        }
        out.push_words(rest);
        out
    }

    fn push_words(&mut self, text: &str) {
        for w in text.split_whitespace() {
            match w.strip_prefix('-') {
                Some(x) => self.excluded.extend(tokens(x)),
                None => self.phrases.extend(tokens(w).into_iter().map(|t| vec![t])),
            }
        }
    }

    /// Whether `text` satisfies the query.
    pub fn matches(&self, text: &str) -> bool {
        let hay = tokens(text);
        !self.phrases.is_empty()
            && self
                .phrases
                .iter()
                .all(|p| hay.windows(p.len()).any(|w| w == p.as_slice()))
            && !self.excluded.iter().any(|x| hay.contains(x))
    }
}

impl ExpectedArticle {
    /// Main path and aliases.
    pub fn all_paths(&self) -> Vec<&str> {
        std::iter::once(self.path.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .collect()
    }

    /// Day-1 (first-day) body.
    pub fn body(&self) -> String {
        self.paragraphs.join("\n\n")
    }

    pub fn first_paragraph(&self) -> &str {
        self.paragraphs.first().map_or("", String::as_str)
    }

    pub fn last_paragraph(&self) -> &str {
        self.paragraphs.last().map_or("", String::as_str)
    }

    /// The article on `day`, every change up to that day applied.
    pub fn on_day(&self, day: u32) -> ArticleState<'_> {
        let mut st = ArticleState {
            article: self,
            day,
            status: (day >= self.first_day).then_some(200),
            redirect_to: None,
            title: self.title.clone(),
            paragraphs: self.paragraphs.clone(),
        };
        for c in self.changes.iter().filter(|c| c.day <= day) {
            st.status = Some(c.status);
            st.redirect_to = c.redirect_to.clone();
            if let Some(t) = &c.title {
                st.title = t.clone();
            }
            if let Some(p) = &c.paragraphs {
                st.paragraphs = p.clone();
            }
        }
        st
    }

    /// The changes that happen on `day`.
    pub fn changes_on(&self, day: u32) -> Vec<&Change> {
        self.changes.iter().filter(|c| c.day == day).collect()
    }
}

impl Expected {
    /// The article served under `path_and_query` (main path or alias; query order,
    /// `;jsessionid=` and a `utm_` tail do not matter).
    pub fn article(&self, path_and_query: &str) -> &ExpectedArticle {
        self.find(path_and_query)
            .unwrap_or_else(|| panic!("{}: no expected article at {path_and_query}", self.site))
    }

    pub fn find(&self, path_and_query: &str) -> Option<&ExpectedArticle> {
        let key = route_key(path_and_query);
        self.articles
            .iter()
            .find(|a| a.all_paths().iter().any(|p| route_key(p) == key))
    }

    /// Articles whose URLs answer 200 on `day`.
    pub fn live_on(&self, day: u32) -> Vec<&ExpectedArticle> {
        self.articles
            .iter()
            .filter(|a| a.on_day(day).is_live())
            .collect()
    }

    /// Articles first published on `day` (day > 1: new articles).
    pub fn new_on(&self, day: u32) -> Vec<&ExpectedArticle> {
        self.articles
            .iter()
            .filter(|a| a.first_day == day)
            .collect()
    }

    /// Every change happening on `day`, with its article.
    pub fn changes_on(&self, day: u32) -> Vec<(&ExpectedArticle, &Change)> {
        self.articles
            .iter()
            .flat_map(|a| a.changes_on(day).into_iter().map(move |c| (a, c)))
            .collect()
    }

    /// Articles live on `day` matching a query in luutru's syntax (see [`Query`]).
    pub fn query(&self, day: u32, query: &str) -> Vec<&ExpectedArticle> {
        let q = Query::parse(query);
        self.articles
            .iter()
            .filter(|a| {
                let s = a.on_day(day);
                s.is_live() && q.matches(&s.search_text())
            })
            .collect()
    }

    /// Articles live on `day` whose text has the phrase (folded, see [`fold`]).
    pub fn matching(&self, day: u32, phrase: &str) -> Vec<&ExpectedArticle> {
        self.articles
            .iter()
            .filter(|a| {
                let s = a.on_day(day);
                s.is_live() && s.has_phrase(phrase)
            })
            .collect()
    }
}

/// Loads `tests/fixtures/<site>/expected.toml`.
pub fn expected(site: &str) -> Expected {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(site)
        .join("expected.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Case- and diacritic-folded form: NFD, combining marks dropped, đ → d, lower case.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

/// Folded syllables: maximal runs of letters and digits.
pub fn tokens(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}
