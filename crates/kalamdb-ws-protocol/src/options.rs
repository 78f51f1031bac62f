//! The connection's protocol options (`wire-protocol.md` §6.2): the serialization and
//! compression a client asks for, in `authenticate` or the query string of header
//! authentication, and what the server answers in `auth_success`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Serialization {
    #[default]
    Json,
    Msgpack,
}

impl Serialization {
    pub fn as_str(self) -> &'static str {
        match self {
            Serialization::Json => "json",
            Serialization::Msgpack => "msgpack",
        }
    }

    /// Parses the `serialization=` query parameter of header authentication.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(Serialization::Json),
            "msgpack" => Some(Serialization::Msgpack),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    #[default]
    Gzip,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
        }
    }

    /// Parses the `compression=` query parameter of header authentication.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Compression::None),
            "gzip" => Some(Compression::Gzip),
            _ => None,
        }
    }
}

/// The `protocol` object of `authenticate` and `auth_success` (§6.2). The default is what
/// the Rust client assumes when it adds no query string: JSON, gzip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ProtocolOptions {
    pub serialization: Serialization,
    pub compression: Compression,
}

impl ProtocolOptions {
    /// What the server will actually do for a client asking `self` (the `protocol` of
    /// `auth_success`): always JSON, since a client asking MessagePack falls back to JSON
    /// when told so; gzip only when asked and the URL lacks `compress=false`.
    pub fn negotiate(self, compress_allowed: bool) -> ProtocolOptions {
        let gzip = compress_allowed && self.compression == Compression::Gzip;
        ProtocolOptions {
            serialization: Serialization::Json,
            compression: if gzip {
                Compression::Gzip
            } else {
                Compression::None
            },
        }
    }

    /// Whether large messages may go as gzip'd binary frames.
    pub fn gzip(self) -> bool {
        self.compression == Compression::Gzip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_negotiation_always_answers_json() {
        let asked = ProtocolOptions {
            serialization: Serialization::Msgpack,
            compression: Compression::Gzip,
        };
        assert_eq!(
            asked.negotiate(true),
            ProtocolOptions {
                serialization: Serialization::Json,
                compression: Compression::Gzip,
            }
        );
        assert_eq!(asked.negotiate(false).compression, Compression::None);
        let no_gzip = ProtocolOptions {
            serialization: Serialization::Json,
            compression: Compression::None,
        };
        assert!(!no_gzip.negotiate(true).gzip());
        assert_eq!(ProtocolOptions::default(), asked.negotiate(true));
        assert_eq!(
            Serialization::parse("msgpack"),
            Some(Serialization::Msgpack)
        );
        assert_eq!(Serialization::parse("xml"), None);
        assert_eq!(Compression::parse("none"), Some(Compression::None));
        assert_eq!(Compression::parse("GZIP"), None);
        assert_eq!(Serialization::Msgpack.as_str(), "msgpack");
        assert_eq!(Compression::Gzip.as_str(), "gzip");
    }
}
