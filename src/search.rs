//! Full-text search over the archive: a tantivy index of the latest versions, and a scan of
//! the store for "as it read at that moment" questions.
//!
//! The sled store stays the source of truth. The index under `<store>/index/` is derived
//! data: it holds one document per article (its latest version) and can be dropped and
//! rebuilt at any time ([`SearchIndex::rebuild`], `luutru reindex`).
//!
//! Vietnamese is written in syllables separated by spaces, so a word of the index is a
//! syllable. Researchers type without diacritics, so every syllable is folded: lower-cased,
//! decomposed (NFD), combining marks dropped and `đ` mapped to `d` ("Đường Chí Linh" is
//! indexed as `duong chi linh`). Query text goes through the same folding, so "chi linh",
//! "CHÍ LINH" and "Chí Linh" are the same query. Tone placement ("hoà"/"hòa") needs no special
//! case: the tone is dropped either way.
//!
//! Parts:
//! - Folding: [`fold`], [`words`] and [`FoldingTokenizer`] (registered as [`TOKENIZER`]); a
//!   token's offsets point into the original text, which is how snippets show diacritics.
//!   [`PairTokenizer`] ([`PAIR_TOKENIZER`]) indexes adjacent pairs for fast phrases.
//! - [`TextQuery`]: the query language. Words are ANDed; `"…"` is a phrase; `-word` or
//!   `-"…"` excludes; a word that folds to several syllables (`covid-19`) is a phrase. Any
//!   other punctuation only separates words. Each term must occur in one of title, summary,
//!   body or author; an excluded term must occur in none.
//! - [`SearchIndex`]: open (created if missing), rebuild, upsert, commit, search. The four
//!   text fields are indexed together as one multi-valued field of words (one posting list
//!   per word) and one of word pairs with positions (phrases), plus the title again for a
//!   title boost. Only the title and what a hit lists are stored: a hit's snippet is cut
//!   from its version in the store (one read per hit), so the text is not kept twice.
//!   Filters (site, status, published range) are unscored clauses; `published` is a fast
//!   field for date order.
//! - [`search_as_of`]: each article as it read at a moment, by scanning the store (cost in
//!   its doc).
//! - [`snippet`] and [`Hit`]: the original text around the best cluster of matches, each
//!   run of matched words between [`MARK_OPEN`] and [`MARK_CLOSE`] (`«` `»`: rare in
//!   Vietnamese news text, which quotes with “ ”).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use tantivy::collector::{ScoreSegmentTweaker, ScoreTweaker, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
    STRING,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader,
    TantivyDocument, TantivyError, Term,
};
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

use crate::query::{ArticleView, Filter};
use crate::store::model::{ArticleRecord, ArticleStatus};
use crate::store::ArticleStore;
use crate::{Error, Result};

/// Name under which [`FoldingTokenizer`] is registered on the index.
pub const TOKENIZER: &str = "luutru_vi_folded";
/// Name under which [`PairTokenizer`] is registered on the index.
pub const PAIR_TOKENIZER: &str = "luutru_vi_folded_pairs";
/// Opens a run of matched words in a snippet.
pub const MARK_OPEN: &str = "«";
/// Closes a run of matched words in a snippet.
pub const MARK_CLOSE: &str = "»";
/// Words shown in a snippet.
pub const SNIPPET_WORDS: usize = 30;

/// Longer "words" are run-together URLs or garbage; nobody searches for them.
const MAX_TOKEN_BYTES: usize = 64;
/// Memory of the one indexing thread (tantivy needs at least 15 MB). The index is updated
/// at the end of every crawl, in the crawl's process, so this adds to the crawl's peak
/// resident memory, plus what tantivy uses outside its budget.
const WRITER_MEMORY_BYTES: usize = 15_000_000;
/// One thread: indexing the articles a crawl changed takes seconds, and every thread
/// would have a budget of its own.
const WRITER_THREADS: usize = 1;
/// Documents added between commits when many are (re)indexed at once. tantivy queues up
/// to 10,000 added documents for its indexing thread, each with its full text, outside its
/// memory budget: 20,000 new articles took a crawl's resident memory from 150 to 370 MB at
/// the end of the run. A commit waits for the queue to drain. 100 rather than 500: the
/// smaller commits and the merge cap below took the index update after a 20,000-article
/// crawl from 200 to 148 MB peak resident memory, at the same speed. The index has more
/// segments: 93 MB instead of 99 at 20,000 articles, but 449 instead of 393 at 100,000
/// (benches/README.md, "Crawl").
pub const COMMIT_EVERY_DOCS: usize = 100;
/// Present in the index directory while a rebuild is under way: a rebuild commits as it
/// goes, so an index with this file is incomplete and is rebuilt when next opened.
const REBUILDING_MARK: &str = "luutru-rebuilding";
/// Segments with more documents than this are not merged further. A merge maps and rewrites
/// every segment it takes, so its memory grows with them; capped, a merge costs the same at
/// 100,000 articles as at 10,000, and a search visits a few more segments. A merge's
/// memory is mostly the pages of the segments it reads (mapped files, counted in the
/// resident set): at 10,000 these reached 57 MB during a 20,000-article update, at 2,000
/// about 23 MB.
const MERGE_MAX_DOCS: usize = 2_000;
/// Weight of a title match on top of its match in the combined text (BM25 for both).
const TITLE_BOOST: f32 = 2.0;
/// Searched fields and their weights in [`search_as_of`]'s scan: a title match says more
/// than a body match.
const TEXT_FIELDS: [(&str, f32); 4] = [
    ("title", 3.0),
    ("summary", 1.5),
    ("body", 1.0),
    ("author", 1.0),
];
/// Words of context kept before the first match of a snippet.
const SNIPPET_LEAD_WORDS: usize = 6;
/// Snippet windows tried per text (anchored on the first matches).
const SNIPPET_MAX_WINDOWS: usize = 400;

// ---- folding ----

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Appends the folded form of `c`: lower case, no combining marks, `đ` as `d`.
fn push_folded(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let table = fold_table();
    match table.get(c as usize - 0x80).copied() {
        Some(FOLDS_TO_NOTHING) => {}
        Some(FOLD_SLOWLY) | None => push_folded_slowly(c, out),
        Some(folded) => out.push(char::from_u32(folded).unwrap_or(c)),
    }
}

fn push_folded_slowly(c: char, out: &mut String) {
    for lower in c.to_lowercase() {
        // đ is a letter of its own, not d plus a mark, so NFD leaves it alone.
        if lower == 'đ' {
            out.push('d');
            continue;
        }
        decompose_canonical(lower, |d| {
            if !is_combining_mark(d) {
                out.push(d)
            }
        });
    }
}

/// Table entries of [`fold_table`] that are not a char.
const FOLDS_TO_NOTHING: u32 = u32::MAX;
const FOLD_SLOWLY: u32 = u32::MAX - 1;
/// The table covers U+0080 up to here: Latin with all of Vietnamese's letters (up to
/// U+1EFF) and the combining marks.
const FOLD_TABLE_END: u32 = 0x2000;

/// The fold of each char from U+0080 to [`FOLD_TABLE_END`] when it is one char or nothing
/// (almost always), computed once: folding every char through `to_lowercase` and NFD is
/// what indexing and `search_as_of` spend most of their time on.
fn fold_table() -> &'static [u32] {
    static TABLE: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0x80..FOLD_TABLE_END)
            .map(|u| {
                let Some(c) = char::from_u32(u) else {
                    return FOLD_SLOWLY;
                };
                let mut s = String::new();
                push_folded_slowly(c, &mut s);
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (None, _) => FOLDS_TO_NOTHING,
                    (Some(one), None) => u32::from(one),
                    _ => FOLD_SLOWLY,
                }
            })
            .collect()
    })
}

/// The folded form of `text`, character by character (punctuation and spaces kept):
/// `fold("Đường Chí Linh") == "duong chi linh"`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_folded(c, &mut out);
    }
    out
}

/// One folded word and where it is in the original text (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// The folded words of `text`, as the index sees them.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut tokenizer = FoldingTokenizer;
    let mut stream = tokenizer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push(Word {
            text: t.text.clone(),
            start: t.offset_from,
            end: t.offset_to,
        });
    }
    out
}

/// The folded words of `text` joined by single spaces, with a space at each end, so a phrase
/// occurs in it exactly when `" w1 w2 "` is a substring.
fn folded_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut tokenizer = FoldingTokenizer;
    let mut stream = tokenizer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push_str(&t.text);
        out.push(' ');
    }
    out
}

/// Splits text into folded words (letters, digits and their combining marks; anything else
/// separates words). Offsets are those of the original text.
#[derive(Debug, Clone, Copy, Default)]
pub struct FoldingTokenizer;

/// The token stream of [`FoldingTokenizer`].
pub struct FoldingTokenStream<'a> {
    text: &'a str,
    pos: usize,
    next_position: usize,
    token: Token,
}

impl Tokenizer for FoldingTokenizer {
    type TokenStream<'a> = FoldingTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> FoldingTokenStream<'a> {
        FoldingTokenStream {
            text,
            pos: 0,
            next_position: 0,
            token: Token::default(),
        }
    }
}

impl TokenStream for FoldingTokenStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            let rest = &self.text[self.pos..];
            let Some((skip, _)) = rest.char_indices().find(|&(_, c)| is_word_char(c)) else {
                self.pos = self.text.len();
                return false;
            };
            let start = self.pos + skip;
            let mut end = self.text.len();
            self.token.text.clear();
            for (i, c) in self.text[start..].char_indices() {
                if !is_word_char(c) {
                    end = start + i;
                    break;
                }
                push_folded(c, &mut self.token.text);
            }
            self.pos = end;
            // A lone combining mark folds to nothing. Skipped words take no position, the
            // same in the index and in `search_as_of`'s matching.
            if self.token.text.is_empty() || self.token.text.len() > MAX_TOKEN_BYTES {
                continue;
            }
            self.token.offset_from = start;
            self.token.offset_to = end;
            self.token.position = self.next_position;
            self.token.position_length = 1;
            self.next_position += 1;
            return true;
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// Adjacent pairs of folded words (`"chi linh"`), each at the position of its first word.
///
/// Most Vietnamese words are two syllables, and the common syllables occur in nearly every
/// article, so a phrase query over single syllables checks positions in nearly every
/// document. Over pairs, a phrase of n words is n − 1 pair terms at consecutive positions
/// (one term for two words), whose posting lists are short. Pairs never span two values of
/// a field, so phrase semantics are unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct PairTokenizer;

/// The token stream of [`PairTokenizer`].
pub struct PairTokenStream<'a> {
    words: FoldingTokenStream<'a>,
    /// The word before the current one (its buffer is swapped, never cloned).
    previous: Token,
    has_previous: bool,
    token: Token,
}

impl Tokenizer for PairTokenizer {
    type TokenStream<'a> = PairTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PairTokenStream<'a> {
        PairTokenStream {
            words: FoldingTokenizer.token_stream_owned(text),
            previous: Token::default(),
            has_previous: false,
            token: Token::default(),
        }
    }
}

impl FoldingTokenizer {
    fn token_stream_owned(self, text: &str) -> FoldingTokenStream<'_> {
        FoldingTokenStream {
            text,
            pos: 0,
            next_position: 0,
            token: Token::default(),
        }
    }
}

impl TokenStream for PairTokenStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            if !self.words.advance() {
                return false;
            }
            // The word stream writes each word into the buffer it is given back, so
            // swapping keeps two buffers going for the whole text.
            if !std::mem::replace(&mut self.has_previous, true) {
                std::mem::swap(&mut self.previous, self.words.token_mut());
                continue;
            }
            let (previous, current) = (&self.previous, self.words.token());
            self.token.text.clear();
            self.token.text.push_str(&previous.text);
            self.token.text.push(' ');
            self.token.text.push_str(&current.text);
            self.token.offset_from = previous.offset_from;
            self.token.offset_to = current.offset_to;
            self.token.position = previous.position;
            self.token.position_length = 1;
            std::mem::swap(&mut self.previous, self.words.token_mut());
            return true;
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

// ---- the query language ----

/// A parsed query: phrases (one or more folded words) that must occur, and phrases that
/// must not. See the module doc for the syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextQuery {
    pub required: Vec<Vec<String>>,
    pub excluded: Vec<Vec<String>>,
}

impl TextQuery {
    pub fn parse(text: &str) -> TextQuery {
        let mut q = TextQuery::default();
        let mut rest = text;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let mut negate = false;
            if let Some(r) = rest.strip_prefix('-') {
                rest = r;
                // A dash on its own ("Hà Nội - Hải Phòng") is punctuation, not an exclusion.
                if r.starts_with(char::is_whitespace) {
                    continue;
                }
                negate = true;
            }
            let item;
            if let Some(r) = rest.strip_prefix('"') {
                match r.find('"') {
                    Some(i) => {
                        item = &r[..i];
                        rest = &r[i + 1..];
                    }
                    None => {
                        item = r;
                        rest = "";
                    }
                }
            } else {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"')
                    .unwrap_or(rest.len());
                item = &rest[..end];
                rest = &rest[end..];
            }
            let phrase: Vec<String> = words(item).into_iter().map(|w| w.text).collect();
            if phrase.is_empty() {
                continue;
            }
            let list = if negate {
                &mut q.excluded
            } else {
                &mut q.required
            };
            if !list.contains(&phrase) {
                list.push(phrase);
            }
        }
        q
    }

    /// No required and no excluded terms: every article matches.
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.excluded.is_empty()
    }

    /// In-memory matching with the index's semantics. `fields` are (text, weight) pairs;
    /// returns `None` when the texts do not match, else a score: the sum over required
    /// phrases and fields of `weight × tf / (tf + 1.2)` (BM25's saturation, without the
    /// collection statistics a scan does not have).
    pub fn score_texts(&self, fields: &[(&str, f32)]) -> Option<f32> {
        let lines: Vec<(String, f32)> = fields
            .iter()
            .map(|(text, weight)| (folded_line(text), *weight))
            .collect();
        let pattern = |phrase: &[String]| format!(" {} ", phrase.join(" "));
        for phrase in &self.excluded {
            let p = pattern(phrase);
            if lines.iter().any(|(line, _)| line.contains(&p)) {
                return None;
            }
        }
        let mut score = 0.0;
        for phrase in &self.required {
            let p = pattern(phrase);
            let mut found = false;
            for (line, weight) in &lines {
                let tf = count_from_spaces(line, &p);
                if tf > 0 {
                    found = true;
                    score += weight * tf as f32 / (tf as f32 + 1.2);
                }
            }
            if !found {
                return None;
            }
        }
        Some(score)
    }
}

/// Occurrences of `pattern` (which starts with a space) in `line`, overlapping ones
/// included: in `" camera camera "` the words share a space, so `" camera "` occurs twice.
fn count_from_spaces(line: &str, pattern: &str) -> usize {
    let mut n = 0;
    let mut from = 0;
    while let Some(i) = line[from..].find(pattern) {
        n += 1;
        // The match starts with an ASCII space, so one byte on is a char boundary.
        from += i + 1;
    }
    n
}

// ---- snippets ----

/// A window of about `max_words` words of `text` around the best cluster of `query`'s
/// required phrases, matched words marked; `None` when nothing required occurs in `text`.
/// Whitespace (paragraph breaks included) is collapsed to single spaces; `…` marks text cut
/// at either end.
pub fn snippet(text: &str, query: &TextQuery, max_words: usize) -> Option<String> {
    let words = words(text);
    let max_words = max_words.max(1);
    let mut marked = vec![false; words.len()];
    // (word index, phrase index) of every match, in text order.
    let mut starts: Vec<(usize, usize)> = Vec::new();
    for (pi, phrase) in query.required.iter().enumerate() {
        if phrase.len() > words.len() {
            continue;
        }
        for i in 0..=words.len() - phrase.len() {
            let hit = words[i..i + phrase.len()]
                .iter()
                .zip(phrase)
                .all(|(w, p)| w.text == *p);
            if hit {
                marked[i..i + phrase.len()].fill(true);
                starts.push((i, pi));
            }
        }
    }
    if starts.is_empty() {
        return None;
    }
    starts.sort_unstable();
    let latest_start = words.len().saturating_sub(max_words);
    // Some context before the first match, but never so much that it pushes it out.
    let lead_words = SNIPPET_LEAD_WORDS.min(max_words / 3);
    let mut best: Option<(usize, usize, usize)> = None; // (distinct phrases, matches, start)
    let mut seen = vec![false; query.required.len()];
    for &(anchor, _) in starts.iter().take(SNIPPET_MAX_WINDOWS) {
        let lo = anchor.saturating_sub(lead_words).min(latest_start);
        let hi = lo + max_words;
        seen.fill(false);
        let first = starts.partition_point(|&(t, _)| t < lo);
        let mut count = 0;
        for &(t, p) in &starts[first..] {
            if t >= hi {
                break;
            }
            seen[p] = true;
            count += 1;
        }
        let distinct = seen.iter().filter(|s| **s).count();
        if best.is_none_or(|(d, c, _)| (distinct, count) > (d, c)) {
            best = Some((distinct, count, lo));
        }
    }
    let lo = best.map_or(0, |(_, _, lo)| lo);
    let hi = (lo + max_words).min(words.len());
    Some(render(text, &words, lo, hi, &marked))
}

/// The opening words of `text`, unmarked (for hits that matched elsewhere).
fn lead(text: &str, max_words: usize) -> String {
    let words = words(text);
    let hi = max_words.max(1).min(words.len());
    render(text, &words, 0, hi, &vec![false; words.len()])
}

fn render(text: &str, words: &[Word], lo: usize, hi: usize, marked: &[bool]) -> String {
    if words.is_empty() || lo >= hi {
        let mut out = String::new();
        push_collapsed(&mut out, text);
        return out.trim().to_string();
    }
    let from = if lo == 0 { 0 } else { words[lo].start };
    let to = if hi >= words.len() {
        text.len()
    } else {
        words[hi - 1].end
    };
    let mut out = String::new();
    if lo > 0 {
        out.push('…');
    }
    let mut cursor = from;
    let mut i = lo;
    while i < hi {
        if !marked[i] {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < hi && marked[j + 1] {
            j += 1;
        }
        push_collapsed(&mut out, &text[cursor..words[i].start]);
        out.push_str(MARK_OPEN);
        push_collapsed(&mut out, &text[words[i].start..words[j].end]);
        out.push_str(MARK_CLOSE);
        cursor = words[j].end;
        i = j + 1;
    }
    push_collapsed(&mut out, &text[cursor..to]);
    let mut out = out.trim().to_string();
    if hi < words.len() {
        out.push('…');
    }
    out
}

fn push_collapsed(out: &mut String, s: &str) {
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    if space && !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

/// The snippet of a hit: from the body, else the summary, else the title; an unmarked
/// opening when the match was elsewhere (the author) or the query has no required words.
fn hit_snippet(query: &TextQuery, title: &str, summary: &str, body: &str) -> String {
    for text in [body, summary, title] {
        if let Some(s) = snippet(text, query, SNIPPET_WORDS) {
            return s;
        }
    }
    if summary.trim().is_empty() {
        lead(body, SNIPPET_WORDS)
    } else {
        lead(summary, SNIPPET_WORDS)
    }
}

// ---- results ----

/// Order of search results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchOrder {
    /// Best match first.
    #[default]
    Relevance,
    /// Newest publication first (undated last), ties by relevance.
    Newest,
}

/// One search result: which article (and which of its versions) matched, and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Canonical article URL (the store's key).
    pub url: String,
    pub site: String,
    pub title: Option<String>,
    pub published: Option<DateTime<FixedOffset>>,
    /// The version that matched (the latest for [`SearchIndex::search`]).
    pub version: u32,
    /// When that version was captured.
    pub captured_at: DateTime<Utc>,
    /// Relevance: tantivy's BM25 for the index, see [`TextQuery::score_texts`] for a scan.
    /// Comparable within one result list only.
    pub score: f32,
    /// Original text (diacritics kept) around the matches; see [`snippet`].
    pub snippet: String,
}

// ---- the index ----

#[derive(Debug, Clone, Copy)]
struct Fields {
    url: Field,
    site: Field,
    status: Field,
    /// Title, summary, body and author as four values of one field: one posting list per
    /// word instead of four makes a conjunction of common words several times cheaper.
    text: Field,
    /// The same four values as word pairs with positions (see [`PairTokenizer`]): phrases.
    pairs: Field,
    /// The title again, for the title boost; stored for hits. Summary, body and author are
    /// not stored: a hit's snippet is cut from its version in the store, which holds them
    /// anyway (stored here they were a third of the index).
    title: Field,
    /// Unix seconds, indexed and fast: range filters and date order.
    published: Field,
    /// RFC 3339 with the page's own offset, stored only (the i64 loses the offset).
    published_at: Field,
    version: Field,
    /// Unix microseconds.
    captured_at: Field,
}

fn schema() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field("url", STRING | STORED);
    b.add_text_field("site", STRING | STORED);
    b.add_text_field("status", STRING | STORED);
    // Words need no positions: phrases are matched over pairs.
    let words = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqs);
    let pairs = TextFieldIndexing::default()
        .set_tokenizer(PAIR_TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    b.add_text_field(
        "text",
        TextOptions::default().set_indexing_options(words.clone()),
    );
    b.add_text_field("pairs", TextOptions::default().set_indexing_options(pairs));
    b.add_text_field(
        "title",
        TextOptions::default()
            .set_indexing_options(words)
            .set_stored(),
    );
    b.add_i64_field("published", INDEXED | FAST);
    b.add_text_field("published_at", STORED);
    b.add_u64_field("version", STORED);
    b.add_i64_field("captured_at", STORED | FAST);
    b.build()
}

impl Fields {
    fn of(schema: &Schema) -> std::result::Result<Fields, TantivyError> {
        Ok(Fields {
            url: schema.get_field("url")?,
            site: schema.get_field("site")?,
            status: schema.get_field("status")?,
            text: schema.get_field("text")?,
            pairs: schema.get_field("pairs")?,
            title: schema.get_field("title")?,
            published: schema.get_field("published")?,
            published_at: schema.get_field("published_at")?,
            version: schema.get_field("version")?,
            captured_at: schema.get_field("captured_at")?,
        })
    }

    fn document(&self, v: &ArticleView) -> TantivyDocument {
        let mut d = TantivyDocument::new();
        d.add_text(self.url, &v.url);
        d.add_text(self.site, &v.site);
        d.add_text(self.status, v.status.as_str());
        if let Some(title) = &v.title {
            d.add_text(self.title, title);
        }
        for value in [
            v.title.as_deref(),
            v.summary.as_deref(),
            Some(v.body.as_str()),
            v.author.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            d.add_text(self.text, value);
            d.add_text(self.pairs, value);
        }
        if let Some(p) = v.published {
            d.add_i64(self.published, p.timestamp());
            d.add_text(self.published_at, p.to_rfc3339());
        }
        d.add_u64(self.version, u64::from(v.version));
        d.add_i64(self.captured_at, v.captured_at.timestamp_micros());
        d
    }

    /// The filter as index clauses (scoring nothing).
    fn filter_clauses(&self, filter: &Filter) -> Vec<(Occur, Box<dyn Query>)> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let unscored =
            |q: Box<dyn Query>| -> Box<dyn Query> { Box::new(ConstScoreQuery::new(q, 0.0)) };
        if !filter.sites.is_empty() {
            let sites: Vec<(Occur, Box<dyn Query>)> = filter
                .sites
                .iter()
                .map(|s| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(self.site, s),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, q)
                })
                .collect();
            clauses.push((Occur::Must, unscored(Box::new(BooleanQuery::new(sites)))));
        }
        if let Some(status) = filter.status {
            clauses.push((
                Occur::Must,
                unscored(Box::new(TermQuery::new(
                    Term::from_field_text(self.status, status.as_str()),
                    IndexRecordOption::Basic,
                ))),
            ));
        }
        if filter.since.is_some() || filter.until.is_some() {
            // Filter::matches keeps `since <= published < until`; bounds from
            // parse_date_bound are whole seconds, so comparing Unix seconds is exact.
            let lower = filter.since.map_or(Bound::Unbounded, |s| {
                Bound::Included(Term::from_field_i64(self.published, s.timestamp()))
            });
            let upper = filter.until.map_or(Bound::Unbounded, |u| {
                Bound::Excluded(Term::from_field_i64(self.published, u.timestamp()))
            });
            clauses.push((
                Occur::Must,
                unscored(Box::new(RangeQuery::new(lower, upper))),
            ));
        }
        clauses
    }

    /// One phrase anywhere in the text: a word in `text`; two words as one `pairs` term;
    /// more as pairs at consecutive positions.
    fn phrase_query(&self, phrase: &[String]) -> Box<dyn Query> {
        let term = |field, text: &str| {
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::WithFreqs,
            ))
        };
        match phrase {
            [word] => term(self.text, word),
            [a, b] => term(self.pairs, &format!("{a} {b}")),
            _ => Box::new(PhraseQuery::new(
                phrase
                    .windows(2)
                    .map(|w| Term::from_field_text(self.pairs, &format!("{} {}", w[0], w[1])))
                    .collect(),
            )),
        }
    }

    fn query(&self, q: &TextQuery, filter: &Filter) -> BooleanQuery {
        let mut clauses = self.filter_clauses(filter);
        let mut title_words: Vec<&String> = Vec::new();
        for phrase in &q.required {
            clauses.push((Occur::Must, self.phrase_query(phrase)));
            for w in phrase {
                if !title_words.contains(&w) {
                    title_words.push(w);
                }
            }
        }
        // Optional clauses only add to the score of documents that match anyway. Per word,
        // not per phrase: a term scorer seeks cheaply, a phrase scorer may scan.
        for w in title_words {
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.title, w),
                        IndexRecordOption::WithFreqs,
                    )),
                    TITLE_BOOST,
                )),
            ));
        }
        for phrase in &q.excluded {
            clauses.push((Occur::MustNot, self.phrase_query(phrase)));
        }
        if !clauses.iter().any(|(o, _)| *o == Occur::Must) {
            // A boolean query of exclusions alone matches nothing.
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        BooleanQuery::new(clauses)
    }

    /// The hit of `doc`, its snippet cut from the indexed version as `store` holds it (no
    /// snippet when the store no longer has that version: a database rebuilt from the WARC
    /// files under an index not yet rebuilt).
    fn hit(
        &self,
        store: &dyn ArticleStore,
        doc: &TantivyDocument,
        query: &TextQuery,
        score: f32,
    ) -> Result<Hit> {
        let text = |f: Field| {
            doc.get_first(f)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let title = text(self.title);
        let url = text(self.url).unwrap_or_default();
        let version = doc
            .get_first(self.version)
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0);
        let snippet = match store.version(&url, version)? {
            Some(v) => hit_snippet(
                query,
                v.fields.title.as_deref().unwrap_or(""),
                v.fields.summary.as_deref().unwrap_or(""),
                &v.fields.body,
            ),
            None => String::new(),
        };
        Ok(Hit {
            url,
            site: text(self.site).unwrap_or_default(),
            published: text(self.published_at).and_then(|p| DateTime::parse_from_rfc3339(&p).ok()),
            version,
            captured_at: doc
                .get_first(self.captured_at)
                .and_then(|v| v.as_i64())
                .and_then(DateTime::from_timestamp_micros)
                .unwrap_or_default(),
            title,
            score,
            snippet,
        })
    }
}

/// Orders by publication date (undated last), then by relevance.
struct NewestFirst;

struct NewestFirstSegment {
    published: Column<i64>,
}

impl ScoreTweaker<(i64, Score)> for NewestFirst {
    type Child = NewestFirstSegment;

    fn segment_tweaker(&self, segment: &SegmentReader) -> tantivy::Result<NewestFirstSegment> {
        Ok(NewestFirstSegment {
            published: segment.fast_fields().i64("published")?,
        })
    }
}

impl ScoreSegmentTweaker<(i64, Score)> for NewestFirstSegment {
    fn score(&mut self, doc: DocId, score: Score) -> (i64, Score) {
        (self.published.first(doc).unwrap_or(i64::MIN), score)
    }
}

/// The full-text index of a store's latest versions, in `<store>/index/`.
///
/// Searching needs no lock. Writing (upsert, rebuild) takes tantivy's writer lock on first
/// use, so one process writes at a time; upserts become visible (and durable) at
/// [`SearchIndex::commit`], and a process that stops before committing loses them: the
/// index lags the store until the next commit or `reindex`.
pub struct SearchIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Option<IndexWriter>,
    fields: Fields,
    created: bool,
}

/// Compression level of the index's stored fields (zstd; tantivy's default is lz4).
pub const DOCSTORE_ZSTD_LEVEL: i32 = 3;
/// Bytes of stored fields compressed together. Article texts share most of their words, so
/// a block of a dozen articles compresses far better than tantivy's default 16 KiB; a hit
/// costs one block's decompression, next to nothing for a page of results.
pub const DOCSTORE_BLOCK_BYTES: usize = 128 * 1024;

/// A new, empty index with luutru's schema and stored-field settings (an index made by an
/// older luutru keeps the settings it was made with: tantivy reads both).
fn create_index(dir: &Path, schema: Schema) -> tantivy::Result<Index> {
    let settings = tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::Zstd(tantivy::store::ZstdCompressor {
            compression_level: Some(DOCSTORE_ZSTD_LEVEL),
        }),
        docstore_blocksize: DOCSTORE_BLOCK_BYTES,
        ..tantivy::IndexSettings::default()
    };
    tantivy::IndexBuilder::new()
        .schema(schema)
        .settings(settings)
        .create_in_dir(dir)
}

impl SearchIndex {
    /// Opens the index of the store in `store_dir`, creating an empty one if missing. An
    /// index built with another schema (another luutru version) is replaced by an empty one,
    /// with a warning. Either way [`SearchIndex::created`] says so: rebuild it then.
    pub fn open(store_dir: &Path) -> Result<Self> {
        let dir = store_dir.join("index");
        let io_err = |e: std::io::Error| Error::SearchIndex {
            path: dir.clone(),
            message: e.to_string(),
        };
        let ti_err = |e: TantivyError| Error::SearchIndex {
            path: dir.clone(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(&dir).map_err(io_err)?;
        let wanted = schema();
        // A rebuild that did not finish: start over from an empty index.
        let mut created = dir.join(REBUILDING_MARK).exists();
        let index = if dir.join("meta.json").exists() {
            let index = Index::open_in_dir(&dir).map_err(ti_err)?;
            if index.schema() == wanted {
                index
            } else {
                tracing::warn!(
                    dir = %dir.display(),
                    "search index has another schema (built by another luutru version); \
                     replacing it with an empty one, to be rebuilt"
                );
                drop(index);
                std::fs::remove_dir_all(&dir).map_err(io_err)?;
                std::fs::create_dir_all(&dir).map_err(io_err)?;
                created = true;
                create_index(&dir, wanted).map_err(ti_err)?
            }
        } else {
            created = true;
            create_index(&dir, wanted).map_err(ti_err)?
        };
        index.tokenizers().register(TOKENIZER, FoldingTokenizer);
        index.tokenizers().register(PAIR_TOKENIZER, PairTokenizer);
        let fields = Fields::of(&index.schema()).map_err(ti_err)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(ti_err)?;
        Ok(SearchIndex {
            dir,
            index,
            reader,
            writer: None,
            fields,
            created,
        })
    }

    /// Whether [`SearchIndex::open`] created this index (none existed, or it had another
    /// schema): it holds nothing yet, so a store with articles needs
    /// [`SearchIndex::rebuild`] before searches are complete.
    pub fn created(&self) -> bool {
        self.created
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn err(&self, e: TantivyError) -> Error {
        let message = match &e {
            TantivyError::LockFailure(..) => {
                format!("{e} (another luutru process is writing the index)")
            }
            _ => e.to_string(),
        };
        Error::SearchIndex {
            path: self.dir.clone(),
            message,
        }
    }

    fn writer(&mut self) -> Result<&mut IndexWriter> {
        if self.writer.is_none() {
            let w = self
                .index
                .writer_with_num_threads(WRITER_THREADS, WRITER_MEMORY_BYTES)
                .map_err(|e| self.err(e))?;
            let mut merges = tantivy::merge_policy::LogMergePolicy::default();
            merges.set_max_docs_before_merge(MERGE_MAX_DOCS);
            w.set_merge_policy(Box::new(merges));
            self.writer = Some(w);
        }
        Ok(self.writer.as_mut().expect("writer set just above"))
    }

    /// Documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Drops every document and adds the latest version of every article of `store`,
    /// committing every [`COMMIT_EVERY_DOCS`] documents (so searches may see a partial
    /// index meanwhile; a rebuild that stops half-way is started over by the next one).
    /// Returns the number indexed.
    pub fn rebuild(&mut self, store: &dyn ArticleStore) -> Result<u64> {
        let mark = self.dir.join(REBUILDING_MARK);
        std::fs::write(&mark, b"").map_err(|e| Error::SearchIndex {
            path: mark.clone(),
            message: e.to_string(),
        })?;
        let fields = self.fields;
        let added = (|| -> Result<std::result::Result<u64, TantivyError>> {
            if let Err(e) = self.writer()?.delete_all_documents() {
                return Ok(Err(e));
            }
            let mut n = 0;
            for a in store.articles() {
                let a = a?;
                let versions = store.versions(&a.url)?;
                let Some(latest) = versions.last() else {
                    continue;
                };
                let doc = fields.document(&ArticleView::new(&a, latest));
                if let Err(e) = self.writer()?.add_document(doc) {
                    return Ok(Err(e));
                }
                n += 1;
                if n % COMMIT_EVERY_DOCS as u64 == 0 {
                    if let Err(e) = self.writer()?.commit() {
                        return Ok(Err(e));
                    }
                }
            }
            Ok(Ok(n))
        })();
        match added {
            Ok(Ok(n)) => {
                self.commit()?;
                std::fs::remove_file(&mark).map_err(|e| Error::SearchIndex {
                    path: mark.clone(),
                    message: e.to_string(),
                })?;
                Ok(n)
            }
            Ok(Err(e)) => {
                self.rollback();
                Err(self.err(e))
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// Drops uncommitted changes, so nothing half-done reaches a later commit.
    fn rollback(&mut self) {
        if let Some(w) = self.writer.as_mut() {
            if let Err(e) = w.rollback() {
                tracing::warn!(error = %e, "cannot roll back the search index writer");
            }
        }
    }

    /// Replaces the article's document with `view` (visible after [`SearchIndex::commit`]).
    pub fn upsert(&mut self, view: &ArticleView) -> Result<()> {
        let fields = self.fields;
        let doc = fields.document(view);
        let writer = self.writer()?;
        writer.delete_term(Term::from_field_text(fields.url, &view.url));
        let added = writer.add_document(doc);
        added.map(|_| ()).map_err(|e| self.err(e))
    }

    /// Merges every segment of the index into one; returns how many there were. Index
    /// updates leave a segment per ~2,000 documents ([`MERGE_MAX_DOCS`] bounds their
    /// memory), and each segment repeats the term dictionary of the word pairs: merged, the
    /// index of the 20,000-article crawl bench went from 12 segments and 62 MB to one of
    /// 47 MB in 1.5 s, and queries visit one segment. The merge reads every segment, so its
    /// memory grows with the index: `compact-db` runs it, crawls do not.
    pub fn merge_segments(&mut self) -> Result<usize> {
        let ids = self
            .index
            .searchable_segment_ids()
            .map_err(|e| self.err(e))?;
        if ids.len() > 1 {
            let merged = self.writer()?.merge(&ids).wait();
            merged.map_err(|e| self.err(e))?;
        }
        // The merged segments' files are deleted once the writer is done with them.
        if let Some(w) = self.writer.take() {
            let done = w.wait_merging_threads();
            done.map_err(|e| self.err(e))?;
        }
        self.reload()?;
        Ok(ids.len())
    }

    /// Bytes of the index's files.
    pub fn bytes(&self) -> u64 {
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Waits for the merges that the commits so far started (and the ones those lead to)
    /// and closes the writer. Without it, merges still running when the process ends are
    /// dropped, and the index a crawl leaves depends on timing: 12 or 20 segments, 62 or
    /// 71 MB, after the same 20,000-article first crawl.
    pub fn finish_merges(&mut self) -> Result<()> {
        if let Some(w) = self.writer.take() {
            let done = w.wait_merging_threads();
            done.map_err(|e| self.err(e))?;
            self.reload()?;
        }
        Ok(())
    }

    /// Makes the upserts durable and visible to this handle's searches.
    pub fn commit(&mut self) -> Result<()> {
        if let Some(w) = self.writer.as_mut() {
            let committed = w.commit();
            committed.map_err(|e| self.err(e))?;
        }
        self.reload()
    }

    /// Picks up commits made since (by this handle or another process).
    pub fn reload(&self) -> Result<()> {
        self.reader.reload().map_err(|e| self.err(e))
    }

    /// Articles matching `text` and `filter`, best first, at most `limit` (0 = all); the
    /// snippets are cut from the versions in `store` (the store the index was built from).
    pub fn search(
        &self,
        store: &dyn ArticleStore,
        text: &str,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        self.search_ordered(store, text, filter, limit, SearchOrder::Relevance)
    }

    /// [`SearchIndex::search`] in the given order.
    pub fn search_ordered(
        &self,
        store: &dyn ArticleStore,
        text: &str,
        filter: &Filter,
        limit: usize,
        order: SearchOrder,
    ) -> Result<Vec<Hit>> {
        let q = TextQuery::parse(text);
        let query = self.fields.query(&q, filter);
        let searcher = self.reader.searcher();
        let n = if limit == 0 {
            usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX)
        } else {
            limit
        };
        if n == 0 {
            return Ok(Vec::new());
        }
        let top: Vec<(Score, DocAddress)> = match order {
            SearchOrder::Relevance => searcher
                .search(&query, &TopDocs::with_limit(n))
                .map_err(|e| self.err(e))?,
            SearchOrder::Newest => searcher
                .search(&query, &TopDocs::with_limit(n).tweak_score(NewestFirst))
                .map_err(|e| self.err(e))?
                .into_iter()
                .map(|((_, score), addr)| (score, addr))
                .collect(),
        };
        top.into_iter()
            .map(|(score, addr)| {
                let doc: TantivyDocument = searcher.doc(addr).map_err(|e| self.err(e))?;
                self.fields.hit(store, &doc, &q, score)
            })
            .collect()
    }
}

// ---- time travel ----

/// A candidate of [`search_as_of`], ordered best first by `Ord::cmp` returning `Greater`.
#[derive(Debug)]
struct Ranked {
    primary: i64,
    score: f32,
    url: String,
    version: u32,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.primary
            .cmp(&other.primary)
            .then(self.score.total_cmp(&other.score))
            // The smaller URL ranks higher, so equal scores come out in URL order.
            .then_with(|| other.url.cmp(&self.url))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

/// The article's status at `at`: gone from `gone_since` on (only the latest disappearance
/// is recorded, so an article that came back reads as live throughout).
fn status_at(a: &ArticleRecord, at: DateTime<Utc>) -> ArticleStatus {
    match (a.status, a.gone_since) {
        (ArticleStatus::Gone, Some(since)) if since <= at => ArticleStatus::Gone,
        _ => ArticleStatus::Live,
    }
}

/// Articles as they read at `as_of` (the latest version captured at or before it) that
/// match `text` and `filter` (status as it was then), best first, at most `limit` (0 = all).
///
/// Cost: the index holds latest versions only, so this scans the store: every article's
/// versions are read and the valid one's four text fields folded and matched in memory
/// (`benches/README.md` has the time for 100k articles; seconds, not milliseconds). Memory
/// stays at `limit` candidates.
pub fn search_as_of(
    store: &dyn ArticleStore,
    text: &str,
    as_of: DateTime<FixedOffset>,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<Hit>> {
    search_as_of_ordered(store, text, as_of, filter, limit, SearchOrder::Relevance)
}

/// [`search_as_of`] in the given order.
pub fn search_as_of_ordered(
    store: &dyn ArticleStore,
    text: &str,
    as_of: DateTime<FixedOffset>,
    filter: &Filter,
    limit: usize,
    order: SearchOrder,
) -> Result<Vec<Hit>> {
    let q = TextQuery::parse(text);
    let at = as_of.with_timezone(&Utc);
    let mut top: BinaryHeap<Reverse<Ranked>> = BinaryHeap::new();
    for a in store.articles() {
        let a = a?;
        if a.first_seen > at || (!filter.sites.is_empty() && !filter.sites.contains(&a.site)) {
            continue;
        }
        let versions = store.versions(&a.url)?;
        let Some(v) = versions.iter().rev().find(|v| v.fetched_at <= at) else {
            continue;
        };
        let then = ArticleRecord {
            status: status_at(&a, at),
            ..a.clone()
        };
        if !filter.matches(&then, v) {
            continue;
        }
        let f = &v.fields;
        let texts = [
            (f.title.as_deref().unwrap_or(""), TEXT_FIELDS[0].1),
            (f.summary.as_deref().unwrap_or(""), TEXT_FIELDS[1].1),
            (f.body.as_str(), TEXT_FIELDS[2].1),
            (f.author.as_deref().unwrap_or(""), TEXT_FIELDS[3].1),
        ];
        let Some(score) = q.score_texts(&texts) else {
            continue;
        };
        let primary = match order {
            SearchOrder::Relevance => 0,
            SearchOrder::Newest => f.published.map_or(i64::MIN, |p| p.timestamp()),
        };
        top.push(Reverse(Ranked {
            primary,
            score,
            url: a.url.clone(),
            version: v.number,
        }));
        if limit > 0 && top.len() > limit {
            top.pop();
        }
    }
    // into_sorted_vec of Reverse is best first.
    let mut hits = Vec::with_capacity(top.len());
    for Reverse(r) in top.into_sorted_vec() {
        let (Some(a), versions) = (store.article(&r.url)?, store.versions(&r.url)?) else {
            continue;
        };
        let Some(v) = versions.iter().find(|v| v.number == r.version) else {
            continue;
        };
        let f = &v.fields;
        hits.push(Hit {
            url: a.url.clone(),
            site: a.site.clone(),
            title: f.title.clone(),
            published: f.published,
            version: v.number,
            captured_at: v.fetched_at,
            score: r.score,
            snippet: hit_snippet(
                &q,
                f.title.as_deref().unwrap_or(""),
                f.summary.as_deref().unwrap_or(""),
                &f.body,
            ),
        });
    }
    Ok(hits)
}

/// A small store for the search and export tests: Vietnamese articles on two sites, one
/// edited (two versions), one undated whose page repeats a listing's bytes (a revisit).
#[cfg(test)]
pub(crate) mod fixture {
    use chrono::{DateTime, Utc};

    use crate::config::PageKind;
    use crate::dedup::content_hash;
    use crate::extract::Extracted;
    use crate::store::model::{FrontierEntry, FrontierState};
    use crate::store::warc::{Exchange, WarcPtr};
    use crate::store::{Commit, EnqueuePolicy, FetchedArticle, Store};

    pub const CHI_LINH: &str = "http://haiduong.test/chi-linh-camera.html";
    pub const DONG_TRIEU: &str = "http://quangninh.test/duong-dong-trieu.html";
    pub const HOI_NGHI: &str = "http://haiduong.test/hoi-nghi-tong-ket.html";
    pub const GIAM_DOC: &str = "http://haiduong.test/giam-doc-kiem-tra.html";
    pub const THONG_BAO: &str = "http://haiduong.test/thong-bao-lich-tiep.html";
    pub const LISTING: &str = "http://haiduong.test/chuyen-muc/thong-bao";
    /// Between the two versions of [`CHI_LINH`].
    pub const BEFORE_EDIT: &str = "2021-04-01T00:00:00+07:00";

    pub struct Fixture {
        pub dir: tempfile::TempDir,
        pub store: Store,
        /// The listing capture that [`THONG_BAO`]'s revisit points at.
        pub listing: WarcPtr,
    }

    pub struct Page {
        pub site: &'static str,
        pub url: &'static str,
        pub title: &'static str,
        pub published: Option<&'static str>,
        pub author: Option<&'static str>,
        pub summary: Option<&'static str>,
        pub body: &'static str,
        pub fetched_at: &'static str,
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("fixture date")
            .with_timezone(&Utc)
    }

    pub fn html(title: &str, body: &str) -> Vec<u8> {
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{body}</p></body></html>"
        )
        .into_bytes()
    }

    fn archive(store: &Store, url: &str, at: DateTime<Utc>, body: &[u8]) -> WarcPtr {
        archive_with(store, url, at, body, "")
    }

    /// `extra_headers`: more request header lines, each ending with CRLF.
    fn archive_with(
        store: &Store,
        url: &str,
        at: DateTime<Utc>,
        body: &[u8],
        extra_headers: &str,
    ) -> WarcPtr {
        let path = url.split_once(".test").map_or("/", |(_, p)| p);
        let host = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or("");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: luutru-test\r\n{extra_headers}\r\n"
        );
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        store
            .archive(&Exchange {
                target_uri: url,
                date: at,
                ip: None,
                request_head: request.as_bytes(),
                response_head: head.as_bytes(),
                body,
                revisit_of: None,
            })
            .expect("archive")
    }

    pub fn commit(store: &Store, p: &Page, raw: &[u8]) {
        commit_with(store, p, raw, "")
    }

    /// [`commit`] with more request header lines (each ending with CRLF).
    pub fn commit_with(store: &Store, p: &Page, raw: &[u8], extra_headers: &str) {
        let at = utc(p.fetched_at);
        let ptr = archive_with(store, p.url, at, raw, extra_headers);
        let fields = Extracted {
            title: Some(p.title.to_string()),
            published: p
                .published
                .map(|d| DateTime::parse_from_rfc3339(d).expect("fixture date")),
            author: p.author.map(str::to_string),
            summary: p.summary.map(str::to_string),
            body: p.body.to_string(),
            ..Extracted::default()
        };
        let entry = FrontierEntry {
            url: p.url.to_string(),
            site: p.site.to_string(),
            depth: 1,
            kind: PageKind::Article,
            state: FrontierState::Queued,
            run: 1,
            attempts: 0,
            last_error: None,
            queued: None,
        };
        let fa = FetchedArticle {
            site: p.site.to_string(),
            fetched_url: p.url.to_string(),
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

    pub fn pages() -> Vec<Page> {
        vec![
            Page {
                site: "haiduong",
                url: CHI_LINH,
                title: "Chí Linh lắp đặt camera giám sát giao thông",
                published: Some("2021-03-15T08:00:00+07:00"),
                author: Some("Nguyễn Văn Đức"),
                summary: Some("Thành phố Chí Linh thí điểm hệ thống camera giám sát tại các nút giao."),
                body: "Ngày 15/3, UBND thành phố Chí Linh đưa vào thí điểm 20 camera giám sát giao thông.\n\n\
                       Đây là bước đầu của đề án đô thị thông minh.",
                fetched_at: "2021-03-15T03:00:00Z",
            },
            Page {
                site: "quangninh",
                url: DONG_TRIEU,
                title: "Khởi công đường nối thị xã Đông Triều với Chí Linh",
                published: Some("2021-05-20T09:30:00+07:00"),
                author: None,
                summary: Some("Tuyến đường dài 12 km nối hai địa phương."),
                body: "Sáng 20/5, tỉnh Quảng Ninh khởi công tuyến đường nối thị xã Đông Triều với \
                       thành phố Chí Linh (Hải Dương).\n\nDự án hoàn thành trong năm 2023.",
                fetched_at: "2021-05-21T01:00:00Z",
            },
            Page {
                site: "haiduong",
                url: HOI_NGHI,
                title: "HỘI NGHỊ TỔNG KẾT CÔNG TÁC NĂM 2021",
                published: Some("2021-12-28T15:00:00+07:00"),
                author: Some("Ban Tuyên giáo"),
                summary: None,
                body: "Hội nghị đánh giá kết quả thực hiện nhiệm vụ chính trị năm 2021.",
                fetched_at: "2021-12-29T02:00:00Z",
            },
            Page {
                site: "haiduong",
                url: GIAM_DOC,
                title: "Giám đốc Sở Công an kiểm tra công tác bảo vệ",
                published: Some("2022-01-10T10:00:00+07:00"),
                author: None,
                summary: None,
                body: "Giám đốc Sở luôn sát cánh cùng lực lượng bảo vệ, đề nghị lắp thêm \
                       camera ở cổng trụ sở.",
                fetched_at: "2022-01-10T06:00:00Z",
            },
        ]
    }

    /// The second version of [`CHI_LINH`]: "thí điểm" became "chính thức".
    pub fn chi_linh_edit() -> Page {
        Page {
            summary: Some("Thành phố Chí Linh chính thức vận hành hệ thống camera giám sát."),
            body: "Ngày 15/3, UBND thành phố Chí Linh đưa vào vận hành chính thức 20 camera giám sát giao thông.\n\n\
                   Đây là bước đầu của đề án đô thị thông minh.",
            fetched_at: "2021-06-01T03:00:00Z",
            ..pages().remove(0)
        }
    }

    pub fn thong_bao() -> Page {
        Page {
            site: "haiduong",
            url: THONG_BAO,
            title: "Thông báo lịch tiếp công dân",
            published: None,
            author: None,
            summary: None,
            body: "Lịch tiếp công dân tháng 7 của lãnh đạo tỉnh.",
            fetched_at: "2022-07-01T01:00:00Z",
        }
    }

    pub fn build() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), "test").expect("open store");
        for p in pages() {
            commit(&store, &p, &html(p.title, p.body));
        }
        let edit = chi_linh_edit();
        commit(&store, &edit, &html(edit.title, edit.body));
        // A listing page whose bytes the article page repeats: the article's capture is
        // archived as a revisit of the listing's response.
        let tb = thong_bao();
        let raw = html(tb.title, tb.body);
        let listing = archive(&store, LISTING, utc("2022-06-30T01:00:00Z"), &raw);
        commit(&store, &tb, &raw);
        store.flush().expect("flush");
        Fixture {
            dir,
            store,
            listing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;
    use crate::query::parse_date_bound;
    use crate::store::model::ArticleStatus;

    fn urls(hits: &[Hit]) -> Vec<&str> {
        let mut u: Vec<&str> = hits.iter().map(|h| h.url.as_str()).collect();
        u.sort_unstable();
        u
    }

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_unstable();
        v
    }

    fn indexed(f: &Fixture) -> SearchIndex {
        let mut idx = SearchIndex::open(f.dir.path()).expect("open index");
        assert_eq!(idx.rebuild(&f.store).expect("rebuild"), 5);
        idx
    }

    #[test]
    fn folding_drops_case_marks_and_the_d_stroke() {
        assert_eq!(fold("Đường Chí Linh"), "duong chi linh");
        assert_eq!(fold("HỘI NGHỊ TỔNG KẾT"), "hoi nghi tong ket");
        // Old- and new-style tone placement fold alike.
        assert_eq!(fold("hoà"), fold("hòa"));
        // Decomposed input (NFD, as some keyboards send it) folds like precomposed.
        assert_eq!(fold("Chi\u{301} Linh"), "chi linh");
        let w = words("«Chí Linh», COVID-19; đđ");
        let texts: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["chi", "linh", "covid", "19", "dd"]);
        let text = "«Chí Linh», COVID-19; đđ";
        assert_eq!(&text[w[0].start..w[1].end], "Chí Linh");
        assert_eq!(&text[w[4].start..w[4].end], "đđ");
        // A lone combining mark is no word; an absurdly long one is dropped.
        assert!(words("\u{301} ").is_empty());
        assert!(words(&"a".repeat(MAX_TOKEN_BYTES + 1)).is_empty());
    }

    #[test]
    fn the_fold_table_agrees_with_unicode() {
        for u in 0x80..0x2400 {
            if let Some(c) = char::from_u32(u) {
                let (mut fast, mut slow) = (String::new(), String::new());
                push_folded(c, &mut fast);
                push_folded_slowly(c, &mut slow);
                assert_eq!(fast, slow, "U+{u:04X}");
            }
        }
    }

    #[test]
    fn pairs_are_adjacent_words_at_the_first_word_position() {
        let text = "Chí Linh, Hải Dương";
        let mut tokenizer = PairTokenizer;
        let mut stream = tokenizer.token_stream(text);
        let mut pairs = Vec::new();
        while let Some(t) = stream.next() {
            pairs.push((
                t.text.clone(),
                t.position,
                &text[t.offset_from..t.offset_to],
            ));
        }
        assert_eq!(
            pairs,
            [
                ("chi linh".to_string(), 0, "Chí Linh"),
                ("linh hai".to_string(), 1, "Linh, Hải"),
                ("hai duong".to_string(), 2, "Hải Dương"),
            ]
        );
        assert!(PairTokenizer.token_stream("một").next().is_none());
    }

    #[test]
    fn query_syntax() {
        let q = TextQuery::parse(r#"Camera  "giám SÁT" -"chí linh" -đức covid-19 - x"#);
        assert_eq!(
            q.required,
            vec![
                vec!["camera".to_string()],
                vec!["giam".into(), "sat".into()],
                vec!["covid".into(), "19".into()],
                vec!["x".into()],
            ]
        );
        assert_eq!(
            q.excluded,
            vec![vec!["chi".to_string(), "linh".into()], vec!["duc".into()]]
        );
        assert!(TextQuery::parse("  - \"\" ... ").is_empty());
        let unterminated = TextQuery::parse("\"chi linh");
        assert_eq!(
            unterminated.required,
            vec![vec!["chi".to_string(), "linh".into()]]
        );
    }

    #[test]
    fn in_memory_matching_has_phrase_and_exclusion_semantics() {
        let q = TextQuery::parse("\"camera giam sat\"");
        assert!(q.score_texts(&[("Lắp camera giám sát.", 1.0)]).is_some());
        assert!(q
            .score_texts(&[("camera, giám đốc sát cánh", 1.0)])
            .is_none());
        // A phrase must sit in one field, not across two.
        assert!(q
            .score_texts(&[("camera", 1.0), ("giám sát", 1.0)])
            .is_none());
        let q = TextQuery::parse("camera -linh");
        assert!(q
            .score_texts(&[("camera", 1.0), ("Chí Linh", 1.0)])
            .is_none());
        assert!(q
            .score_texts(&[("camera", 1.0), ("linhtinh", 1.0)])
            .is_some());
        let more = TextQuery::parse("camera")
            .score_texts(&[("camera camera", 1.0)])
            .expect("match");
        let less = TextQuery::parse("camera")
            .score_texts(&[("camera", 1.0)])
            .expect("match");
        assert!(more > less);
    }

    #[test]
    fn snippets_show_the_original_text_with_marks() {
        let q = TextQuery::parse("chi linh");
        let s = snippet("Thành phố Chí Linh, tỉnh Hải Dương.", &q, 30).expect("match");
        assert_eq!(s, "Thành phố «Chí Linh», tỉnh Hải Dương.");
        let long: String = (0..100).map(|i| format!("từ{i} ")).collect::<String>()
            + "đường\n\nĐông Triều "
            + &(0..100).map(|i| format!("chữ{i} ")).collect::<String>();
        let s = snippet(&long, &TextQuery::parse("\"duong dong trieu\""), 10).expect("match");
        assert_eq!(s, "…từ97 từ98 từ99 «đường Đông Triều» chữ0 chữ1 chữ2 chữ3…");
        assert_eq!(snippet("không có", &q, 10), None);
        // The window with both terms wins over an earlier window with one.
        let text = format!("camera {} camera giám sát", "x ".repeat(50));
        let s = snippet(&text, &TextQuery::parse("camera giam"), 5).expect("match");
        assert!(s.contains("«camera giám»"), "{s}");
    }

    #[test]
    fn search_folds_case_and_diacritics() {
        let f = build();
        let idx = indexed(&f);
        let all = Filter::default();
        for q in ["chi linh", "CHÍ LINH", "ChI lInH", "Chí Linh"] {
            let hits = idx.search(&f.store, q, &all, 10).expect("search");
            assert_eq!(urls(&hits), sorted(vec![CHI_LINH, DONG_TRIEU]), "{q}");
        }
        let hits = idx
            .search(&f.store, "duong dong trieu", &all, 10)
            .expect("search");
        assert_eq!(urls(&hits), [DONG_TRIEU]);
        assert!(hits[0].snippet.contains("«đường»"), "{}", hits[0].snippet);
        assert!(
            hits[0].snippet.contains("«Đông Triều»"),
            "{}",
            hits[0].snippet
        );
        let hits = idx
            .search(&f.store, "hoi nghi TONG ket", &all, 10)
            .expect("search");
        assert_eq!(urls(&hits), [HOI_NGHI]);
        // "d" finds "Đ" in the author field; the snippet falls back to the text's opening.
        let hits = idx.search(&f.store, "duc", &all, 10).expect("search");
        assert_eq!(urls(&hits), [CHI_LINH]);
        assert!(
            hits[0].snippet.starts_with("Thành phố Chí Linh chính thức"),
            "{}",
            hits[0].snippet
        );
        assert!(idx
            .search(&f.store, "khong co tu nay", &all, 10)
            .expect("search")
            .is_empty());
    }

    #[test]
    fn search_phrases_and_exclusions() {
        let f = build();
        let idx = indexed(&f);
        let all = Filter::default();
        let q = |t: &str| idx.search(&f.store, t, &all, 10).expect("search");
        assert_eq!(
            urls(&q("camera giam sat")),
            sorted(vec![CHI_LINH, GIAM_DOC])
        );
        assert_eq!(urls(&q("\"camera giam sat\"")), [CHI_LINH]);
        assert_eq!(urls(&q("camera -\"chi linh\"")), [GIAM_DOC]);
        assert_eq!(urls(&q("camera -linh")), [GIAM_DOC]);
        // Exclusions alone: everything else.
        assert_eq!(
            urls(&q("-camera")),
            sorted(vec![DONG_TRIEU, HOI_NGHI, THONG_BAO])
        );
        let hits = q("\"camera giam sat\"");
        assert!(
            hits[0].snippet.contains("«camera giám sát»"),
            "{}",
            hits[0].snippet
        );
        assert_eq!(
            hits[0].title.as_deref(),
            Some("Chí Linh lắp đặt camera giám sát giao thông")
        );
        assert_eq!(hits[0].version, 2);
        assert_eq!(
            hits[0].published.map(|p| p.to_rfc3339()).as_deref(),
            Some("2021-03-15T08:00:00+07:00")
        );
    }

    #[test]
    fn phrases_do_not_span_fields() {
        let f = build();
        let tmp = tempfile::tempdir().unwrap();
        let mut idx = SearchIndex::open(tmp.path()).unwrap();
        let a = f.store.article(HOI_NGHI).unwrap().unwrap();
        let v = f.store.versions(HOI_NGHI).unwrap().remove(0);
        let mut view = ArticleView::new(&a, &v);
        view.title = Some("Tỉnh lắp đặt camera".into());
        view.summary = Some("Giám sát giao thông".into());
        view.body = "Nội dung giám".into();
        view.author = Some("Sát Văn Minh".into());
        idx.upsert(&view).unwrap();
        idx.commit().unwrap();
        let all = Filter::default();
        let found = |q: &str| idx.search(&f.store, q, &all, 0).unwrap().len();
        assert_eq!(found("camera giam sat"), 1);
        assert_eq!(found("\"giam sat\""), 1);
        // Title end + summary start, body end + author start: not phrases.
        assert_eq!(found("\"camera giam sat\""), 0);
        assert_eq!(found("\"noi dung giam sat\""), 0);
        assert_eq!(found("\"giam sat van\""), 0);
        let texts = [
            (view.title.as_deref().unwrap_or(""), 1.0),
            (view.summary.as_deref().unwrap_or(""), 1.0),
            (view.body.as_str(), 1.0),
            (view.author.as_deref().unwrap_or(""), 1.0),
        ];
        assert!(TextQuery::parse("\"camera giam sat\"")
            .score_texts(&texts)
            .is_none());
    }

    #[test]
    fn search_filters_and_orders() {
        let f = build();
        let idx = indexed(&f);
        let sites = Filter {
            sites: vec!["quangninh".into()],
            ..Filter::default()
        };
        assert_eq!(
            urls(&idx.search(&f.store, "chi linh", &sites, 10).unwrap()),
            [DONG_TRIEU]
        );
        let since = Filter {
            since: Some(parse_date_bound("2021-04", false).unwrap()),
            until: Some(parse_date_bound("2021", true).unwrap()),
            ..Filter::default()
        };
        // Undated articles never pass a date filter.
        assert_eq!(
            urls(&idx.search(&f.store, "", &since, 0).unwrap()),
            sorted(vec![DONG_TRIEU, HOI_NGHI])
        );
        let gone = Filter {
            status: Some(ArticleStatus::Gone),
            ..Filter::default()
        };
        assert!(idx.search(&f.store, "", &gone, 0).unwrap().is_empty());
        let newest = idx
            .search_ordered(&f.store, "", &Filter::default(), 0, SearchOrder::Newest)
            .unwrap();
        let order: Vec<&str> = newest.iter().map(|h| h.url.as_str()).collect();
        assert_eq!(order, [GIAM_DOC, HOI_NGHI, DONG_TRIEU, CHI_LINH, THONG_BAO]);
        assert_eq!(
            idx.search(&f.store, "", &Filter::default(), 2)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn the_index_holds_the_latest_wording_and_upserts_replace() {
        let f = build();
        let mut idx = indexed(&f);
        let all = Filter::default();
        assert!(idx
            .search(&f.store, "thi diem", &all, 10)
            .unwrap()
            .is_empty());
        // "chính trị … thực hiện" has both words, not the phrase.
        assert_eq!(
            urls(&idx.search(&f.store, "chinh thuc", &all, 10).unwrap()),
            sorted(vec![CHI_LINH, HOI_NGHI])
        );
        assert_eq!(
            urls(&idx.search(&f.store, "\"chinh thuc\"", &all, 10).unwrap()),
            [CHI_LINH]
        );

        // Upserting the old version replaces the document rather than adding one.
        let a = f.store.article(CHI_LINH).unwrap().unwrap();
        let versions = f.store.versions(CHI_LINH).unwrap();
        idx.upsert(&ArticleView::new(&a, &versions[0])).unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.num_docs(), 5);
        let hits = idx.search(&f.store, "thi diem", &all, 10).unwrap();
        assert_eq!(urls(&hits), [CHI_LINH]);
        assert_eq!(hits[0].version, 1);
        assert!(idx
            .search(&f.store, "\"chinh thuc\"", &all, 10)
            .unwrap()
            .is_empty());

        // Committed state survives reopening; uncommitted upserts do not.
        assert!(idx.created());
        idx.upsert(&ArticleView::new(&a, &versions[1])).unwrap();
        drop(idx);
        let idx = SearchIndex::open(f.dir.path()).unwrap();
        assert!(!idx.created());
        assert_eq!(idx.num_docs(), 5);
        assert_eq!(
            idx.search(&f.store, "thi diem", &all, 10).unwrap()[0].version,
            1
        );
    }

    #[test]
    fn a_rebuild_that_did_not_finish_is_started_over() {
        let f = build();
        let idx = indexed(&f);
        assert!(!idx.dir().join(REBUILDING_MARK).exists());
        drop(idx);
        assert!(!SearchIndex::open(f.dir.path()).unwrap().created());
        // What a rebuild killed between two of its commits leaves behind.
        std::fs::write(f.dir.path().join("index").join(REBUILDING_MARK), b"").unwrap();
        let mut idx = SearchIndex::open(f.dir.path()).unwrap();
        assert!(idx.created(), "a half-built index must be rebuilt");
        assert_eq!(idx.rebuild(&f.store).unwrap(), 5);
        assert!(!idx.dir().join(REBUILDING_MARK).exists());
        assert!(!SearchIndex::open(f.dir.path()).unwrap().created());
    }

    #[test]
    fn an_index_with_another_schema_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("index");
        std::fs::create_dir_all(&dir).unwrap();
        let mut b = Schema::builder();
        b.add_text_field("url", STRING | STORED);
        Index::create_in_dir(&dir, b.build()).unwrap();
        let idx = SearchIndex::open(tmp.path()).unwrap();
        assert!(idx.created());
        assert_eq!(idx.num_docs(), 0);
        assert_eq!(idx.index.schema(), schema());
        let store = crate::store::Store::open(tmp.path(), "test").unwrap();
        assert!(idx
            .search(&store, "bat ky", &Filter::default(), 10)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn merging_leaves_one_segment_with_every_document_searchable() {
        let f = build();
        let mut idx = SearchIndex::open(f.dir.path()).unwrap();
        // One commit per article: one segment each.
        for a in f.store.articles() {
            let a = a.unwrap();
            let v = f.store.version(&a.url, a.versions).unwrap().unwrap();
            idx.upsert(&ArticleView::new(&a, &v)).unwrap();
            idx.commit().unwrap();
        }
        let all = Filter::default();
        let hits = idx.search(&f.store, "chi linh", &all, 10).unwrap();
        let before: Vec<String> = urls(&hits).iter().map(|u| u.to_string()).collect();
        assert!(!before.is_empty());
        assert_eq!(idx.merge_segments().unwrap(), 5);
        assert_eq!(idx.index.searchable_segment_ids().unwrap().len(), 1);
        assert_eq!(idx.num_docs(), 5);
        let hits = idx.search(&f.store, "chi linh", &all, 10).unwrap();
        assert_eq!(urls(&hits), before);
        // The merged segments' files are gone; a second merge has nothing to do.
        let files = std::fs::read_dir(idx.dir())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().ends_with(".idx")
            })
            .count();
        assert_eq!(files, 1);
        assert_eq!(idx.merge_segments().unwrap(), 1);
        // Reopened, it is the same one-segment index.
        drop(idx);
        let idx = SearchIndex::open(f.dir.path()).unwrap();
        assert!(!idx.created());
        assert_eq!(idx.num_docs(), 5);
    }

    #[test]
    fn finishing_waits_for_the_merges_the_commits_started() {
        let f = build();
        let mut idx = SearchIndex::open(f.dir.path()).unwrap();
        let a = f.store.articles().next().unwrap().unwrap();
        let v = f.store.version(&a.url, a.versions).unwrap().unwrap();
        // Eight commits of one document each: the eighth segment makes tantivy's merge
        // policy (eight or more of a size) start a merge in the background, which dropping
        // the writer now would abandon.
        for i in 0..8 {
            let mut a = a.clone();
            a.url = format!("{}?ban={i}", a.url);
            idx.upsert(&ArticleView::new(&a, &v)).unwrap();
            idx.commit().unwrap();
        }
        idx.finish_merges().unwrap();
        assert_eq!(idx.index.searchable_segment_ids().unwrap().len(), 1);
        assert_eq!(idx.num_docs(), 8);
        // What a later process opens is the merged index, without the merged segments' files.
        drop(idx);
        let idx = SearchIndex::open(f.dir.path()).unwrap();
        assert_eq!(idx.index.searchable_segment_ids().unwrap().len(), 1);
        let files = std::fs::read_dir(idx.dir())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().ends_with(".idx")
            })
            .count();
        assert_eq!(files, 1);
        assert_eq!(idx.num_docs(), 8);
    }

    #[test]
    fn a_second_writer_is_refused_while_readers_work() {
        let f = build();
        let mut first = indexed(&f);
        let mut second = SearchIndex::open(f.dir.path()).unwrap();
        assert_eq!(second.num_docs(), 5);
        let a = f.store.article(HOI_NGHI).unwrap().unwrap();
        let v = f.store.versions(HOI_NGHI).unwrap().remove(0);
        let err = second.upsert(&ArticleView::new(&a, &v)).unwrap_err();
        assert!(matches!(err, Error::SearchIndex { .. }), "{err}");
        first.upsert(&ArticleView::new(&a, &v)).unwrap();
        first.commit().unwrap();
    }

    #[test]
    fn search_as_of_returns_the_older_wording() {
        let f = build();
        let at = DateTime::parse_from_rfc3339(BEFORE_EDIT).unwrap();
        let all = Filter::default();
        let hits = search_as_of(&f.store, "thi diem", at, &all, 10).unwrap();
        assert_eq!(urls(&hits), [CHI_LINH]);
        assert_eq!(hits[0].version, 1);
        assert!(
            hits[0].snippet.contains("«thí điểm»"),
            "{}",
            hits[0].snippet
        );
        assert!(search_as_of(&f.store, "\"chinh thuc\"", at, &all, 10)
            .unwrap()
            .is_empty());
        // Articles captured later did not exist yet.
        let hits = search_as_of(&f.store, "chi linh", at, &all, 10).unwrap();
        assert_eq!(urls(&hits), [CHI_LINH]);
        // Now: the same answers as the index, phrases and exclusions included.
        let now = DateTime::parse_from_rfc3339("2030-01-01T00:00:00+07:00").unwrap();
        let idx = indexed(&f);
        for q in [
            "chi linh",
            "camera giam sat",
            "\"camera giam sat\"",
            "camera -linh",
            "-camera",
            "duc",
            "chinh thuc",
            "\"chinh thuc\"",
            "thi diem",
        ] {
            let scanned = search_as_of(&f.store, q, now, &all, 0).unwrap();
            let indexed = idx.search(&f.store, q, &all, 0).unwrap();
            assert_eq!(urls(&scanned), urls(&indexed), "{q}");
        }
        let before_all = DateTime::parse_from_rfc3339("2020-01-01T00:00:00+07:00").unwrap();
        assert!(search_as_of(&f.store, "", before_all, &all, 0)
            .unwrap()
            .is_empty());
        // Relevance: more matching fields rank higher; the limit keeps the best.
        let hits = search_as_of(&f.store, "chi linh", now, &all, 1).unwrap();
        assert_eq!(urls(&hits), [CHI_LINH]);
        let newest = search_as_of_ordered(&f.store, "", now, &all, 0, SearchOrder::Newest).unwrap();
        let order: Vec<&str> = newest.iter().map(|h| h.url.as_str()).collect();
        assert_eq!(order, [GIAM_DOC, HOI_NGHI, DONG_TRIEU, CHI_LINH, THONG_BAO]);
    }
}
