//! `\subscribe`: one live query over `GET /v1/ws` (`wire-protocol.md` §6)
//! with the Bearer header. Prints the initial rows as a table, then every
//! change with its type until Ctrl-C, then unsubscribes and closes.

use std::io::Write;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::client::Client;
use crate::error::CliError;
use crate::output::{self, Format};

/// The server closes sockets silent for 10 s (§6.10).
const PING_EVERY: Duration = Duration::from_secs(5);

/// Runs one subscription until Ctrl-C (or the server ends it).
pub async fn subscribe(client: &Client, sql: &str, format: Format) -> Result<(), CliError> {
    let url = client.ws_url();
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| CliError::connection(format!("bad WebSocket URL {url}"), e))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {}", client.session().token))
        .map_err(|e| CliError::connection("bad token", e))?;
    request.headers_mut().insert("Authorization", bearer);
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| CliError::connection(format!("cannot open {url}"), e))?;

    let id = "kalam-cli-1";
    let subscribe = json!({"type":"subscribe","subscription":{"id":id,"sql":sql,"options":{}}});
    ws.send(Message::text(subscribe.to_string()))
        .await
        .map_err(|e| CliError::connection("WebSocket send failed", e))?;

    let mut columns: Vec<String> = Vec::new();
    let mut initial: Vec<Vec<Value>> = Vec::new();
    let mut ping = tokio::time::interval(PING_EVERY);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let outcome = loop {
        tokio::select! {
            _ = &mut ctrl_c => break Ok(()),
            _ = ping.tick() => {
                let _ = ws.send(Message::text(r#"{"type":"ping"}"#)).await;
            }
            frame = ws.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Binary(b))) => match kalamdb_ws_protocol::gunzip(&b) {
                        Ok(t) => t,
                        Err(_) => continue,
                    },
                    Some(Ok(Message::Close(_))) | None => {
                        break Err(CliError::Connection("the server closed the live connection".into()));
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => break Err(CliError::connection("live connection failed", e)),
                };
                let Ok(msg) = serde_json::from_str::<Value>(&text) else { continue };
                match handle(&msg, id, &mut columns, &mut initial, format) {
                    Ok(()) => {}
                    Err(e) => break Err(e),
                }
            }
        }
    };
    let _ = ws
        .send(Message::text(
            json!({"type":"unsubscribe","subscription_id":id}).to_string(),
        ))
        .await;
    let _ = ws.close(None).await;
    if outcome.is_ok() {
        println!("Unsubscribed.");
    }
    outcome
}

fn handle(
    msg: &Value,
    id: &str,
    columns: &mut Vec<String>,
    initial: &mut Vec<Vec<Value>>,
    format: Format,
) -> Result<(), CliError> {
    let kind = msg.get("type").and_then(Value::as_str).unwrap_or("");
    let sub = msg.get("subscription_id").and_then(Value::as_str);
    match kind {
        "error" => {
            return Err(CliError::Sql {
                code: str_of(msg, "code"),
                message: str_of(msg, "message"),
            });
        }
        "auth_error" => {
            return Err(CliError::Auth {
                code: "AUTH_ERROR".into(),
                message: str_of(msg, "message"),
            });
        }
        _ if sub != Some(id) => return Ok(()),
        "subscription_ack" => *columns = output::columns(msg),
        "initial_data_batch" => {
            let rows = msg.get("rows").and_then(Value::as_array);
            for row in rows.into_iter().flatten() {
                initial.push(ordered(row, columns));
            }
            let ready =
                msg.pointer("/batch_control/status").and_then(Value::as_str) == Some("ready");
            if ready {
                print!("{}", output::render_rows(columns, initial, format));
                println!("Watching for changes (Ctrl-C to stop)...");
                initial.clear();
            }
        }
        "change" => {
            let change = msg.get("change_type").and_then(Value::as_str).unwrap_or("");
            let rows = if change == "delete" {
                msg.get("old_values")
            } else {
                msg.get("rows")
            };
            for row in rows.and_then(Value::as_array).into_iter().flatten() {
                println!("{}", change_line(change, row, columns));
            }
        }
        _ => {}
    }
    let _ = std::io::stdout().flush();
    Ok(())
}

fn str_of(msg: &Value, key: &str) -> String {
    msg.get(key)
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

/// Cells of an object row in schema order.
fn ordered(row: &Value, columns: &[String]) -> Vec<Value> {
    columns
        .iter()
        .map(|c| row.get(c).cloned().unwrap_or(Value::Null))
        .collect()
}

/// `INSERT id=1, body=hi, _seq=…`: one line per changed row, columns in
/// schema order (columns an update omitted are left out).
pub fn change_line(change: &str, row: &Value, columns: &[String]) -> String {
    let cells: Vec<String> = columns
        .iter()
        .filter_map(|c| {
            row.get(c).map(|v| {
                let v = match v {
                    Value::Null => "NULL".to_string(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!("{c}={v}")
            })
        })
        .collect();
    format!("{:<6} {}", change.to_ascii_uppercase(), cells.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_print_their_type_and_cells_in_schema_order() {
        let cols = vec!["id".to_string(), "body".to_string(), "_seq".to_string()];
        let row = json!({"_seq":"9","body":null,"id":"1"});
        assert_eq!(
            change_line("insert", &row, &cols),
            "INSERT id=1, body=NULL, _seq=9"
        );
        let partial = json!({"id":"1","_seq":"10"});
        assert_eq!(
            change_line("update", &partial, &cols),
            "UPDATE id=1, _seq=10"
        );
    }
}
