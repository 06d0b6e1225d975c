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
