//! What the setter of an optional field accepts on a generated body type's
//! builder ([`OptionalValue`]).

use std::convert::Infallible;

/// A value for an optional field: the value itself, `Some(value)` or `None`
/// (with a value of the field's own type, e.g. `Some(String)`), and for
/// text also a `&str`.
///
/// The generated builders of the body types (e.g. the one behind
/// `body_map`) take this for every optional field, so `.description("x")`
/// works where progenitor's own setters need `Some("x".to_string())`.
///
/// ```
/// use cloud_images::contabo::types;
///
/// let change: types::UpdateCustomImageRequest = types::UpdateCustomImageRequest::builder()
///     .name("debian-13-golden")
///     .description(None)
///     .try_into()
///     .unwrap();
/// assert_eq!(change.name.as_deref(), Some("debian-13-golden"));
/// assert_eq!(change.description, None);
/// ```
pub trait OptionalValue<T> {
    /// Why the value does not convert (these conversions cannot fail).
    type Error: std::fmt::Display;

    /// The field's new value.
    fn into_option(self) -> Result<Option<T>, Self::Error>;
}

impl<T> OptionalValue<T> for T {
    type Error = Infallible;
    fn into_option(self) -> Result<Option<T>, Infallible> {
        Ok(Some(self))
    }
}

impl<T> OptionalValue<T> for Option<T> {
    type Error = Infallible;
    fn into_option(self) -> Result<Option<T>, Infallible> {
        Ok(self)
    }
}

impl OptionalValue<String> for &str {
    type Error = Infallible;
    fn into_option(self) -> Result<Option<String>, Infallible> {
        Ok(Some(self.to_owned()))
    }
}
