//! Content identity: what makes two fetches "the same article text".
//!
//! The hash covers the normalised extracted fields only (title, published, author, summary,
//! body, in [`crate::extract::key_form`]), so markup, counters, today's date in the header
//! and rotating lists never create versions, while any change of wording does. Parts:
//! [`content_hash`], [`changed_fields`].

use crate::extract::{key_form, Extracted};

/// blake3 over the normalised fields, hex. Field boundaries are marked so text moving from
/// one field to the next still changes the hash.
pub fn content_hash(e: &Extracted) -> String {
    let mut h = blake3::Hasher::new();
    let published = e.published.map(|d| d.to_rfc3339()).unwrap_or_default();
    for (name, value) in [
        ("title", e.title.as_deref().unwrap_or("")),
        ("published", published.as_str()),
        ("author", e.author.as_deref().unwrap_or("")),
        ("summary", e.summary.as_deref().unwrap_or("")),
        ("body", e.body.as_str()),
    ] {
        h.update(name.as_bytes());
        h.update(&[0]);
        h.update(key_form(value).as_bytes());
        h.update(&[0]);
    }
    h.finalize().to_hex().to_string()
}

/// Names of the fields whose normalised text differs between two extractions.
pub fn changed_fields(old: &Extracted, new: &Extracted) -> Vec<String> {
    let k = |s: Option<&str>| key_form(s.unwrap_or(""));
    let mut out = Vec::new();
    if k(old.title.as_deref()) != k(new.title.as_deref()) {
        out.push("title".into());
    }
    if old.published != new.published {
        out.push("published".into());
    }
    if k(old.author.as_deref()) != k(new.author.as_deref()) {
        out.push("author".into());
    }
    if k(old.summary.as_deref()) != k(new.summary.as_deref()) {
        out.push("summary".into());
    }
    if key_form(&old.body) != key_form(&new.body) {
        out.push("body".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(title: &str, body: &str) -> Extracted {
        Extracted {
            title: Some(title.into()),
            body: body.into(),
            ..Default::default()
        }
    }

    #[test]
    fn same_text_in_other_normalisation_hashes_equal() {
        let a = art("Thành ủy Chí Linh", "Khu công nghiệp Cộng Hòa");
        let nfd: String =
            unicode_normalization::UnicodeNormalization::nfd("Khu công nghiệp Cộng Hòa").collect();
        let b = art("Thành ủy Chí Linh", &nfd);
        assert_eq!(content_hash(&a), content_hash(&b));
    }

    #[test]
    fn one_word_changes_the_hash_and_names_the_field() {
        let a = art("Tiêu đề", "Có 2300 công nhân.");
        let b = art("Tiêu đề", "Có 2400 công nhân.");
        assert_ne!(content_hash(&a), content_hash(&b));
        assert_eq!(changed_fields(&a, &b), vec!["body".to_string()]);
    }

    #[test]
    fn text_moving_between_fields_changes_the_hash() {
        let a = Extracted {
            title: Some("A B".into()),
            body: "C".into(),
            ..Default::default()
        };
        let b = Extracted {
            title: Some("A".into()),
            body: "B C".into(),
            ..Default::default()
        };
        assert_ne!(content_hash(&a), content_hash(&b));
    }
}
