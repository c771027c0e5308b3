//! Bytes of a fetched page to text.
//!
//! Parts: [`decode_html`] (the one entry point), [`sniff_encoding`] (which encoding and
//! why), the `<meta>` prescan and the chardetng fallback. Order of authority: a byte-order
//! mark (as the HTML standard says: it outranks everything), the HTTP `Content-Type`
//! charset, `<meta charset>` / `http-equiv` in the first bytes, then detection.
//! The result is NFC because windows-1258 decodes to base letters plus combining marks.

use std::borrow::Cow;
use std::sync::OnceLock;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};
use regex::bytes::Regex;
use unicode_normalization::UnicodeNormalization;

/// Where the encoding of a page was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    Bom,
    Header,
    Meta,
    Detected,
}

/// How many leading bytes are searched for a `<meta>` charset. The standard says 1024;
/// portals put long comment blocks and scripts before it, so we look further.
const META_PRESCAN: usize = 8 * 1024;

fn charset_in_header(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(v.trim().trim_matches(|c| c == '"' || c == '\'').as_bytes())
    })
}

fn meta_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?i-u)<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([a-z0-9_:.\-]+)"#)
            .expect("static regex is valid")
    })
}

fn charset_in_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(META_PRESCAN)];
    for caps in meta_regex().captures_iter(head) {
        if let Some(enc) = caps.get(1).and_then(|m| Encoding::for_label(m.as_bytes())) {
            // A document that could be read as ASCII cannot really be UTF-16: the standard
            // maps such declarations to UTF-8.
            if enc == UTF_16LE || enc == UTF_16BE {
                return Some(UTF_8);
            }
            return Some(enc);
        }
    }
    None
}

/// Which encoding the page is in and where that came from.
pub fn sniff_encoding(
    bytes: &[u8],
    content_type: Option<&str>,
) -> (&'static Encoding, EncodingSource) {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return (enc, EncodingSource::Bom);
    }
    if let Some(enc) = content_type.and_then(charset_in_header) {
        return (enc, EncodingSource::Header);
    }
    if let Some(enc) = charset_in_meta(bytes) {
        return (enc, EncodingSource::Meta);
    }
    // Valid UTF-8 with non-ASCII text is, in practice, never another encoding; checking it is
    // far cheaper than running the detector over the whole page.
    if std::str::from_utf8(bytes).is_ok() {
        return (UTF_8, EncodingSource::Detected);
    }
    let mut det = chardetng::EncodingDetector::new();
    // The first 64 KiB say as much about the encoding as the whole page.
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    det.feed(sample, sample.len() == bytes.len());
    (det.guess(None, true), EncodingSource::Detected)
}

/// Decodes a page to NFC text. Invalid byte sequences become U+FFFD; never fails.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    let (enc, source) = sniff_encoding(bytes, content_type);
    let text: Cow<'_, str> = if source == EncodingSource::Bom {
        enc.decode_with_bom_removal(bytes).0
    } else {
        enc.decode_without_bom_handling(bytes).0
    };
    if super::text::is_nfc(&text) {
        text.into_owned()
    } else {
        text.nfc().collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use encoding_rs::WINDOWS_1258;

    const SAMPLE: &str = "Đồng chí Phó Bí thư Thường trực Tỉnh ủy làm việc với Thành ủy Chí Linh; hoà thuận, khoẻ mạnh, Nguyễn Thị Thuý";

    /// Encodes as a windows-1258 page would be written: letters windows-1258 lacks in
    /// precomposed form are sent as base letter plus combining tone mark.
    pub(crate) fn cp1258(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for c in s.chars() {
            let mut buf = [0u8; 4];
            let (bytes, _, had_errors) = WINDOWS_1258.encode(c.encode_utf8(&mut buf));
            if !had_errors {
                out.extend_from_slice(&bytes);
                continue;
            }
            let decomposed: String = c.to_string().nfd().collect();
            let tones: String = decomposed
                .chars()
                .filter(|&m| {
                    matches!(
                        m,
                        '\u{0300}' | '\u{0301}' | '\u{0303}' | '\u{0309}' | '\u{0323}'
                    )
                })
                .collect();
            let base: String = decomposed
                .chars()
                .filter(|m| !tones.contains(*m))
                .nfc()
                .collect();
            let split = format!("{base}{tones}");
            let (bytes, _, had_errors) = WINDOWS_1258.encode(&split);
            assert!(!had_errors, "{c:?} is representable in windows-1258");
            out.extend_from_slice(&bytes);
        }
        out
    }

    #[test]
    fn windows_1258_from_header_gives_nfc() {
        let html = format!("<html><body><p>{SAMPLE}</p></body></html>");
        let bytes = cp1258(&html);
        let out = decode_html(&bytes, Some("text/html; charset=windows-1258"));
        assert_eq!(out, html);
    }

    #[test]
    fn windows_1258_from_meta_http_equiv() {
        let html = format!(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1258\">\
             </head><body><p>{SAMPLE}</p></body></html>"
        );
        let out = decode_html(&cp1258(&html), None);
        assert_eq!(out, html);
        // A header with no charset does not override the meta.
        assert_eq!(decode_html(&cp1258(&html), Some("text/html")), html);
    }

    #[test]
    fn meta_charset_and_header_precedence() {
        let html = format!("<meta charset=\"utf-8\"><p>{SAMPLE}</p>");
        assert_eq!(decode_html(html.as_bytes(), None), html);
        // The header wins over the meta.
        let html = format!("<meta charset=\"utf-8\"><p>{SAMPLE}</p>");
        let bytes = cp1258(&html);
        assert_eq!(
            decode_html(&bytes, Some("text/html; charset=\"windows-1258\"")),
            html
        );
    }

    #[test]
    fn bom_wins() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(SAMPLE.as_bytes());
        assert_eq!(
            decode_html(&bytes, Some("text/html; charset=windows-1252")),
            SAMPLE
        );
    }

    #[test]
    fn undeclared_utf8_is_detected() {
        let html = format!("<html><body><p>{SAMPLE}</p></body></html>");
        assert_eq!(sniff_encoding(html.as_bytes(), None).0, UTF_8);
        assert_eq!(decode_html(html.as_bytes(), None), html);
    }

    #[test]
    fn undeclared_windows_1258_is_detected() {
        let html = format!("<html><body><p>{SAMPLE}</p><p>{SAMPLE}</p></body></html>");
        let bytes = cp1258(&html);
        assert_eq!(sniff_encoding(&bytes, None).0, WINDOWS_1258);
        assert_eq!(decode_html(&bytes, None), html);
    }

    #[test]
    fn invalid_bytes_are_replaced() {
        let bytes = b"<p>ok \xff\xfe\xc3 end</p>";
        let out = decode_html(bytes, Some("text/html; charset=utf-8"));
        assert!(out.contains('\u{FFFD}'));
        assert!(out.starts_with("<p>ok "));
        // Garbage labels fall through to detection without panicking.
        let _ = decode_html(bytes, Some("text/html; charset=no-such-thing"));
        let _ = decode_html(&[], None);
    }

    #[test]
    fn nfd_utf8_becomes_nfc() {
        let nfd: String = SAMPLE.nfd().collect();
        assert_eq!(
            decode_html(nfd.as_bytes(), Some("text/html; charset=utf-8")),
            SAMPLE
        );
    }
}
