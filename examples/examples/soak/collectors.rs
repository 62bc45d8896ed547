//! The two broken collectors: a port that refuses connections, and a listener that accepts
//! them and never answers.

use std::net::{SocketAddr, TcpListener};

/// An `OTEL_EXPORTER_OTLP_ENDPOINT` on a loopback port nothing listens on: every connection
/// is refused.
pub fn refused_endpoint() -> std::io::Result<String> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    Ok(format!("http://127.0.0.1:{port}"))
}

/// An `OTEL_EXPORTER_OTLP_ENDPOINT` where connections are accepted and then neither read nor
/// answered, so every export waits for the exporter's own timeout. The sockets stay open until
/// the process exits.
pub fn silent_endpoint() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address: SocketAddr = listener.local_addr()?;
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    Ok(format!("http://{address}"))
}
