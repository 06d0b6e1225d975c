//! Percent-encoding for baggage keys and values (W3C baggage §3.2.1.1, spec 2.4).

/// Whether `b` is an RFC 3986 unreserved byte (`[A-Za-z0-9-._~]`), the only bytes written as is.
///
/// This set lies inside W3C `baggage-octet`, so the output is always a valid baggage value, and
/// every SDK's decoder reads it back.
#[inline]
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Uppercase hex digit for a nibble (`0..=15`).
#[inline]
fn hex_upper(nibble: u8) -> char {
    char::from(if nibble < 10 {
        b'0' + nibble
    } else {
        b'A' + (nibble - 10)
    })
}

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
pub(crate) fn encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| if is_unreserved(b) { 1 } else { 3 })
        .sum()
}

/// Appends `s` to `out`, writing every byte outside the unreserved set as `%XX` (uppercase).
pub(crate) fn encode_into(s: &str, out: &mut String) {
    // Copy runs of unreserved bytes at once; run boundaries sit next to ASCII bytes, so they are
    // always char boundaries and `get` never fails.
    let mut run_start = 0;
    for (i, b) in s.bytes().enumerate() {
        if !is_unreserved(b) {
            out.push_str(s.get(run_start..i).unwrap_or_default());
            out.push('%');
            out.push(hex_upper(b >> 4));
            out.push(hex_upper(b & 0xf));
            run_start = i + 1;
        }
    }
    out.push_str(s.get(run_start..).unwrap_or_default());
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

/// [`decode_into`] into a caller's buffer (at least as long as `s`): returns the decoded
/// length, or `None` if an escape is malformed or `out` is too short.
pub(crate) fn decode_to_slice(s: &str, out: &mut [u8]) -> Option<usize> {
    let mut n = 0;
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        let byte = if b == b'%' {
            let hi = bytes.next().and_then(hex_value)?;
            let lo = bytes.next().and_then(hex_value)?;
            hi << 4 | lo
        } else {
            b
        };
        *out.get_mut(n)? = byte;
        n += 1;
    }
    Some(n)
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;

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
            let mut buf = [0; 16];
            let n = decode_to_slice(input, &mut buf);
            assert_eq!(n.map(|n| &buf[..n]), *expected, "{input:?}");
        }
        assert_eq!(
            decode_to_slice("abc", &mut [0; 2]),
            None,
            "too short a buffer"
        );
    }
}
