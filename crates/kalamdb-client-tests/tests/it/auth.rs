//! Authentication as the SDK does it (wire-protocol §5, §8 items 1–3): explicit `login()`,
//! user/password providers that log in by themselves before the first query, bearer tokens,
//! and the single re-login on `TOKEN_EXPIRED`.

use kalam_client::{AuthProvider, KalamLinkError, Role, ServerSetupRequest};
use serde_json::json;

use crate::common::{ROOT_PASSWORD, TestServer};
use crate::{builder, root_client};

#[tokio::test]
async fn login_returns_root_with_system_role() {
    let server = TestServer::start();
    let client = builder(&server).build().unwrap();

    let login = client.login("root", ROOT_PASSWORD).await.unwrap();

    assert_eq!(login.user.id.as_str(), "root");
    assert_eq!(login.user.role, Role::System);
    assert_eq!(login.user.email.as_deref(), Some("root@localhost"));
    assert!(login.admin_ui_access, "system role has admin UI access");
    assert!(!login.access_token.is_empty());
    assert!(
        login
            .refresh_token
            .as_deref()
            .is_some_and(|t| !t.is_empty())
    );
    for ts in [
        &login.expires_at,
        &login.user.created_at,
        &login.user.updated_at,
    ] {
        assert!(
            ts.len() >= 20 && ts.contains('T'),
            "RFC 3339 expected, got {ts:?}"
        );
    }

    // The access token alone authenticates SQL (Bearer).
    let bearer = builder(&server)
        .jwt_token(login.access_token)
        .build()
        .unwrap();
    let resp = bearer
        .execute_query("SELECT 1 AS one", None, None, None)
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    assert_eq!(resp.results[0].as_user.as_deref(), Some("root"));
    assert_eq!(resp.get_i64("one"), Some(1));
}

#[tokio::test]
async fn login_with_a_wrong_password_fails_with_the_server_message() {
    let server = TestServer::start();
    let client = builder(&server).build().unwrap();

    let err = client.login("root", "not-the-password").await.unwrap_err();

    match err {
        KalamLinkError::AuthenticationError(msg) => {
            assert!(msg.contains("401"), "{msg}");
            assert!(msg.contains("Invalid credentials"), "{msg}");
        }
        other => panic!("expected an authentication error, got {other:?}"),
    }
}

#[tokio::test]
async fn basic_auth_provider_logs_in_by_itself_on_the_first_query() {
    let server = TestServer::start();
    let client = root_client(&server);

    // No explicit login(): the SDK exchanges user/password for a JWT first (it never sends
    // Basic on /v1/api/sql), so a success here proves the login round trip.
    let resp = client
        .execute_query("SELECT 40 + 2 AS answer", None, None, None)
        .await
        .unwrap();

    assert!(resp.success(), "{resp:?}");
    assert_eq!(resp.results.len(), 1);
    assert_eq!(resp.results[0].as_user.as_deref(), Some("root"));
    assert_eq!(resp.get_i64("answer"), Some(42));
    // The token is reused for the next query.
    let again = client
        .execute_query("SELECT 1 AS one", None, None, None)
        .await
        .unwrap();
    assert!(again.success(), "{again:?}");
}

#[tokio::test]
async fn a_regular_user_logs_in_with_its_own_role() {
    let server = TestServer::start();
    server
        .sql(
            "CREATE USER alice WITH PASSWORD 'alice-Secret-42' ROLE user EMAIL 'alice@example.com'",
        )
        .await;

    let explicit = builder(&server).build().unwrap();
    let login = explicit.login("alice", "alice-Secret-42").await.unwrap();
    assert_eq!(login.user.id.as_str(), "alice");
    assert_eq!(login.user.role, Role::User);
    assert_eq!(login.user.email.as_deref(), Some("alice@example.com"));
    assert!(!login.admin_ui_access, "role user has no admin UI access");

    let client = builder(&server)
        .auth(AuthProvider::basic_auth(
            "alice".into(),
            "alice-Secret-42".into(),
        ))
        .build()
        .unwrap();
    let resp = client
        .execute_query("SELECT CURRENT_USER() AS me", None, None, None)
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    assert_eq!(resp.results[0].as_user.as_deref(), Some("alice"));
    assert_eq!(resp.get_string("me").as_deref(), Some("alice"));
}

#[tokio::test]
async fn basic_auth_provider_with_a_wrong_password_fails_the_query() {
    let server = TestServer::start();
    let client = builder(&server)
        .auth(AuthProvider::basic_auth(
            "root".into(),
            "wrong-password".into(),
        ))
        .build()
        .unwrap();

    let err = client
        .execute_query("SELECT 1", None, None, None)
        .await
        .unwrap_err();

    match err {
        KalamLinkError::AuthenticationError(msg) => {
            assert!(msg.contains("Invalid credentials"), "{msg}");
        }
        other => panic!("expected an authentication error, got {other:?}"),
    }
}

#[tokio::test]
async fn sql_without_credentials_is_refused_with_the_error_envelope() {
    let server = TestServer::start();
    let client = builder(&server).build().unwrap();

    let err = client
        .execute_query("SELECT 1", None, None, None)
        .await
        .unwrap_err();

    let KalamLinkError::ServerError {
        status_code,
        message,
    } = err
    else {
        panic!("expected a server error, got {err:?}");
    };
    assert_eq!(status_code, 401);
    let body: serde_json::Value = serde_json::from_str(&message).unwrap();
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["error"]["code"], "MISSING_AUTHORIZATION", "{body}");
}

const JWT_SECRET: &str = "client-tests-secret-0123456789abcdef0123456789";

/// An access token for root, correctly signed, that expired an hour ago (past the 60 s leeway).
fn expired_root_token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({
        "sub": "root",
        "iss": "kalamdb",
        "iat": now - 7200,
        "exp": now - 3600,
        "email": "root@localhost",
        "role": "system",
        "token_type": "access",
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

fn server_with_known_secret() -> TestServer {
    TestServer::start_with(std::sync::Arc::new(tempfile::tempdir().unwrap()), |cfg| {
        cfg.auth.jwt_secret = Some(JWT_SECRET.into());
    })
}

#[tokio::test]
async fn an_expired_token_is_reported_as_token_expired_in_the_envelope() {
    let server = server_with_known_secret();
    // A token-only client cannot log in again: the SDK retries once with the same token and
    // hands back the TOKEN_EXPIRED envelope it recognised (status included) as a result.
    let client = builder(&server)
        .jwt_token(expired_root_token())
        .build()
        .unwrap();

    let resp = client
        .execute_query("SELECT 1", None, None, None)
        .await
        .unwrap();

    assert!(resp.is_token_expired(), "{resp:?}");
    assert!(!resp.success());
    assert_eq!(resp.error.as_ref().unwrap().message, "Token expired");
}

#[tokio::test]
async fn an_expired_token_triggers_one_relogin_and_the_query_succeeds() {
    let server = server_with_known_secret();
    let mut client = root_client(&server);
    assert!(
        client
            .execute_query("SELECT 1 AS one", None, None, None)
            .await
            .unwrap()
            .success()
    );

    // The JWT the SDK holds expires; its user/password provider is still the one it was built
    // with, so on TOKEN_EXPIRED it logs in again and retries once.
    client.set_auth(AuthProvider::jwt_token(expired_root_token()));
    let resp = client
        .execute_query("SELECT 2 AS two", None, None, None)
        .await
        .unwrap();

    assert!(resp.success(), "{resp:?}");
    assert_eq!(resp.get_i64("two"), Some(2));
}

#[tokio::test]
async fn first_run_setup_then_the_dba_logs_in() {
    let server = TestServer::start_with(std::sync::Arc::new(tempfile::tempdir().unwrap()), |cfg| {
        cfg.auth.root_password = None;
    });
    let client = builder(&server).build().unwrap();

    let status = client.check_setup_status().await.unwrap();
    assert!(status.needs_setup, "{status:?}");
    // Root without a password: login answers 428, which the SDK turns into "setup required".
    let err = client.login("root", "anything-at-all").await.unwrap_err();
    assert!(matches!(err, KalamLinkError::SetupRequired(_)), "{err:?}");

    let setup = client
        .server_setup(ServerSetupRequest::new(
            "admin",
            "admin-Passw0rd-1",
            "root-Passw0rd-2",
            None,
        ))
        .await
        .unwrap();
    assert_eq!(setup.user.id.as_str(), "admin");
    assert_eq!(setup.user.role, Role::Dba);
    assert_eq!(
        setup.message,
        "Server setup complete. Root password configured and DBA user 'admin' created. Please login to continue."
    );

    let status = client.check_setup_status().await.unwrap();
    assert!(!status.needs_setup, "{status:?}");
    assert_eq!(status.message, "Server is configured and ready.");
    let again = client
        .server_setup(ServerSetupRequest::new(
            "admin2",
            "admin-Passw0rd-1",
            "root-Passw0rd-2",
            None,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(again, KalamLinkError::ConfigurationError(_)),
        "409 already configured: {again:?}"
    );

    let login = client.login("admin", "admin-Passw0rd-1").await.unwrap();
    assert_eq!(login.user.id.as_str(), "admin");
    assert_eq!(login.user.role, Role::Dba);
    assert!(login.admin_ui_access, "dba has admin UI access");

    let admin = builder(&server)
        .auth(AuthProvider::basic_auth(
            "admin".into(),
            "admin-Passw0rd-1".into(),
        ))
        .build()
        .unwrap();
    let resp = admin
        .execute_query("CREATE NAMESPACE app", None, None, None)
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    assert_eq!(resp.results[0].as_user.as_deref(), Some("admin"));

    let root = client.login("root", "root-Passw0rd-2").await.unwrap();
    assert_eq!(root.user.role, Role::System);
}
