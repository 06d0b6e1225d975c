//! Percent-encoding for baggage keys and values (W3C baggage §3.2.1.1, spec 2.4).

/// Whether each byte is an RFC 3986 unreserved byte (`[A-Za-z0-9-._~]`), the only bytes written
/// as is: one table read per byte.
///
/// This set lies inside W3C `baggage-octet`, so the output is always a valid baggage value, and
/// every SDK's decoder reads it back.
#[expect(
    clippy::indexing_slicing,
    reason = "built at compile time: an index out of bounds fails the build, it cannot panic"
)]
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        b += 1;
    }
    table
};

#[inline]
fn is_unreserved(b: u8) -> bool {
    // A `u8` index is always in the table.
    UNRESERVED.get(usize::from(b)).copied().unwrap_or(false)
}

/// The uppercase hex digit of `nibble` (`0..=15`).
#[inline]
fn hex_upper(nibble: u8) -> char {
    char::from(
        HEX_UPPER
            .get(usize::from(nibble & 0xf))
            .copied()
            .unwrap_or(b'0'),
    )
}

/// Uppercase hex digits.
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

#[inline]
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The length of `s` once encoded by [`encode_into`].
#[cfg(test)]
pub(crate) fn encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| if is_unreserved(b) { 1 } else { 3 })
        .sum()
}

/// Appends `s` to `out`, writing every byte outside the unreserved set as `%XX` (uppercase).
pub(crate) fn encode_into(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    // Copy runs of unreserved bytes at once; run boundaries sit next to ASCII bytes, so they are
    // always char boundaries and `get` never fails.
    let mut from = 0;
    while let Some(rest) = bytes.get(from..) {
        let Some(run) = rest.iter().position(|&b| !is_unreserved(b)) else {
            break;
        };
        let at = from + run;
        out.push_str(s.get(from..at).unwrap_or_default());
        let b = bytes.get(at).copied().unwrap_or_default();
        out.push('%');
        out.push(hex_upper(b >> 4));
        out.push(hex_upper(b));
        from = at + 1;
    }
    out.push_str(s.get(from..).unwrap_or_default());
}

/// Decodes `%XX` escapes of `s` into `out` (cleared first); other bytes, `+` included, are copied.
///
/// Returns `false` if an escape is malformed (`%` not followed by two hex digits).
/// The bytes in `out` may not be UTF-8; callers convert them lossily (U+FFFD), as W3C requires.
pub(crate) fn decode_into(s: &str, out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = bytes.next().and_then(hex_value);
            let lo = bytes.next().and_then(hex_value);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return false,
            }
        } else {
            out.push(b);
        }
    }
    true
}

/// Appends `s` to `out` with its `%XX` escapes decoded, as [`decode_into`] followed by a lossy
/// UTF-8 conversion (U+FFFD) gives it; a value of up to 128 bytes is decoded on the stack.
/// Returns `false`, with `out` unchanged, if an escape is malformed.
pub(crate) fn decode_onto(s: &str, out: &mut String) -> bool {
    // The usual value decodes to ASCII: pushed as it is decoded, with no buffer and no UTF-8
    // check; a byte that is not ASCII sends the whole value to the general path.
    let bytes = s.as_bytes();
    let mark = out.len();
    out.reserve(bytes.len());
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let byte = if b == b'%' {
            let hi = bytes.get(at + 1).copied().and_then(hex_value);
            let lo = bytes.get(at + 2).copied().and_then(hex_value);
            let (Some(hi), Some(lo)) = (hi, lo) else {
                out.truncate(mark);
                return false;
            };
            at += 3;
            hi << 4 | lo
        } else {
            at += 1;
            b
        };
        if !byte.is_ascii() {
            out.truncate(mark);
            return decode_onto_general(s, out);
        }
        out.push(char::from(byte));
    }
    true
}

/// [`decode_onto`] for a value that decodes to more than ASCII.
#[cold]
fn decode_onto_general(s: &str, out: &mut String) -> bool {
    let mut stack = [0u8; 128];
    let mut heap = Vec::new();
    let decoded = if s.len() <= stack.len() {
        match decode_to(s, &mut stack) {
            Some(n) => stack.get(..n).unwrap_or_default(),
            None => return false,
        }
    } else {
        if !decode_into(s, &mut heap) {
            return false;
        }
        &heap
    };
    // Decoded bytes are almost always UTF-8: check in one pass before the lossy conversion.
    match std::str::from_utf8(decoded) {
        Ok(text) => out.push_str(text),
        Err(_) => out.push_str(&String::from_utf8_lossy(decoded)),
    }
    true
}

/// [`decode_into`] into `out`, which is at least as long as `s`: the decoded length, or `None`
/// if an escape is malformed.
fn decode_to(s: &str, out: &mut [u8]) -> Option<usize> {
    let bytes = s.as_bytes();
    let (mut at, mut n) = (0, 0);
    while let Some(&b) = bytes.get(at) {
        let byte = if b == b'%' {
            let hi = bytes.get(at + 1).copied().and_then(hex_value)?;
            let lo = bytes.get(at + 2).copied().and_then(hex_value)?;
            at += 3;
            hi << 4 | lo
        } else {
            at += 1;
            b
        };
        *out.get_mut(n)? = byte;
        n += 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    #[rustfmt::skip]
    const ENCODE: &[(&str, &str)] = &[
        ("",               ""),
        ("abcXYZ019-._~",  "abcXYZ019-._~"),
        ("GET /users/:id", "GET%20%2Fusers%2F%3Aid"),
        ("a,b;c",          "a%2Cb%3Bc"),
        ("100%",           "100%25"),
        ("a+b",            "a%2Bb"),
        ("a=b",            "a%3Db"),
        ("tab\there",      "tab%09here"),
        ("Amélie",         "Am%C3%A9lie"),
        ("€",              "%E2%82%AC"),
        ("!'()*",          "%21%27%28%29%2A"),
    ];

    #[test]
    fn encoding_leaves_only_unreserved_bytes() {
        for (input, expected) in ENCODE {
            let mut out = String::new();
            encode_into(input, &mut out);
            assert_eq!(out, *expected);
            assert_eq!(encoded_len(input), expected.len());
            let mut back = Vec::new();
            assert!(decode_into(&out, &mut back));
            assert_eq!(String::from_utf8(back).unwrap(), *input);
        }
    }

    #[rustfmt::skip]
    const DECODE: &[(&str, Option<&[u8]>)] = &[
        ("DF%2028",     Some(b"DF 28")),
        ("a+b",         Some(b"a+b")),
        ("%e2%82%ac",   Some("€".as_bytes())),
        ("%ff",         Some(&[0xff])),
        ("100%",        None),
        ("%zz",         None),
        ("%2",          None),
        ("%%41",        None),
    ];

    #[test]
    fn decoding_rejects_malformed_escapes() {
        for (input, expected) in DECODE {
            let mut out = Vec::new();
            let ok = decode_into(input, &mut out);
            assert_eq!(ok.then_some(out.as_slice()), *expected, "{input:?}");
            let mut onto = String::from("x");
            let ok = decode_onto(input, &mut onto);
            let lossy = expected.map(|e| format!("x{}", String::from_utf8_lossy(e)));
            assert_eq!(ok.then_some(onto.clone()), lossy, "{input:?}");
            if !ok {
                assert_eq!(onto, "x", "unchanged on failure");
            }
        }
    }

    proptest::proptest! {
        /// The table-driven encoder writes what the plain byte-by-byte rule writes, for any
        /// text (every char class, escapes of multi-byte chars included).
        #[test]
        fn encoding_is_the_byte_by_byte_rule(s in "\\PC{0,64}") {
            let mut expected = String::new();
            for b in s.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    expected.push(char::from(b));
                } else {
                    expected.push_str(&format!("%{b:02X}"));
                }
            }
            let mut out = String::from("x");
            encode_into(&s, &mut out);
            proptest::prop_assert_eq!(&out[1..], expected.as_str());
            proptest::prop_assert_eq!(encoded_len(&s), expected.len());
        }
    }

    proptest::proptest! {
        /// Decoding onto a string gives what decoding into bytes and converting them lossily
        /// gives, for any mix of text, escapes of every byte, and malformed escapes, however
        /// long the runs of escapes are.
        #[test]
        fn decoding_onto_a_string_is_decoding_then_converting(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    "[a-z \u{e9}\u{20ac}]{0,3}",
                    proptest::num::u8::ANY.prop_map(|b| format!("%{b:02X}")),
                    "(%E2%82%AC|%C3%A9|%F0%9F%98|%ED%A0%80){1,3}",
                    "%[0-9a-z]{0,2}",
                ],
                0..12,
            ),
            repeat in 0..30usize,
        ) {
            let mut s = parts.concat();
            if repeat > 20 {
                s.push_str(&"%E2%82%AC".repeat(repeat));
            }
            let mut bytes = Vec::new();
            let expected = decode_into(&s, &mut bytes)
                .then(|| format!(">{}", String::from_utf8_lossy(&bytes)));
            let mut out = String::from(">");
            let ok = decode_onto(&s, &mut out);
            proptest::prop_assert_eq!(ok.then_some(out.clone()), expected);
            if !ok {
                proptest::prop_assert_eq!(out, ">");
            }
        }
    }
}
