//! `health_check()` (feature `healthcheck`): the SDK decodes `GET /v1/api/healthcheck`
//! strictly (`status` and `api_version` are required), wire-protocol §2.

use crate::builder;
use crate::common::TestServer;

#[tokio::test]
async fn health_check_reports_healthy_api_v1() {
    let server = TestServer::start();
    // Health needs no credentials: a client without any auth must get through.
    let client = builder(&server).build().unwrap();
    let health = client.health_check().await.unwrap();
    assert_eq!(health.status, "healthy");
    assert_eq!(health.api_version, "v1");
    assert!(
        !health.version.is_empty(),
        "version should be reported: {health:?}"
    );
}
