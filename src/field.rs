//! [`FieldValue`]: a span field's typed value, shared by sampling (what a
//! [`traces_sampler`](crate::SentryLayerBuilder::traces_sampler) sees), recording and export.
//!
//! It lives here, below both, so that sampling does not depend on export.

/// A typed value of a span field, as it is sent in span `data` and shown to a
/// [`traces_sampler`](crate::SentryLayerBuilder::traces_sampler).
///
/// # Examples
///
/// ```
/// use tracing_sentry::FieldValue;
///
/// let v = FieldValue::Str("gold".to_owned());
/// assert_eq!(v.as_str(), Some("gold"));
/// assert_eq!(FieldValue::I64(-3).as_i64(), Some(-3));
/// assert_eq!(FieldValue::U64(3).as_i64(), Some(3));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float.
    F64(f64),
    /// A string, or a value recorded with `Debug` or `Display`.
    Str(String),
}

impl FieldValue {
    /// Returns the string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Returns the value as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::I64(v) => Some(v),
            Self::U64(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// Returns the value as an `f64`, if it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Self::F64(v) => Some(v),
            Self::I64(v) => Some(v as f64),
            Self::U64(v) => Some(v as f64),
            _ => None,
        }
    }

    /// Returns the boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Self::Bool(v) => Some(v),
            _ => None,
        }
    }
}

/// The most bytes of a string field that are kept (8 KiB); longer values are cut at a character
/// boundary.
pub(crate) const MAX_FIELD_BYTES: usize = 8 * 1024;

/// `s` cut to at most `max` bytes, at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// Implements `tracing`'s `Visit` for a type with a `push(&mut self, &Field, FieldValue)`
/// method: every value typed as a [`FieldValue`], strings and `Debug` values cut to
/// [`MAX_FIELD_BYTES`]. Span fields and event fields are visited alike.
macro_rules! visit_as_field_values {
    ($ty:ty) => {
        impl tracing_core::field::Visit for $ty {
            fn record_bool(&mut self, field: &tracing_core::field::Field, value: bool) {
                self.push(field, $crate::field::FieldValue::Bool(value));
            }
            fn record_i64(&mut self, field: &tracing_core::field::Field, value: i64) {
                self.push(field, $crate::field::FieldValue::I64(value));
            }
            fn record_u64(&mut self, field: &tracing_core::field::Field, value: u64) {
                self.push(field, $crate::field::FieldValue::U64(value));
            }
            fn record_f64(&mut self, field: &tracing_core::field::Field, value: f64) {
                self.push(field, $crate::field::FieldValue::F64(value));
            }
            fn record_str(&mut self, field: &tracing_core::field::Field, value: &str) {
                let value = $crate::field::cut(value, $crate::field::MAX_FIELD_BYTES);
                self.push(field, $crate::field::FieldValue::Str(value.to_owned()));
            }
            fn record_debug(
                &mut self,
                field: &tracing_core::field::Field,
                value: &dyn std::fmt::Debug,
            ) {
                let mut text = format!("{value:?}");
                let kept = $crate::field::cut(&text, $crate::field::MAX_FIELD_BYTES).len();
                text.truncate(kept);
                self.push(field, $crate::field::FieldValue::Str(text));
            }
        }
    };
}
pub(crate) use visit_as_field_values;
