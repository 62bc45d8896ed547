//! `OTEL_METRICS_EXPORTER=prometheus`: serves `/metrics` on
//! `OTEL_EXPORTER_PROMETHEUS_HOST:OTEL_EXPORTER_PROMETHEUS_PORT`, from a thread of its own so
//! scrapes work whatever runtime the application uses: in the OpenMetrics text format, with
//! the duration exemplars, to scrapers that accept it, else in the Prometheus text format.

use std::convert::Infallible;
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus::{Encoder, Registry, TextEncoder};
use tokio::sync::oneshot;

use super::config::{ConfigError, PrometheusConfig};
use super::exemplars::Exemplars;
use super::openmetrics;

/// The running scrape endpoint; dropping it stops the server.
#[derive(Debug)]
pub(super) struct PrometheusEndpoint {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl PrometheusEndpoint {
    /// Listens on the configured address now (so a port in use is an error of `init()`) and
    /// serves the metrics gathered in `registry`, with the exemplars kept in `exemplars`.
    pub(super) fn serve(
        config: &PrometheusConfig,
        registry: Registry,
        exemplars: Arc<Exemplars>,
    ) -> Result<Self, ConfigError> {
        let address = format!("{}:{}", config.host, config.port);
        let listener = std::net::TcpListener::bind(&address)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|error| bind_error(&address, &error))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|error| {
                ConfigError::new(format!("cannot start the /metrics server: {error}"))
            })?;
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("tonic-traced-prometheus".to_owned())
            .spawn(move || runtime.block_on(accept(listener, registry, exemplars, stopped)))
            .map_err(|error| {
                ConfigError::new(format!("cannot start the /metrics server: {error}"))
            })?;
        Ok(PrometheusEndpoint {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// Why `/metrics` cannot be served on `address`, naming the variable to change and how.
fn bind_error(address: &str, error: &std::io::Error) -> ConfigError {
    use std::io::ErrorKind;
    const HOST: &str = "OTEL_EXPORTER_PROMETHEUS_HOST";
    const PORT: &str = "OTEL_EXPORTER_PROMETHEUS_PORT";
    let (variable, advice) = match error.kind() {
        ErrorKind::AddrInUse => (PORT, "choose a free port"),
        ErrorKind::PermissionDenied => (
            PORT,
            "ports below 1024 need privileges; choose a port from 1024 up",
        ),
        ErrorKind::AddrNotAvailable => (
            HOST,
            "it is not an address of this machine; use localhost, 0.0.0.0 or one of its \
             addresses",
        ),
        _ => (
            HOST,
            "use a name this machine resolves to one of its addresses, or an IP address such \
             as 0.0.0.0",
        ),
    };
    ConfigError::new(format!(
        "{variable}: cannot serve /metrics on {address}: {error}; {advice}"
    ))
}

impl Drop for PrometheusEndpoint {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves each connection until told to stop.
async fn accept(
    listener: std::net::TcpListener,
    registry: Registry,
    exemplars: Arc<Exemplars>,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let (registry, exemplars) = (registry.clone(), exemplars.clone());
        tokio::spawn(async move {
            let respond = service_fn(move |request| {
                let response = respond(&registry, &exemplars, &request);
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), respond)
                .await;
        });
    }
}

/// `GET /metrics` gets the metrics in the format the `Accept` header prefers; anything else a
/// 404 saying where to look.
fn respond<B>(
    registry: &Registry,
    exemplars: &Exemplars,
    request: &http::Request<B>,
) -> http::Response<Full<Bytes>> {
    let text = |status: u16, body: String| {
        http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_default()
    };
    if request.method() != http::Method::GET || request.uri().path() != "/metrics" {
        return text(404, "metrics are served at GET /metrics\n".to_owned());
    }
    if accepts_openmetrics(request.headers()) {
        return http::Response::builder()
            .header(http::header::CONTENT_TYPE, openmetrics::CONTENT_TYPE)
            .body(Full::new(Bytes::from(openmetrics::encode(
                &registry.gather(),
                exemplars,
            ))))
            .unwrap_or_default();
    }
    let encoder = TextEncoder::new();
    let mut body = Vec::new();
    match encoder.encode(&registry.gather(), &mut body) {
        Ok(()) => http::Response::builder()
            .header(http::header::CONTENT_TYPE, encoder.format_type())
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_default(),
        Err(error) => text(500, format!("could not encode the metrics: {error}\n")),
    }
}

/// Whether `Accept` lists `application/openmetrics-text` (with a q-value above 0): Prometheus
/// ranks it first; a scraper that lists only the Prometheus text format gets that.
fn accepts_openmetrics(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media_type = parts.next().unwrap_or_default();
            let refused = parts.any(|parameter| {
                parameter
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            media_type.eq_ignore_ascii_case("application/openmetrics-text") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(accept: &str) -> bool {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::ACCEPT, accept.parse().unwrap());
        accepts_openmetrics(&headers)
    }

    #[test]
    fn openmetrics_when_the_scraper_accepts_it() {
        // What Prometheus 2.42 sends.
        assert!(accepts(
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
             version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ));
        assert!(accepts("text/plain, Application/OpenMetrics-Text; q=0.2"));
        assert!(!accepts("application/openmetrics-text;q=0"));
        assert!(!accepts("text/plain;version=0.0.4"));
        assert!(!accepts("*/*"));
        assert!(!accepts_openmetrics(&http::HeaderMap::new()));
    }
}
