//! What a sender has learnt about the data keys it writes: whether the privacy rules remove or
//! filter a key, and whether it needs JSON escaping, computed once per key rather than once
//! per span.
//!
//! Span data keys are nearly always field names, `&'static str`s of a callsite: their address
//! and length name the same text for the life of the process (static text is never freed or
//! changed), so a direct-mapped table on the address answers for a key seen before with one
//! comparison. Keys set at run time (a hook's `set_data`) are judged afresh every time.

use std::borrow::Cow;

use crate::export::wire::json::{any_needs_escape, push_any_key};

/// The value written in place of a denied one, as Sentry's SDKs and Relay write it.
pub(crate) const FILTERED: &str = "[Filtered]";

/// Rules that judge data keys, for a writer that applies them as it writes (the privacy
/// policy implements it; the wire only asks).
pub(crate) trait JudgeKey {
    /// What the rules do to an entry with this key.
    fn judge(&self, key: &str) -> Verdict;
}

/// What the privacy rules do to a data key (before any hook runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The entry is sent as it is.
    Keep,
    /// The entry is removed (private data while `send_default_pii` is off).
    Remove,
    /// The value is replaced by `[Filtered]` (a denylist word is in the key).
    Filter,
}

/// Slots of the table: a service writes a few hundred distinct keys, and a collision only
/// costs judging the keys again.
const SLOTS: usize = 256;

/// Bits of [`Slot::facts`].
const VERDICT_KNOWN: u8 = 1;
const REMOVE: u8 = 2;
const FILTER: u8 = 4;
const PLAIN_KNOWN: u8 = 8;
const PLAIN: u8 = 16;

/// The longest `"key":` kept written out in a slot.
const KEY_JSON: usize = 38;

/// One remembered key: its address and length, and what is known of it.
#[derive(Clone, Copy)]
struct Slot {
    addr: usize,
    len: usize,
    facts: u8,
    /// The length of `json`, once written (0: not yet, or too long to keep).
    json_len: u8,
    /// `"key":`, escaped.
    json: [u8; KEY_JSON],
}

impl Slot {
    const EMPTY: Slot = Slot {
        addr: 0,
        len: 0,
        facts: 0,
        json_len: 0,
        json: [0; KEY_JSON],
    };
}

/// Facts about static data keys, by address; one per sender (the privacy rules it applies
/// never change).
pub(crate) struct KeyFacts {
    slots: Box<[Slot; SLOTS]>,
}

impl Default for KeyFacts {
    fn default() -> Self {
        Self {
            slots: Box::new([Slot::EMPTY; SLOTS]),
        }
    }
}

impl KeyFacts {
    /// The facts known of `key`; the slot is taken over (nothing known) if it held another
    /// key. `None` never happens (the index is a byte).
    #[inline]
    fn slot(&mut self, key: &'static str) -> Option<&mut Slot> {
        let addr = key.as_ptr() as usize;
        // Fibonacci hashing of the address: the top 8 bits of the product.
        let hash = (addr as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56;
        let slot = self.slots.get_mut(usize::from(hash as u8))?;
        if slot.addr != addr || slot.len != key.len() {
            *slot = Slot {
                addr,
                len: key.len(),
                ..Slot::EMPTY
            };
        }
        Some(slot)
    }

    /// The verdict on `key`, from `judge` the first time a static key is seen.
    #[inline]
    pub(crate) fn verdict(
        &mut self,
        key: &impl DataKey,
        judge: impl FnOnce(&str) -> Verdict,
    ) -> Verdict {
        match key.static_text().and_then(|k| self.slot(k)) {
            Some(slot) => slot.verdict(key.text(), judge),
            None => judge(key.text()),
        }
    }

    /// Whether `key` (or any static text) needs no JSON escaping.
    #[inline]
    pub(crate) fn is_plain(&mut self, key: &impl DataKey) -> bool {
        let scan = |key: &str| !any_needs_escape(key.as_bytes());
        let Some(slot) = key.static_text().and_then(|k| self.slot(k)) else {
            return scan(key.text());
        };
        if slot.facts & PLAIN_KNOWN == 0 {
            slot.facts |= PLAIN_KNOWN | if scan(key.text()) { PLAIN } else { 0 };
        }
        slot.facts & PLAIN != 0
    }
}

impl KeyFacts {
    /// Writes `"key":`, escaped; for a static key, from what was written the first time.
    #[inline]
    pub(crate) fn push_key(&mut self, out: &mut Vec<u8>, key: &impl DataKey) {
        match key.static_text().and_then(|k| self.slot(k)) {
            Some(slot) => slot.push_json(out, key.text()),
            None => push_any_key(out, key.text()),
        }
    }

    /// [`verdict`](Self::verdict) (with `judge`; without, [`Verdict::Keep`]) and, unless it is
    /// [`Verdict::Remove`], [`push_key`](Self::push_key), with one look-up.
    #[inline]
    pub(crate) fn push_key_unless_removed(
        &mut self,
        out: &mut Vec<u8>,
        key: &impl DataKey,
        judge: Option<impl FnOnce(&str) -> Verdict>,
    ) -> Verdict {
        let text = key.text();
        let mut slot = key.static_text().and_then(|k| self.slot(k));
        let verdict = match (judge, slot.as_deref_mut()) {
            (None, _) => Verdict::Keep,
            (Some(judge), Some(slot)) => slot.verdict(text, judge),
            (Some(judge), None) => judge(text),
        };
        if verdict != Verdict::Remove {
            match slot {
                Some(slot) => slot.push_json(out, text),
                None => push_any_key(out, text),
            }
        }
        verdict
    }
}

impl Slot {
    /// The verdict on this slot's key (`key`), judged the first time.
    #[inline]
    fn verdict(&mut self, key: &str, judge: impl FnOnce(&str) -> Verdict) -> Verdict {
        if self.facts & VERDICT_KNOWN == 0 {
            self.facts |= VERDICT_KNOWN
                | match judge(key) {
                    Verdict::Keep => 0,
                    Verdict::Remove => REMOVE,
                    Verdict::Filter => FILTER,
                };
        }
        if self.facts & REMOVE != 0 {
            Verdict::Remove
        } else if self.facts & FILTER != 0 {
            Verdict::Filter
        } else {
            Verdict::Keep
        }
    }

    /// Writes `"key":` for this slot's key (`key`), written out the first time.
    #[inline]
    fn push_json(&mut self, out: &mut Vec<u8>, key: &str) {
        if self.json_len == 0 {
            write_key(self, key);
        }
        let len = usize::from(self.json_len);
        if len == 0 {
            push_any_key(out, key);
            return;
        }
        // A fixed-size copy (no call) and a shorter length: cheaper than copying `len` bytes.
        let end = out.len() + len;
        out.extend_from_slice(&self.json);
        out.truncate(end);
    }
}

/// Writes `"key":` into the slot, if it fits.
#[cold]
fn write_key(slot: &mut Slot, key: &str) {
    let mut json = Vec::with_capacity(KEY_JSON);
    push_any_key(&mut json, key);
    if let Some(dst) = slot.json.get_mut(..json.len()) {
        dst.copy_from_slice(&json);
        slot.json_len = json.len() as u8;
    }
}

/// A key (or other text) as a span record holds it: its text, and whether that text is
/// static, which lets [`KeyFacts`] remember it.
pub(crate) trait DataKey {
    fn text(&self) -> &str;
    fn static_text(&self) -> Option<&'static str>;
}

impl DataKey for Cow<'static, str> {
    fn text(&self) -> &str {
        self
    }

    fn static_text(&self) -> Option<&'static str> {
        match self {
            Cow::Borrowed(key) => Some(key),
            Cow::Owned(_) => None,
        }
    }
}

impl DataKey for &'static str {
    fn text(&self) -> &str {
        self
    }

    fn static_text(&self) -> Option<&'static str> {
        Some(self)
    }
}

impl std::fmt::Debug for KeyFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Counts only: keys are field names, but the table has no reason to show them.
        let used = self.slots.iter().filter(|s| s.facts != 0).count();
        f.debug_struct("KeyFacts").field("used", &used).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_static_key_is_judged_once_and_an_owned_one_every_time() {
        let mut facts = KeyFacts::default();
        let mut judged = 0;
        let key: Cow<'static, str> = Cow::Borrowed("user.id");
        for _ in 0..3 {
            let verdict = facts.verdict(&key, |_| {
                judged += 1;
                Verdict::Remove
            });
            assert_eq!(verdict, Verdict::Remove);
        }
        assert_eq!(judged, 1);
        let owned: Cow<'static, str> = Cow::Owned("user.id".to_owned());
        for _ in 0..2 {
            facts.verdict(&owned, |_| {
                judged += 1;
                Verdict::Keep
            });
        }
        assert_eq!(judged, 3);
    }

    #[test]
    fn keys_that_share_a_slot_keep_their_own_facts() {
        // More keys than slots: every one of them collides with another, and each still
        // gets its own verdict and escaping.
        let keys: Vec<&'static str> = (0..SLOTS * 2)
            .map(|i| &*Box::leak(format!("k{i}{}", if i % 3 == 0 { "\"" } else { "" }).into()))
            .collect();
        let mut facts = KeyFacts::default();
        for _ in 0..2 {
            for (i, key) in keys.iter().enumerate() {
                let key = Cow::Borrowed(*key);
                let want = if i % 2 == 0 {
                    Verdict::Keep
                } else {
                    Verdict::Filter
                };
                assert_eq!(facts.verdict(&key, |_| want), want, "{key}");
                assert_eq!(facts.is_plain(&key), i % 3 != 0, "{key}");
            }
        }
    }

    #[test]
    fn a_key_and_its_prefix_at_the_same_address_are_different_keys() {
        let text: &'static str = "http.method";
        let (short, long) = (Cow::Borrowed(&text[..4]), Cow::Borrowed(text));
        let mut facts = KeyFacts::default();
        assert_eq!(facts.verdict(&short, |_| Verdict::Filter), Verdict::Filter);
        assert_eq!(facts.verdict(&long, |_| Verdict::Keep), Verdict::Keep);
        assert_eq!(facts.verdict(&short, |_| Verdict::Remove), Verdict::Remove);
    }
}
