//! The TCP listener the server accepts on: open connections per client
//! address are capped (`rate_limit.max_connections_per_ip`), so one
//! address cannot exhaust the server's sockets and tasks — the cheap form
//! of a slowloris attack, many connections that send their headers a byte
//! at a time, runs into the cap. A connection over the cap is answered
//! `429` by the listener itself, before HTTP is parsed, and closed.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::limits::{ConnectionSlots, SlotGuard};

/// How long a refused connection may take to receive its answer.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(2);
/// Refusals being answered at once, at most: past it a refused connection
/// is closed unanswered, so a flood of refused connections cannot hold
/// more sockets than this for `REFUSAL_TIMEOUT`.
const MAX_REFUSALS: usize = 64;

/// `tokio`'s listener with a cap on open connections per address (0: no
/// cap).
pub struct LimitedListener {
    inner: TcpListener,
    slots: Arc<ConnectionSlots>,
    refusals: Arc<Semaphore>,
}

impl LimitedListener {
    pub fn new(inner: TcpListener, max_per_ip: usize) -> Self {
        Self {
            inner,
            slots: ConnectionSlots::new(max_per_ip),
            refusals: Arc::new(Semaphore::new(MAX_REFUSALS)),
        }
    }
}

/// An accepted connection, holding its address's slot until it closes.
pub struct Connection {
    stream: TcpStream,
    _slot: SlotGuard,
}

impl Connection {
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            // axum's accept retries transient errors (EMFILE, ECONNABORTED…).
            let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
            match self.slots.acquire(addr.ip()) {
                Some(slot) => {
                    return (
                        Connection {
                            stream,
                            _slot: slot,
                        },
                        addr,
                    );
                }
                None => {
                    tracing::debug!(%addr, "connection refused: too many from this address");
                    if let Ok(permit) = self.refusals.clone().try_acquire_owned() {
                        tokio::spawn(async move {
                            refuse(stream).await;
                            drop(permit);
                        });
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Answers 429 and closes. The request is read (and dropped) after the
/// answer is sent: closing with unread bytes would reset the connection
/// and could destroy the answer before the client reads it.
async fn refuse(mut stream: TcpStream) {
    let body = serde_json::json!({
        "error": "rate_limited",
        "message": "Too many connections from this address",
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), io::Error>(())
    })
    .await;
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
