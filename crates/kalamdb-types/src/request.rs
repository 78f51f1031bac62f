//! The JSON bodies clients send to the HTTP API, decoded without the server.
//!
//! Decoding untrusted bodies is the first thing the server does with a request, so it lives
//! here, free of DataFusion and axum: the API crate calls it, and a fuzz target can hammer it
//! in isolation. [`SqlRequestBody::decode`] is `POST /v1/api/sql` (`wire-protocol.md` §3.1,
//! §3.6) with the exact error codes and messages of the spec; [`LoginRequest`] and
//! [`SetupRequest`] are the `/v1/api/auth/login` and `/v1/api/auth/setup` bodies (§5).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error_code::ErrorCode;

/// A `$n` parameter as decoded from JSON (`wire-protocol.md` §3.6). Serializes back to the
/// JSON it came from (`null`, a boolean, a number or a string).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// The body of `POST /v1/api/sql`. Serializes to a body that decodes to the same value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SqlRequestBody {
    /// Never blank.
    pub sql: String,
    pub params: Vec<ParamValue>,
    pub namespace_id: Option<String>,
}

/// Why a request body was refused: the wire code and the client-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RequestError {
    pub code: ErrorCode,
    pub message: String,
}

impl RequestError {
    fn invalid_json(why: impl fmt::Display) -> Self {
        Self {
            code: ErrorCode::InvalidInput,
            message: format!("Invalid JSON payload: {why}"),
        }
    }

    fn empty_sql() -> Self {
        Self {
            code: ErrorCode::EmptySql,
            message: "SQL query cannot be empty".into(),
        }
    }
}

impl SqlRequestBody {
    /// Decodes a body whatever its Content-Type (so `curl -d` works). Fields are checked in
    /// order `sql`, `params`, `namespace_id`; unknown fields are ignored, and `null` is the
    /// same as absent.
    ///
    /// Errors: not a JSON object, or a field of the wrong JSON type → `INVALID_INPUT`
    /// ("Invalid JSON payload: …"); `sql` absent, `null` or blank → `EMPTY_SQL`; a parameter
    /// that is an array or object → `INVALID_PARAMETER` ("Parameter $N invalid: …").
    pub fn decode(bytes: &[u8]) -> Result<Self, RequestError> {
        let value: Value = serde_json::from_slice(bytes).map_err(RequestError::invalid_json)?;
        let Value::Object(obj) = value else {
            return Err(RequestError::invalid_json("expected a JSON object"));
        };
        let sql = match obj.get("sql") {
            None | Some(Value::Null) => return Err(RequestError::empty_sql()),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(RequestError::invalid_json("field 'sql' must be a string")),
        };
        if sql.trim().is_empty() {
            return Err(RequestError::empty_sql());
        }
        let params = match obj.get("params") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| decode_param(i + 1, v))
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(RequestError::invalid_json(
                    "field 'params' must be an array",
                ));
            }
        };
        let namespace_id = match obj.get("namespace_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(RequestError::invalid_json(
                    "field 'namespace_id' must be a string",
                ));
            }
        };
        Ok(Self {
            sql,
            params,
            namespace_id,
        })
    }
}

/// Parameter `n` (1-based, as `$n` names it). Integers that fit `i64` stay exact; every other
/// number (fractions, exponents, integers beyond `i64`) is a float.
fn decode_param(n: usize, v: &Value) -> Result<ParamValue, RequestError> {
    Ok(match v {
        Value::Null => ParamValue::Null,
        Value::Bool(b) => ParamValue::Bool(*b),
        Value::Number(num) => match num.as_i64() {
            Some(i) => ParamValue::Int(i),
            None => ParamValue::Float(num.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => ParamValue::Text(s.clone()),
        Value::Array(_) | Value::Object(_) => {
            return Err(RequestError {
                code: ErrorCode::InvalidParameter,
                message: format!("Parameter ${n} invalid: arrays and objects are not supported"),
            });
        }
    })
}

/// The body of `POST /v1/api/auth/login`. Strict: an unknown field is an error, so a typo in
/// a client is caught rather than ignored. `username` is accepted for `user`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[serde(alias = "username")]
    pub user: String,
    pub password: String,
}

/// The body of `POST /v1/api/auth/setup`: the first DBA user and the root password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupRequest {
    #[serde(alias = "username")]
    pub user: String,
    pub password: String,
    pub root_password: String,
    pub email: Option<String>,
}

// Hand-written so that a logged or asserted request never shows a password.
impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("user", &self.user)
            .field("password", &Redacted(&self.password))
            .finish()
    }
}

impl fmt::Debug for SetupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetupRequest")
            .field("user", &self.user)
            .field("password", &Redacted(&self.password))
            .field("root_password", &Redacted(&self.root_password))
            .field("email", &self.email)
            .finish()
    }
}

/// A secret's length instead of its text.
struct Redacted<'a>(&'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes redacted>", self.0.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Result<SqlRequestBody, RequestError> {
        SqlRequestBody::decode(text.as_bytes())
    }

    fn refused(text: &str) -> (ErrorCode, String) {
        let err = decode(text).unwrap_err();
        (err.code, err.message)
    }

    #[test]
    fn decodes_every_field_and_parameter_kind() {
        let body = decode(
            r#"{"sql":"SELECT $1","params":[null,true,-7,1.5,"x",18446744073709551615],
                "namespace_id":"app","extra":1}"#,
        )
        .unwrap();
        assert_eq!(body.sql, "SELECT $1");
        assert_eq!(
            body.params,
            vec![
                ParamValue::Null,
                ParamValue::Bool(true),
                ParamValue::Int(-7),
                ParamValue::Float(1.5),
                ParamValue::Text("x".into()),
                ParamValue::Float(18446744073709551615.0),
            ]
        );
        assert_eq!(body.namespace_id.as_deref(), Some("app"));

        let bare = decode(r#"{"sql":"SELECT 1","params":null,"namespace_id":null}"#).unwrap();
        assert!(bare.params.is_empty());
        assert_eq!(bare.namespace_id, None);
    }

    #[test]
    fn errors_carry_the_wire_codes_and_messages() {
        let (code, message) = refused("{not json");
        assert_eq!(code, ErrorCode::InvalidInput);
        assert!(message.starts_with("Invalid JSON payload: key must be a string"));
        assert_eq!(
            refused("[1]"),
            (
                ErrorCode::InvalidInput,
                "Invalid JSON payload: expected a JSON object".into()
            )
        );
        for empty in [r#"{}"#, r#"{"sql":null}"#, r#"{"sql":"  \n"}"#] {
            assert_eq!(
                refused(empty),
                (ErrorCode::EmptySql, "SQL query cannot be empty".into()),
                "{empty}"
            );
        }
        assert_eq!(
            refused(r#"{"sql":1}"#),
            (
                ErrorCode::InvalidInput,
                "Invalid JSON payload: field 'sql' must be a string".into()
            )
        );
        assert_eq!(
            refused(r#"{"sql":"SELECT 1","params":{}}"#),
            (
                ErrorCode::InvalidInput,
                "Invalid JSON payload: field 'params' must be an array".into()
            )
        );
        assert_eq!(
            refused(r#"{"sql":"SELECT 1","params":[1,[2]]}"#),
            (
                ErrorCode::InvalidParameter,
                "Parameter $2 invalid: arrays and objects are not supported".into()
            )
        );
        assert_eq!(
            refused(r#"{"sql":"SELECT 1","namespace_id":5}"#),
            (
                ErrorCode::InvalidInput,
                "Invalid JSON payload: field 'namespace_id' must be a string".into()
            )
        );
        // `sql` is checked before `params`.
        assert_eq!(refused(r#"{"params":[[1]]}"#).0, ErrorCode::EmptySql);
    }

    #[test]
    fn a_decoded_body_re_encodes_to_the_same_body() {
        let body =
            decode(r#"{"sql":"SELECT $1","params":[null,false,3,-0.25,1e300,"é"]}"#).unwrap();
        let again = SqlRequestBody::decode(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(again, body);
    }

    /// Found by fuzzing (`fuzz/regressions/http_sql_request/`): integers beyond `i64` took
    /// serde_json's inexact fast path and decoded a few ULP away from the client's value.
    #[test]
    fn a_parameter_beyond_i64_decodes_to_the_nearest_float() {
        let body = decode(
            r#"{"sql":"SELECT $1","params":[-9223372375807465808,123456789012345678901234567890]}"#,
        )
        .unwrap();
        assert_eq!(
            body.params,
            vec![
                ParamValue::Float(-9.223372375807465e18),
                ParamValue::Float(1.2345678901234568e29)
            ]
        );
        let again = SqlRequestBody::decode(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(again, body);
    }

    #[test]
    fn login_is_strict_and_accepts_username() {
        let req: LoginRequest =
            serde_json::from_str(r#"{"username":"alice","password":"pw"}"#).unwrap();
        assert_eq!((req.user.as_str(), req.password.as_str()), ("alice", "pw"));
        assert!(
            serde_json::from_str::<LoginRequest>(r#"{"user":"a","password":"p","x":1}"#).is_err()
        );
        assert!(serde_json::from_str::<LoginRequest>(r#"{"user":"a"}"#).is_err());
    }

    #[test]
    fn setup_accepts_username_and_an_optional_email() {
        let req: SetupRequest = serde_json::from_str(
            r#"{"username":"admin","password":"p1","root_password":"p2","other":1}"#,
        )
        .unwrap();
        assert_eq!(req.user, "admin");
        assert_eq!(req.email, None);
        assert_eq!(req.root_password, "p2");
    }

    #[test]
    fn debug_never_shows_passwords() {
        let login = LoginRequest {
            user: "alice".into(),
            password: "hunter2".into(),
        };
        let setup = SetupRequest {
            user: "admin".into(),
            password: "hunter2".into(),
            root_password: "rootpw".into(),
            email: None,
        };
        for text in [format!("{login:?}"), format!("{setup:?}")] {
            assert!(
                !text.contains("hunter2") && !text.contains("rootpw"),
                "{text}"
            );
            assert!(text.contains("redacted"), "{text}");
        }
    }
}
