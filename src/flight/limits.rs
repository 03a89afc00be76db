//! Oversize requests are `RESOURCE_EXHAUSTED`.
//!
//! tonic rejects a request message over `max_decoding_message_size` with `OUT_OF_RANGE`
//! before any handler runs, so unary calls (DoAction, GetFlightInfo...) never reach our error
//! mapping. This layer rewrites that status in trailers-only responses (status carried in the
//! HTTP headers) to `RESOURCE_EXHAUSTED`, the code for a size limit (protocol.md §1.4). Tessera
//! itself never answers `OUT_OF_RANGE`, so nothing else is affected. Streaming calls handle it
//! in `ingest::upload`.

use http::header::HeaderValue;

const OUT_OF_RANGE: &str = "11";
const RESOURCE_EXHAUSTED: HeaderValue = HeaderValue::from_static("8");

/// Rewrite a trailers-only `OUT_OF_RANGE` response to `RESOURCE_EXHAUSTED`.
pub fn oversize_is_resource_exhausted<B>(mut resp: http::Response<B>) -> http::Response<B> {
    let headers = resp.headers_mut();
    if headers
        .get("grpc-status")
        .is_some_and(|v| v == OUT_OF_RANGE)
    {
        headers.insert("grpc-status", RESOURCE_EXHAUSTED);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_out_of_range_is_rewritten() {
        let r = http::Response::builder()
            .header("grpc-status", "11")
            .body(())
            .unwrap();
        assert_eq!(
            oversize_is_resource_exhausted(r).headers()["grpc-status"],
            "8"
        );
        let r = http::Response::builder()
            .header("grpc-status", "5")
            .body(())
            .unwrap();
        assert_eq!(
            oversize_is_resource_exhausted(r).headers()["grpc-status"],
            "5"
        );
        let r = http::Response::builder().body(()).unwrap();
        assert!(oversize_is_resource_exhausted(r)
            .headers()
            .get("grpc-status")
            .is_none());
    }
}
