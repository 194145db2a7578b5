//! The load generator's pieces: one raw HTTP/1.1 keep-alive connection per worker (hyper,
//! no pool), per-request latency in microseconds, and the summary of a run.

use crate::BenchResult;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// One keep-alive connection to a server.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    authority: HeaderValue,
}

/// A server's answer and how long it took, from sending the request to the last body byte.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
    pub micros: u32,
}

impl Connection {
    /// Connects to `http://host:port`.
    pub async fn open(base_url: &str) -> BenchResult<Connection> {
        let authority = base_url.trim_start_matches("http://").trim_end_matches('/');
        let stream = TcpStream::connect(authority).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // Drives the connection until the sender is dropped.
        tokio::spawn(connection);
        Ok(Connection {
            sender,
            authority: HeaderValue::from_str(authority)?,
        })
    }

    /// POSTs a JSON body and reads the whole answer.
    pub async fn post(
        &mut self,
        path: &str,
        authorization: &HeaderValue,
        body: String,
    ) -> BenchResult<Answer> {
        self.request(
            Request::post(path)
                .header(HOST, &self.authority)
                .header(AUTHORIZATION, authorization)
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body)))?,
        )
        .await
    }

    /// GETs a path and reads the whole answer.
    pub async fn get(&mut self, path: &str, authorization: &HeaderValue) -> BenchResult<Answer> {
        self.request(
            Request::get(path)
                .header(HOST, &self.authority)
                .header(AUTHORIZATION, authorization)
                .body(Full::new(Bytes::new()))?,
        )
        .await
    }

    async fn request(&mut self, request: Request<Full<Bytes>>) -> BenchResult<Answer> {
        self.sender.ready().await?;
        let started = Instant::now();
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        Ok(Answer {
            status,
            body,
            micros,
        })
    }
}

/// Opens `count` connections to `base_url`, before any clock starts.
pub async fn open_many(base_url: &str, count: usize) -> BenchResult<Vec<Connection>> {
    let mut connections = Vec::with_capacity(count);
    for _ in 0..count {
        connections.push(Connection::open(base_url).await?);
    }
    Ok(connections)
}

/// Runs one task per connection and waits for all of them; the first failure ends the run.
pub async fn run_workers<T, F, Fut>(connections: Vec<Connection>, worker: F) -> BenchResult<Vec<T>>
where
    F: Fn(usize, Connection) -> Fut,
    Fut: Future<Output = BenchResult<T>> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(index, connection)| tokio::spawn(worker(index, connection)))
        .collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await??);
    }
    Ok(results)
}

/// What one worker saw: every latency, the bytes answered, and its failed requests.
#[derive(Debug, Default)]
pub struct Tally {
    pub micros: Vec<u32>,
    pub body_bytes: u64,
    pub errors: u64,
    pub first_errors: Vec<String>,
}

const KEPT_ERRORS: usize = 5;

impl Tally {
    pub fn record(&mut self, answer: &Answer) {
        self.micros.push(answer.micros);
        self.body_bytes += answer.body.len() as u64;
    }

    pub fn fail(&mut self, what: String) {
        self.errors += 1;
        if self.first_errors.len() < KEPT_ERRORS {
            self.first_errors.push(what);
        }
    }

    pub fn merge(tallies: Vec<Tally>) -> Tally {
        let mut all = Tally::default();
        for tally in tallies {
            all.micros.extend(tally.micros);
            all.body_bytes += tally.body_bytes;
            all.errors += tally.errors;
            for error in tally.first_errors {
                if all.first_errors.len() < KEPT_ERRORS {
                    all.first_errors.push(error);
                }
            }
        }
        all
    }
}

/// Requests/s and latency percentiles of one measured run.
#[derive(Debug, Clone)]
pub struct Summary {
    pub requests: usize,
    pub errors: u64,
    pub first_errors: Vec<String>,
    pub elapsed: Duration,
    pub rps: f64,
    pub p50: u32,
    pub p90: u32,
    pub p99: u32,
    pub max: u32,
    pub mean_body_bytes: u64,
}

impl Summary {
    pub fn of(tally: Tally, elapsed: Duration) -> Summary {
        let mut micros = tally.micros;
        micros.sort_unstable();
        let requests = micros.len();
        // Nearest rank: the smallest latency at or above which `p` of the requests lie.
        let percentile = |p: f64| -> u32 {
            if micros.is_empty() {
                return 0;
            }
            let rank = ((p * requests as f64).ceil() as usize).clamp(1, requests);
            micros[rank - 1]
        };
        Summary {
            requests,
            errors: tally.errors,
            first_errors: tally.first_errors,
            elapsed,
            rps: requests as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
            p50: percentile(0.50),
            p90: percentile(0.90),
            p99: percentile(0.99),
            max: micros.last().copied().unwrap_or(0),
            mean_body_bytes: tally.body_bytes / (requests.max(1) as u64),
        }
    }
}

/// Microseconds as milliseconds with two decimals, for the tables.
pub fn ms(micros: u32) -> String {
    format!("{:.2}", f64::from(micros) / 1000.0)
}
