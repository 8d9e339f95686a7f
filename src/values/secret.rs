//! A secret text that a provider's API sends or takes (an S3 secret key):
//! kept out of `Debug`.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A secret text field of a provider's API type (e.g. Contabo's
/// `CredentialData::secret_key`): decoded and sent as the plain string,
/// shown as `[redacted]` by `Debug`.
///
/// ```
/// use cloud_images::SecretText;
///
/// let key: SecretText = serde_json::from_str("\"wJalrXK7MDENG\"").unwrap();
/// assert_eq!(format!("{key:?}"), "[redacted]");
/// assert_eq!(key.expose_secret(), "wJalrXK7MDENG");
/// ```
#[derive(Clone)]
pub struct SecretText(SecretString);

impl SecretText {
    /// The text itself.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self(SecretString::from(text))
    }
}

impl From<&str> for SecretText {
    fn from(text: &str) -> Self {
        Self(SecretString::from(text))
    }
}

impl From<SecretText> for SecretString {
    fn from(text: SecretText) -> Self {
        text.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for SecretText {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Eq for SecretText {}

impl serde::Serialize for SecretText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose_secret())
    }
}

impl<'de> serde::Deserialize<'de> for SecretText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}
