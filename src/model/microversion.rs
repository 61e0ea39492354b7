//! Compute API microversions (spec §6.2): parsing, negotiation, comparison.

use std::fmt;

/// A `2.N` microversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion {
    pub major: u32,
    pub minor: u32,
}

impl Microversion {
    pub const BASE: Microversion = Microversion { major: 2, minor: 1 };

    pub const fn new(major: u32, minor: u32) -> Self {
        Microversion { major, minor }
    }

    /// Parse `2.N` (no `latest`; see [`negotiate`]) with Nova's pattern
    /// `^([1-9]\d*)\.([1-9]\d*|0)$`: no leading zeros. A well-formed
    /// number too large to hold saturates, so it is out of range (406), not
    /// badly formed (400).
    pub fn parse(text: &str) -> Option<Microversion> {
        let (major, minor) = text.trim().split_once('.')?;
        let number = |s: &str| -> Option<u32> {
            let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            let leading_zero = s.len() > 1 && s.starts_with('0');
            if !digits || leading_zero {
                return None;
            }
            Some(s.parse::<u32>().unwrap_or(u32::MAX))
        };
        let major = number(major).filter(|m| *m != 0)?;
        Some(Microversion {
            major,
            minor: number(minor)?,
        })
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl serde::Serialize for Microversion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Microversion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Microversion::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{text}' is not a microversion; write it as \"2.N\""
            ))
        })
    }
}

impl schemars::JsonSchema for Microversion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Microversion".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A compute microversion, written \"2.N\".",
            "type": "string",
            "pattern": "^[0-9]+\\.[0-9]+$"
        })
    }
}

/// The version headers a request carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionHeaders {
    /// `OpenStack-API-Version: compute 2.N`
    pub openstack: Option<String>,
    /// `X-OpenStack-Nova-API-Version: 2.N`
    pub nova: Option<String>,
}

/// Why negotiation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionError {
    /// 400: the string is not `2.N`.
    BadFormat(String),
    /// 406: outside `[min, max]`.
    Unsupported(Microversion),
}

/// Pick the request's microversion within `[min, max]`. No header gives
/// `min`; the `OpenStack-API-Version` header wins over the older one; a
/// header that names another service is ignored.
pub fn negotiate(
    headers: &VersionHeaders,
    min: Microversion,
    max: Microversion,
) -> Result<Microversion, VersionError> {
    let from_new = headers.openstack.as_deref().and_then(|h| {
        let mut words = h.split_whitespace();
        let service = words.next()?;
        service
            .eq_ignore_ascii_case("compute")
            .then(|| words.collect::<Vec<_>>().join(" "))
    });
    let Some(text) = from_new.or_else(|| headers.nova.clone()) else {
        return Ok(min);
    };
    if text.trim().eq_ignore_ascii_case("latest") {
        return Ok(max);
    }
    let version = Microversion::parse(&text).ok_or(VersionError::BadFormat(text.clone()))?;
    if version < min || version > max {
        return Err(VersionError::Unsupported(version));
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Microversion = Microversion::new(2, 104);

    fn neg(openstack: Option<&str>, nova: Option<&str>) -> Result<Microversion, VersionError> {
        let headers = VersionHeaders {
            openstack: openstack.map(str::to_string),
            nova: nova.map(str::to_string),
        };
        negotiate(&headers, Microversion::BASE, MAX)
    }

    #[test]
    fn defaults_latest_and_precedence() {
        assert_eq!(neg(None, None), Ok(Microversion::BASE));
        assert_eq!(neg(Some("compute latest"), None), Ok(MAX));
        assert_eq!(
            neg(Some("compute 2.50"), Some("2.10")),
            Ok(Microversion::new(2, 50))
        );
        assert_eq!(neg(None, Some("2.10")), Ok(Microversion::new(2, 10)));
        assert_eq!(neg(Some("volume 2.50"), None), Ok(Microversion::BASE));
    }

    #[test]
    fn format_and_range_errors() {
        assert_eq!(
            neg(None, Some("2")),
            Err(VersionError::BadFormat("2".into()))
        );
        assert_eq!(
            neg(None, Some("2.x")),
            Err(VersionError::BadFormat("2.x".into()))
        );
        assert_eq!(
            neg(None, Some("2.105")),
            Err(VersionError::Unsupported(Microversion::new(2, 105)))
        );
        assert_eq!(
            neg(None, Some("2.0")),
            Err(VersionError::Unsupported(Microversion::new(2, 0)))
        );
        assert_eq!(
            neg(None, Some("3.1")),
            Err(VersionError::Unsupported(Microversion::new(3, 1)))
        );
    }
}
