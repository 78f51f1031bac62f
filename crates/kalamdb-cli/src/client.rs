//! The CLI's side of the wire protocol over HTTP: login (`wire-protocol.md`
//! §5.2), SQL with a Bearer token (§3), the §4 error envelope, first-run
//! setup (§5.5) and the health check. It knows nothing about terminals;
//! the shell and the batch runner decide what to print.

use serde_json::{Value, json};

use crate::error::CliError;

/// Who we are logged in as, from the login answer.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub user: String,
    pub role: String,
}

/// What a login attempt can end in besides success: the server wants its
/// first-run setup (HTTP 428).
#[derive(Debug)]
pub enum LoginError {
    SetupRequired(String),
    Other(CliError),
}

impl From<CliError> for LoginError {
    fn from(e: CliError) -> Self {
        LoginError::Other(e)
    }
}

/// One server, one user. Keeps the password (when given) so an expired
/// token can be renewed once without asking again.
pub struct Client {
    http: reqwest::Client,
    base: String,
    session: Session,
    password: Option<String>,
}

impl Client {
    /// Logs in with user and password.
    pub async fn login(base: &str, user: &str, password: &str) -> Result<Client, LoginError> {
        let http = reqwest::Client::new();
        let base = normalize_url(base);
        let session = login(&http, &base, user, password).await?;
        Ok(Client {
            http,
            base,
            session,
            password: Some(password.to_string()),
        })
    }

    /// Uses an access token as is; `/v1/api/auth/me` tells who it belongs to.
    pub async fn with_token(base: &str, token: &str) -> Result<Client, CliError> {
        let http = reqwest::Client::new();
        let base = normalize_url(base);
        let resp = http
            .get(format!("{base}/v1/api/auth/me"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| CliError::connection(format!("cannot reach {base}"), e))?;
        let status = resp.status();
        let body = read_json(resp).await?;
        if !status.is_success() {
            let (code, message) = error_of(&body, status.as_u16());
            return Err(CliError::Auth { code, message });
        }
        let user = str_at(&body, "/user/id").unwrap_or("?").to_string();
        let role = str_at(&body, "/user/role").unwrap_or("?").to_string();
        Ok(Client {
            http,
            base,
            session: Session {
                token: token.to_string(),
                user,
                role,
            },
            password: None,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The password this client logged in with (none for a token).
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The WebSocket URL of this server (`/v1/ws`, §6.1).
    pub fn ws_url(&self) -> String {
        let rest = self
            .base
            .strip_prefix("https://")
            .map(|r| format!("wss://{r}"))
            .or_else(|| {
                self.base
                    .strip_prefix("http://")
                    .map(|r| format!("ws://{r}"))
            })
            .unwrap_or_else(|| format!("ws://{}", self.base));
        format!("{rest}/v1/ws")
    }

    /// Runs SQL (one or more statements). Success is the whole §3.3 body;
    /// a `status:"error"` answer is a [`CliError::Sql`]. An expired token is
    /// renewed once (§4: clients retry once on `TOKEN_EXPIRED`).
    pub async fn sql(&mut self, sql: &str) -> Result<Value, CliError> {
        match self.sql_once(sql).await {
            Err(CliError::Auth { code, message }) if code == "TOKEN_EXPIRED" => {
                let Some(password) = self.password.clone() else {
                    return Err(CliError::Auth { code, message });
                };
                let user = self.session.user.clone();
                self.session = login(&self.http, &self.base, &user, &password)
                    .await
                    .map_err(|e| match e {
                        LoginError::SetupRequired(m) => CliError::Auth {
                            code: "SETUP_REQUIRED".into(),
                            message: m,
                        },
                        LoginError::Other(e) => e,
                    })?;
                self.sql_once(sql).await
            }
            other => other,
        }
    }

    async fn sql_once(&self, sql: &str) -> Result<Value, CliError> {
        let resp = self
            .http
            .post(format!("{}/v1/api/sql", self.base))
            .bearer_auth(&self.session.token)
            .json(&json!({ "sql": sql }))
            .send()
            .await
            .map_err(|e| CliError::connection(format!("cannot reach {}", self.base), e))?;
        let status = resp.status().as_u16();
        let body = read_json(resp).await?;
        if body.get("status").and_then(Value::as_str) == Some("success") {
            return Ok(body);
        }
        let (code, message) = error_of(&body, status);
        if status == 401 || status == 428 {
            Err(CliError::Auth { code, message })
        } else {
            Err(CliError::Sql { code, message })
        }
    }

    /// `GET /v1/api/healthcheck`, as the server's JSON.
    pub async fn health(&self) -> Result<Value, CliError> {
        let resp = self
            .http
            .get(format!("{}/v1/api/healthcheck", self.base))
            .send()
            .await
            .map_err(|e| CliError::connection(format!("cannot reach {}", self.base), e))?;
        let status = resp.status().as_u16();
        let body = read_json(resp).await?;
        if status != 200 {
            let (code, message) = error_of(&body, status);
            return Err(CliError::Sql { code, message });
        }
        Ok(body)
    }
}

/// First-run setup (§5.5): sets root's password and creates a DBA user.
/// Returns the server's message.
pub async fn setup(
    base: &str,
    dba_user: &str,
    dba_password: &str,
    root_password: &str,
) -> Result<String, CliError> {
    let http = reqwest::Client::new();
    let base = normalize_url(base);
    let resp = http
        .post(format!("{base}/v1/api/auth/setup"))
        .json(
            &json!({ "user": dba_user, "password": dba_password, "root_password": root_password }),
        )
        .send()
        .await
        .map_err(|e| CliError::connection(format!("cannot reach {base}"), e))?;
    let status = resp.status().as_u16();
    let body = read_json(resp).await?;
    if status != 200 {
        let (code, message) = error_of(&body, status);
        return Err(CliError::Auth { code, message });
    }
    Ok(str_at(&body, "/message")
        .unwrap_or("Server setup complete.")
        .to_string())
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> Result<Session, LoginError> {
    let resp = http
        .post(format!("{base}/v1/api/auth/login"))
        .json(&json!({ "user": user, "password": password }))
        .send()
        .await
        .map_err(|e| CliError::connection(format!("cannot reach {base}"), e))?;
    let status = resp.status().as_u16();
    let body = read_json(resp).await?;
    if status == 428 {
        let message = str_at(&body, "/message").unwrap_or("Server requires initial setup.");
        return Err(LoginError::SetupRequired(message.to_string()));
    }
    match str_at(&body, "/access_token") {
        Some(token) if status == 200 => Ok(Session {
            token: token.to_string(),
            user: str_at(&body, "/user/id").unwrap_or(user).to_string(),
            role: str_at(&body, "/user/role").unwrap_or("?").to_string(),
        }),
        _ => {
            let (code, message) = error_of(&body, status);
            Err(LoginError::Other(CliError::Auth { code, message }))
        }
    }
}

async fn read_json(resp: reqwest::Response) -> Result<Value, CliError> {
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| CliError::connection("reading the answer failed", e))?;
    serde_json::from_str(&text).map_err(|_| {
        let first = text.lines().next().unwrap_or("").trim();
        CliError::Connection(format!(
            "the server answered HTTP {status} without JSON: {first}"
        ))
    })
}

/// The code and message of an error body: the SQL envelope (§4,
/// `{"error":{"code","message"}}`) or the auth endpoints' form
/// (`{"error":"kind","message"}`, reported as the upper-cased kind).
pub fn error_of(body: &Value, status: u16) -> (String, String) {
    match body.get("error") {
        Some(Value::Object(e)) => (
            e.get("code")
                .and_then(Value::as_str)
                .unwrap_or("UNKNOWN")
                .to_string(),
            e.get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message")
                .to_string(),
        ),
        Some(Value::String(kind)) => (
            kind.to_ascii_uppercase(),
            str_at(body, "/message").unwrap_or(kind).to_string(),
        ),
        _ => (
            format!("HTTP_{status}"),
            str_at(body, "/message")
                .unwrap_or("unexpected answer")
                .to_string(),
        ),
    }
}

fn str_at<'a>(body: &'a Value, pointer: &str) -> Option<&'a str> {
    body.pointer(pointer).and_then(Value::as_str)
}

/// `host:port` alone means http; a trailing slash is dropped so paths join.
pub fn normalize_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else {
        format!("http://{url}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_error_shapes_give_code_and_message() {
        let sql = json!({"status":"error","error":{"code":"TABLE_NOT_FOUND","message":"Table 'a.b' not found"}});
        assert_eq!(
            error_of(&sql, 400),
            ("TABLE_NOT_FOUND".into(), "Table 'a.b' not found".into())
        );
        let auth = json!({"error":"unauthorized","message":"Invalid credentials"});
        assert_eq!(
            error_of(&auth, 401),
            ("UNAUTHORIZED".into(), "Invalid credentials".into())
        );
        assert_eq!(error_of(&json!({}), 502).0, "HTTP_502");
    }

    #[test]
    fn urls_are_normalized() {
        assert_eq!(normalize_url("localhost:8080/"), "http://localhost:8080");
        assert_eq!(normalize_url("https://db.example"), "https://db.example");
    }
}
