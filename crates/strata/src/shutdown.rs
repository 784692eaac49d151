//! act stage, process lifecycle: the one place that listens for being asked to stop.

/// Resolves on Ctrl-C (`SIGINT`) or `SIGTERM`: both mean stop cleanly, keeping what is
/// open (a cascade, a leased job) for whoever goes on from here.
pub async fn requested() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
