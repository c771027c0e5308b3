//! Word-level diffs between two stored versions of an article.
//!
//! Vietnamese is written in syllables separated by spaces, so a "word" token here is one
//! space-separated syllable; punctuation at a syllable's edges is a token of its own (so a
//! changed comma shows as a comma), while punctuation inside it stays ("11.250", "TP.HCM",
//! "30/9", "COVID-19", so a changed number is one token). Spaces and paragraph breaks are
//! tokens too: concatenating the equal and inserted spans gives the new text back exactly,
//! the equal and deleted spans the old one (up to key form: equal spans carry the new
//! text), and paragraphs survive into the output.
//!
//! Tokens are compared by their [`key_form`] while the spans carry the stored (NFC) text, so
//! whatever the content hash ignores (case, Unicode normalisation, old/new tone placement)
//! never shows as a change, and a field whose key forms are equal is not listed at all
//! (the same rule as [`crate::dedup::changed_fields`]).
//!
//! Parts: [`tokenize`] (the tokens), [`diff_versions`] (the diff, with adjacent changes
//! merged into one delete + one insert), [`write_unified`] / [`write_json`] (the output
//! forms of `luutru diff`) and [`changed_words`] (what `changes` and tests report).

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use similar::{Algorithm, DiffTag};

use crate::dedup::changed_fields;
use crate::extract::{key_form, Extracted};
use crate::store::model::VersionRecord;

/// A pathological pair (two unrelated 100k-word bodies) must not hang `luutru diff`:
/// past this, `similar` returns a correct but possibly non-minimal diff.
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

/// One changed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    /// `title`, `published`, `author`, `summary` or `body`.
    pub field: String,
    pub ops: Vec<DiffOp>,
}

/// One span of a field diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum DiffOp {
    Equal { text: String },
    Insert { text: String },
    Delete { text: String },
}

impl DiffOp {
    fn text(&self) -> &str {
        match self {
            DiffOp::Equal { text } | DiffOp::Insert { text } | DiffOp::Delete { text } => text,
        }
    }
}

/// The difference between two versions of one article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionDiff {
    pub url: String,
    pub from: u32,
    pub to: u32,
    pub from_fetched_at: DateTime<Utc>,
    pub to_fetched_at: DateTime<Utc>,
    /// Only the fields that changed, in the order title, published, author, summary, body.
    pub fields: Vec<FieldDiff>,
}

/// What a token is; whitespace kinds compare by kind, not by their exact characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A syllable (letters, digits, marks, with any punctuation inside it).
    Word,
    /// One punctuation or symbol character at a syllable's edge.
    Punct,
    /// A run of whitespace within a paragraph.
    Space,
    /// A run of whitespace holding a blank line: a paragraph break.
    Break,
}

/// A token: a slice of the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)
}

/// Splits a text into syllables, edge punctuation, spaces and paragraph breaks. The tokens
/// concatenated give the text back.
pub fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        let is_ws = first.is_whitespace();
        let end = rest
            .char_indices()
            .find(|&(_, c)| c.is_whitespace() != is_ws)
            .map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(end);
        rest = tail;
        if is_ws {
            let kind = if run.matches('\n').count() >= 2 {
                TokenKind::Break
            } else {
                TokenKind::Space
            };
            out.push(Token { kind, text: run });
        } else {
            push_chunk(run, &mut out);
        }
    }
    out
}

/// One whitespace-free chunk: leading punctuation, the syllable, trailing punctuation.
fn push_chunk<'a>(chunk: &'a str, out: &mut Vec<Token<'a>>) {
    let Some(start) = chunk.find(is_word_char) else {
        push_puncts(chunk, out);
        return;
    };
    // Up to the last word character (combining marks count as word characters).
    let end = chunk
        .char_indices()
        .rev()
        .find(|&(_, c)| is_word_char(c))
        .map_or(chunk.len(), |(i, c)| i + c.len_utf8());
    push_puncts(&chunk[..start], out);
    out.push(Token {
        kind: TokenKind::Word,
        text: &chunk[start..end],
    });
    push_puncts(&chunk[end..], out);
}

fn push_puncts<'a>(s: &'a str, out: &mut Vec<Token<'a>>) {
    for (i, c) in s.char_indices() {
        out.push(Token {
            kind: TokenKind::Punct,
            text: &s[i..i + c.len_utf8()],
        });
    }
}

/// The comparison key of a token.
fn token_key(t: &Token<'_>) -> String {
    match t.kind {
        TokenKind::Space => " ".to_string(),
        TokenKind::Break => "\n\n".to_string(),
        TokenKind::Word | TokenKind::Punct => key_form(t.text),
    }
}

/// The field's text as diffed; `published` is one RFC 3339 token.
fn field_text(e: &Extracted, field: &str) -> String {
    match field {
        "title" => e.title.clone().unwrap_or_default(),
        "published" => e.published.map(|d| d.to_rfc3339()).unwrap_or_default(),
        "author" => e.author.clone().unwrap_or_default(),
        "summary" => e.summary.clone().unwrap_or_default(),
        _ => e.body.clone(),
    }
}

/// The diff of version `old` to version `new` of `url`: the fields whose key forms differ,
/// each as equal / delete / insert spans.
pub fn diff_versions(url: &str, old: &VersionRecord, new: &VersionRecord) -> VersionDiff {
    let fields = changed_fields(&old.fields, &new.fields)
        .into_iter()
        .filter_map(|field| {
            let (a, b) = (
                field_text(&old.fields, &field),
                field_text(&new.fields, &field),
            );
            let ops = if field == "published" {
                whole_value_ops(&a, &b)
            } else {
                diff_text(&a, &b)
            };
            let changed = ops.iter().any(|o| !matches!(o, DiffOp::Equal { .. }));
            changed.then_some(FieldDiff { field, ops })
        })
        .collect();
    VersionDiff {
        url: url.to_string(),
        from: old.number,
        to: new.number,
        from_fetched_at: old.fetched_at,
        to_fetched_at: new.fetched_at,
        fields,
    }
}

/// A date is one value: showing "T08" → "T09" inside it would only hide what changed.
fn whole_value_ops(a: &str, b: &str) -> Vec<DiffOp> {
    let mut ops = Vec::new();
    if !a.is_empty() {
        ops.push(DiffOp::Delete { text: a.into() });
    }
    if !b.is_empty() {
        ops.push(DiffOp::Insert { text: b.into() });
    }
    ops
}

/// Token spans of one diff before merging; `true` in `Equal` marks a lone space that may
/// be folded into the changes around it.
enum Seg {
    Equal(String, bool),
    Delete(String),
    Insert(String),
}

/// The word diff of two texts, adjacent changes merged.
pub fn diff_text(old: &str, new: &str) -> Vec<DiffOp> {
    let (ot, nt) = (tokenize(old), tokenize(new));
    let ok: Vec<String> = ot.iter().map(token_key).collect();
    let nk: Vec<String> = nt.iter().map(token_key).collect();
    let deadline = Instant::now() + DIFF_DEADLINE;
    let raw = similar::capture_diff_slices_deadline(Algorithm::Myers, &ok, &nk, Some(deadline));
    let concat = |toks: &[Token<'_>]| toks.iter().map(|t| t.text).collect::<String>();
    let mut segs = Vec::new();
    for op in &raw {
        let (tag, or, nr) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => {
                let toks = &nt[nr];
                let lone_space = toks.len() == 1 && toks[0].kind == TokenKind::Space;
                // The stored new text: what the reader sees now.
                segs.push(Seg::Equal(concat(toks), lone_space));
            }
            DiffTag::Delete => segs.push(Seg::Delete(concat(&ot[or]))),
            DiffTag::Insert => segs.push(Seg::Insert(concat(&nt[nr]))),
            DiffTag::Replace => {
                segs.push(Seg::Delete(concat(&ot[or])));
                segs.push(Seg::Insert(concat(&nt[nr])));
            }
        }
    }
    merge(segs)
}

/// Folds each run of changes (lone spaces between them included) into one delete and one
/// insert, so "Phó Bí thư" → "Bí thư Tỉnh ủy" reads as one replacement rather than a
/// word-by-word zigzag.
fn merge(segs: Vec<Seg>) -> Vec<DiffOp> {
    let mut out: Vec<DiffOp> = Vec::new();
    let mut i = 0;
    while i < segs.len() {
        if let Seg::Equal(text, _) = &segs[i] {
            push_op(&mut out, DiffOp::Equal { text: text.clone() });
            i += 1;
            continue;
        }
        // A block: changes, possibly joined by lone spaces that have changes after them.
        let start = i;
        let mut end = i;
        let mut j = i;
        while j < segs.len() {
            match &segs[j] {
                Seg::Delete(_) | Seg::Insert(_) => {
                    end = j + 1;
                    j += 1;
                }
                Seg::Equal(_, true)
                    if matches!(segs.get(j + 1), Some(Seg::Delete(_) | Seg::Insert(_))) =>
                {
                    j += 1;
                }
                Seg::Equal(..) => break,
            }
        }
        let block = &segs[start..end];
        let has_del = block.iter().any(|s| matches!(s, Seg::Delete(_)));
        let has_ins = block.iter().any(|s| matches!(s, Seg::Insert(_)));
        if has_del && has_ins {
            let (mut old, mut new) = (String::new(), String::new());
            for s in block {
                match s {
                    Seg::Delete(t) => old.push_str(t),
                    Seg::Insert(t) => new.push_str(t),
                    Seg::Equal(t, _) => {
                        old.push_str(t);
                        new.push_str(t);
                    }
                }
            }
            push_replacement(&mut out, &old, &new);
        } else {
            // Only deletions (or only insertions): folding the spaces in would make them
            // look inserted (deleted) on the other side.
            for s in block {
                let op = match s {
                    Seg::Delete(t) => DiffOp::Delete { text: t.clone() },
                    Seg::Insert(t) => DiffOp::Insert { text: t.clone() },
                    Seg::Equal(t, _) => DiffOp::Equal { text: t.clone() },
                };
                push_op(&mut out, op);
            }
        }
        i = end;
    }
    out
}

/// Emits `old` → `new` as delete + insert, with whitespace common to both ends kept equal.
fn push_replacement(out: &mut Vec<DiffOp>, old: &str, new: &str) {
    let lead = common_ws_prefix(old, new);
    let (o, n) = (&old[lead..], &new[lead..]);
    let trail = common_ws_suffix(o, n);
    let (o, n) = (&o[..o.len() - trail], &n[..n.len() - trail]);
    let ws = &old[lead + o.len()..];
    push_op(
        out,
        DiffOp::Equal {
            text: old[..lead].to_string(),
        },
    );
    push_op(
        out,
        DiffOp::Delete {
            text: o.to_string(),
        },
    );
    push_op(
        out,
        DiffOp::Insert {
            text: n.to_string(),
        },
    );
    push_op(
        out,
        DiffOp::Equal {
            text: ws.to_string(),
        },
    );
}

fn common_ws_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|&((_, x), y)| x != y || !x.is_whitespace())
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}

fn common_ws_suffix(a: &str, b: &str) -> usize {
    a.chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|&(x, y)| x == y && x.is_whitespace())
        .map(|(x, _)| x.len_utf8())
        .sum()
}

/// Appends `op`, merged into the previous op when of the same kind; empty ops are dropped.
fn push_op(out: &mut Vec<DiffOp>, op: DiffOp) {
    if op.text().is_empty() {
        return;
    }
    match (out.last_mut(), op) {
        (Some(DiffOp::Equal { text: a }), DiffOp::Equal { text: b })
        | (Some(DiffOp::Insert { text: a }), DiffOp::Insert { text: b })
        | (Some(DiffOp::Delete { text: a }), DiffOp::Delete { text: b }) => a.push_str(&b),
        (_, op) => out.push(op),
    }
}

/// The inserted and deleted tokens (syllables and punctuation; spaces and paragraph breaks
/// left out), in order, over all fields.
pub fn changed_words(d: &VersionDiff) -> (Vec<String>, Vec<String>) {
    let (mut ins, mut del) = (Vec::new(), Vec::new());
    for f in &d.fields {
        for op in &f.ops {
            let (target, text) = match op {
                DiffOp::Insert { text } => (&mut ins, text),
                DiffOp::Delete { text } => (&mut del, text),
                DiffOp::Equal { .. } => continue,
            };
            let words = if f.field == "published" {
                vec![text.clone()]
            } else {
                tokenize(text)
                    .into_iter()
                    .filter(|t| matches!(t.kind, TokenKind::Word | TokenKind::Punct))
                    .map(|t| t.text.to_string())
                    .collect()
            };
            target.extend(words);
        }
    }
    (ins, del)
}

/// Markers of one span kind: with colour ANSI codes, without it `{+…+}` / `[-…-]`.
struct Style {
    ins: (&'static str, &'static str),
    del: (&'static str, &'static str),
    head: (&'static str, &'static str),
}

const PLAIN: Style = Style {
    ins: ("{+", "+}"),
    del: ("[-", "-]"),
    head: ("", ""),
};
const COLOUR: Style = Style {
    ins: ("\x1b[32m", "\x1b[0m"),
    del: ("\x1b[31m", "\x1b[0m"),
    head: ("\x1b[1m", "\x1b[0m"),
};

/// One output paragraph and whether it holds a change.
struct Line {
    text: String,
    changed: bool,
}

/// Splits the spans into display paragraphs. A paragraph break that is itself inserted or
/// deleted shows as a marked "¶" so a split or merged paragraph is visible.
fn lines_of(ops: &[DiffOp], style: &Style) -> Vec<Line> {
    let mut lines = vec![Line {
        text: String::new(),
        changed: false,
    }];
    for op in ops {
        let (marks, text) = match op {
            DiffOp::Equal { text } => (None, text),
            DiffOp::Insert { text } => (Some(style.ins), text),
            DiffOp::Delete { text } => (Some(style.del), text),
        };
        let pieces: Vec<&str> = split_paragraphs(text);
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                lines.push(Line {
                    text: String::new(),
                    changed: false,
                });
            }
            let last = i + 1 == pieces.len();
            let shown = match marks {
                None => piece.to_string(),
                Some(_) if last => piece.to_string(),
                Some(_) => format!("{piece}¶"),
            };
            let line = lines
                .last_mut()
                .expect("lines starts non-empty and only grows");
            match marks {
                Some((open, close)) if !shown.is_empty() => {
                    line.text.push_str(open);
                    line.text.push_str(&shown);
                    line.text.push_str(close);
                    line.changed = true;
                }
                _ => line.text.push_str(&shown),
            }
        }
    }
    lines
}

/// Splits at paragraph breaks (whitespace holding a blank line).
fn split_paragraphs(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut at) = (0, 0);
    for t in tokenize(text) {
        if t.kind == TokenKind::Break {
            out.push(&text[start..at]);
            start = at + t.text.len();
        }
        at += t.text.len();
    }
    out.push(&text[start..]);
    out
}

/// The diff for a reader: a header per field, inserted and deleted spans marked, and
/// unchanged paragraphs elided except one of context on each side of a change.
pub fn write_unified(d: &VersionDiff, color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let style = if color { &COLOUR } else { &PLAIN };
    let (hb, he) = style.head;
    writeln!(
        out,
        "{hb}diff {} version {} ({}) → version {} ({}){he}",
        d.url,
        d.from,
        d.from_fetched_at.to_rfc3339(),
        d.to,
        d.to_fetched_at.to_rfc3339()
    )?;
    if d.fields.is_empty() {
        writeln!(out, "no changes")?;
    }
    for f in &d.fields {
        writeln!(out, "{hb}@@ {} @@{he}", f.field)?;
        let lines = lines_of(&f.ops, style);
        let near_change = |i: usize| {
            let lo = i.saturating_sub(1);
            let hi = (i + 1).min(lines.len() - 1);
            lines[lo..=hi].iter().any(|l| l.changed)
        };
        let mut hidden = 0usize;
        for (i, line) in lines.iter().enumerate() {
            if near_change(i) {
                write_elided(hidden, out)?;
                hidden = 0;
                writeln!(out, "{}", line.text)?;
            } else {
                hidden += 1;
            }
        }
        write_elided(hidden, out)?;
    }
    Ok(())
}

fn write_elided(n: usize, out: &mut dyn Write) -> std::io::Result<()> {
    match n {
        0 => Ok(()),
        1 => writeln!(out, "… (1 unchanged paragraph)"),
        n => writeln!(out, "… ({n} unchanged paragraphs)"),
    }
}

/// The diff as one pretty-printed JSON object and a newline.
pub fn write_json(d: &VersionDiff, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, d)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::warc::WarcPtr;
    use chrono::TimeZone;

    fn version(number: u32, title: &str, body: &str) -> VersionRecord {
        let fields = Extracted {
            title: Some(title.into()),
            body: body.into(),
            ..Default::default()
        };
        VersionRecord {
            number,
            fetched_at: Utc.with_ymd_and_hms(2024, 6, 12 + number, 7, 0, 0).unwrap(),
            fetched_url: "https://tinhuyhaiduong.vn/bai-viet.html".into(),
            http_status: 200,
            content_hash: crate::dedup::content_hash(&fields),
            fields,
            warc: WarcPtr {
                file: "luutru-00000.warc.gz".into(),
                offset: 0,
                length: 1,
                record_id: "<urn:uuid:0>".into(),
                payload_digest: "sha1:A".into(),
                target_uri: "https://tinhuyhaiduong.vn/bai-viet.html".into(),
                date: Utc.with_ymd_and_hms(2024, 6, 12, 7, 0, 0).unwrap(),
                original: None,
            },
            changed: Vec::new(),
            reextracted: false,
        }
    }

    fn diff(a: (&str, &str), b: (&str, &str)) -> VersionDiff {
        diff_versions(
            "https://x.vn/a",
            &version(1, a.0, a.1),
            &version(2, b.0, b.1),
        )
    }

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// The spans rebuild both texts: nothing is lost or invented.
    fn assert_rebuilds(ops: &[DiffOp], old: &str, new: &str) {
        let side = |keep_ins: bool| {
            ops.iter()
                .filter_map(|o| match o {
                    DiffOp::Equal { text } => Some(text.as_str()),
                    DiffOp::Insert { text } if keep_ins => Some(text.as_str()),
                    DiffOp::Delete { text } if !keep_ins => Some(text.as_str()),
                    _ => None,
                })
                .collect::<String>()
        };
        // Equal spans carry the new text, so the old side is the old text up to key form.
        let keys = |t: &str| tokenize(t).iter().map(token_key).collect::<Vec<_>>();
        assert_eq!(keys(&side(false)), keys(old));
        assert_eq!(side(true), new);
    }

    const BODY: &str =
        "Chiều 12/6/2024, Ban Chấp hành Đảng bộ tỉnh tổ chức Hội nghị lần thứ 25.\n\n\
        Thu ngân sách nhà nước ước đạt 11.250 tỷ đồng, bằng 56,8% dự toán năm.\n\n\
        Công tác kiểm tra, giám sát được thực hiện nghiêm túc.\n\n\
        Hội nghị thẳng thắn chỉ ra một số hạn chế.\n\n\
        Đồng chí Bí thư Tỉnh ủy phát biểu kết luận hội nghị.";

    #[test]
    fn tokens_keep_numbers_whole_and_split_edge_punctuation() {
        let t: Vec<&str> = tokenize("(Theo TP.HCM), đạt 11.250 tỷ đồng; 56,8%.\n\nHết")
            .iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(
            t,
            [
                "(", "Theo", " ", "TP.HCM", ")", ",", " ", "đạt", " ", "11.250", " ", "tỷ", " ",
                "đồng", ";", " ", "56,8", "%", ".", "\n\n", "Hết"
            ]
        );
    }

    #[test]
    fn one_word_changed() {
        let new = BODY.replace("nghiêm túc", "chặt chẽ túc");
        let d = diff(("T", BODY), ("T", &new));
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].field, "body");
        assert_eq!(
            changed_words(&d),
            (words(&["chặt", "chẽ"]), words(&["nghiêm"]))
        );
        assert_rebuilds(&d.fields[0].ops, BODY, &new);
    }

    #[test]
    fn one_number_changed_is_one_delete_and_one_insert() {
        let old = "Công ty có trên 2300 người lao động.";
        let new = "Công ty có trên 2400 người lao động.";
        let d = diff(("T", old), ("T", new));
        assert_eq!(
            d.fields[0].ops,
            vec![
                DiffOp::Equal {
                    text: "Công ty có trên ".into()
                },
                DiffOp::Delete {
                    text: "2300".into()
                },
                DiffOp::Insert {
                    text: "2400".into()
                },
                DiffOp::Equal {
                    text: " người lao động.".into()
                },
            ]
        );
        let new = BODY.replace("11.250", "11.520");
        let d = diff(("T", BODY), ("T", &new));
        assert_eq!(changed_words(&d), (words(&["11.520"]), words(&["11.250"])));
    }

    #[test]
    fn title_typo_fixed() {
        let d = diff(
            ("Hội nghị Ban Chấp hàn Đảng bộ tỉnh", BODY),
            ("Hội nghị Ban Chấp hành Đảng bộ tỉnh", BODY),
        );
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].field, "title");
        assert_eq!(changed_words(&d), (words(&["hành"]), words(&["hàn"])));
        let mut plain = Vec::new();
        write_unified(&d, false, &mut plain).unwrap();
        let plain = String::from_utf8(plain).unwrap();
        assert!(
            plain.contains("@@ title @@\nHội nghị Ban Chấp [-hàn-]{+hành+} Đảng bộ tỉnh\n"),
            "{plain}"
        );
    }

    #[test]
    fn paragraph_added_shows_only_that_paragraph_with_context() {
        let added = "Tỉnh đã thu hút thêm 412 triệu USD vốn đầu tư trực tiếp nước ngoài.";
        let new = BODY.replace(
            "\n\nCông tác kiểm tra",
            &format!("\n\n{added}\n\nCông tác kiểm tra"),
        );
        let d = diff(("T", BODY), ("T", &new));
        let (ins, del) = changed_words(&d);
        assert!(del.is_empty(), "{del:?}");
        assert_eq!(ins.concat(), added.replace(' ', ""));
        assert_rebuilds(&d.fields[0].ops, BODY, &new);

        let mut out = Vec::new();
        write_unified(&d, false, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let body: Vec<&str> = out.split("@@ body @@\n").nth(1).unwrap().lines().collect();
        assert_eq!(
            body,
            [
                "… (1 unchanged paragraph)",
                "Thu ngân sách nhà nước ước đạt 11.250 tỷ đồng, bằng 56,8% dự toán năm.",
                &format!("{{+{added}¶+}}"),
                "Công tác kiểm tra, giám sát được thực hiện nghiêm túc.",
                "… (2 unchanged paragraphs)",
            ]
        );
    }

    #[test]
    fn sentence_edited_merges_adjacent_changes() {
        let old_s = "Hội nghị thẳng thắn chỉ ra một số hạn chế.";
        let new_s = "Hội nghị cũng nêu những tồn tại cần khắc phục.";
        let new = BODY.replace(old_s, new_s);
        let d = diff(("T", BODY), ("T", &new));
        let ops = &d.fields[0].ops;
        assert_rebuilds(ops, BODY, &new);
        // One replacement span, not a zigzag of one-word changes.
        assert_eq!(
            ops.iter()
                .filter(|o| matches!(o, DiffOp::Delete { .. }))
                .count(),
            1,
            "{ops:?}"
        );
        assert!(ops.contains(&DiffOp::Delete {
            text: "thẳng thắn chỉ ra một số hạn chế".into()
        }));
        assert!(ops.contains(&DiffOp::Insert {
            text: "cũng nêu những tồn tại cần khắc phục".into()
        }));
    }

    #[test]
    fn nfd_case_and_tone_placement_are_no_change() {
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd(BODY).collect();
        let d = diff(("Hoà Bình", BODY), ("Hòa Bình", &nfd));
        assert!(d.fields.is_empty(), "{:?}", d.fields);
        let mut out = Vec::new();
        write_unified(&d, false, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().ends_with("no changes\n"));

        // Inside a changed field, such tokens are still equal (the stored new form shows).
        let old = "Xã Hoà Bình có 120 hộ.";
        let new = "Xã Hòa Bình có 125 hộ.";
        let d = diff(("T", old), ("T", new));
        assert_eq!(changed_words(&d), (words(&["125"]), words(&["120"])));
    }

    #[test]
    fn punctuation_change() {
        let old = "Công tác kiểm tra, giám sát được thực hiện nghiêm túc.";
        let new = "Công tác kiểm tra giám sát được thực hiện nghiêm túc!";
        let d = diff(("T", old), ("T", new));
        assert_eq!(changed_words(&d), (words(&["!"]), words(&[",", "."])));
        assert_rebuilds(&d.fields[0].ops, old, new);
    }

    #[test]
    fn published_date_is_one_value() {
        let mut a = version(1, "T", BODY);
        let mut b = version(2, "T", BODY);
        let tz = chrono::FixedOffset::east_opt(7 * 3600).unwrap();
        a.fields.published = Some(tz.with_ymd_and_hms(2024, 6, 12, 8, 0, 0).unwrap());
        b.fields.published = Some(tz.with_ymd_and_hms(2024, 6, 12, 9, 30, 0).unwrap());
        let d = diff_versions("u", &a, &b);
        assert_eq!(
            changed_words(&d),
            (
                words(&["2024-06-12T09:30:00+07:00"]),
                words(&["2024-06-12T08:00:00+07:00"])
            )
        );
    }

    #[test]
    fn colour_and_json_outputs() {
        let d = diff(("T", "có 2300 người"), ("T", "có 2400 người"));
        let mut out = Vec::new();
        write_unified(&d, true, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("có \x1b[31m2300\x1b[0m\x1b[32m2400\x1b[0m người"),
            "{out:?}"
        );
        assert!(!out.contains("{+"));

        let mut js = Vec::new();
        write_json(&d, &mut js).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&js).unwrap();
        assert_eq!(v["from"], 1);
        assert_eq!(v["to"], 2);
        assert_eq!(v["fields"][0]["field"], "body");
        assert_eq!(
            v["fields"][0]["ops"][1],
            serde_json::json!({"op": "delete", "text": "2300"})
        );
        assert_eq!(
            v["fields"][0]["ops"][2],
            serde_json::json!({"op": "insert", "text": "2400"})
        );
    }

    #[test]
    fn paragraph_merge_marks_the_removed_break() {
        let old = "Đoạn một.\n\nĐoạn hai.";
        let new = "Đoạn một, đoạn hai.";
        let d = diff(("T", old), ("T", new));
        assert_rebuilds(&d.fields[0].ops, old, new);
        let mut out = Vec::new();
        write_unified(&d, false, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains('¶'), "{out}");
    }
}
