//! Test support, serving stage: a minimal HTTP/1 server on 127.0.0.1 for the token
//! issuer and the fault proxy; binds loopback only and stops when dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// What a handler produces: a response, or [`Reply::Hangup`] to close the connection
/// without answering.
#[derive(Debug)]
pub(crate) enum Reply {
    Respond(Response<Full<Bytes>>),
    Hangup,
}

/// The error a handler returns to make hyper drop the connection.
#[derive(Debug)]
struct Hangup;

impl std::fmt::Display for Hangup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Hangup {}

/// A running server; aborts its accept loop and every connection on drop.
#[derive(Debug)]
pub(crate) struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serve `handler` on a fresh 127.0.0.1 port on the current tokio runtime.
pub(crate) async fn serve<H, F>(handler: H) -> Result<Server>
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding a loopback port")?;
    let addr = listener.local_addr()?;
    let handler = Arc::new(handler);
    let task = tokio::spawn(async move {
        // Owning the connections here means aborting this task closes them all.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let handler = Arc::clone(&handler);
                    connections.spawn(async move {
                        let service = service_fn(move |req| {
                            let reply = handler(req);
                            async move {
                                match reply.await {
                                    Reply::Respond(resp) => Ok::<_, Hangup>(resp),
                                    Reply::Hangup => Err(Hangup),
                                }
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    Ok(Server { addr, task })
}

/// A response with a status, headers and body.
pub(crate) fn response(status: u16, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Reply {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    match builder.body(Full::new(body.into())) {
        Ok(resp) => Reply::Respond(resp),
        Err(_) => Reply::Respond(Response::new(Full::new(Bytes::new()))),
    }
}
