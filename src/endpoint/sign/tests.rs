//! Tests of the signer: every test vector of spec §7.4, the strict parser,
//! the date format, and sign → verify properties.

use proptest::prelude::*;

use super::*;
use crate::endpoint::encode_segment;
use crate::endpoint::http::RecordedRequest;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn date(text: &str) -> SdkDate {
    SdkDate::parse(text).unwrap()
}

/// Sign `parts` and return the request's headers with the added ones.
fn signed_headers_of(
    parts: &RequestParts<'_>,
    key: &AccessKey<'_>,
    when: SdkDate,
    signed: &[&str],
) -> Vec<(String, String)> {
    let mut all = parts.headers.to_vec();
    all.extend(sign(parts, key, when, signed).unwrap());
    all
}

fn authorization_of(headers: &[(String, String)]) -> &str {
    headers
        .iter()
        .find(|(n, _)| n == "Authorization")
        .map(|(_, v)| v.as_str())
        .unwrap()
}

// ---- vector 1: Huawei API signing guide ----

const V1_AK: &str = "QTWAOYTTINDUT2QVKYUC";
const V1_SK: &str = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
const V1_PATH: &str = "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs";
const V1_QUERY: &str = "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0";

fn v1_headers() -> Vec<(String, String)> {
    headers(&[
        ("Content-Type", "application/json"),
        ("Host", "service.region.example.com"),
    ])
}

#[test]
fn vector_1_canonical_request_byte_for_byte() {
    let mut h = v1_headers();
    h.push(("X-Sdk-Date".into(), "20191115T033655Z".into()));
    let parts = RequestParts {
        method: "GET",
        path: V1_PATH,
        query: V1_QUERY,
        headers: &h,
        body: b"",
    };
    let signed: Vec<String> = ["content-type", "host", "x-sdk-date"]
        .map(String::from)
        .to_vec();
    let text = canonical_request_text(&parts, &signed).unwrap();
    let expected = "GET\n\
        /v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\n\
        limit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n\
        content-type:application/json\n\
        host:service.region.example.com\n\
        x-sdk-date:20191115T033655Z\n\
        \n\
        content-type;host;x-sdk-date\n\
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(text, expected);
    assert_eq!(
        hex_sha256(text.as_bytes()),
        "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
    );
}

#[test]
fn vector_1_signature_and_header() {
    let h = v1_headers();
    let parts = RequestParts {
        method: "GET",
        path: V1_PATH,
        query: V1_QUERY,
        headers: &h,
        body: b"",
    };
    let key = AccessKey {
        ak: V1_AK,
        sk: V1_SK,
    };
    let added = sign(
        &parts,
        &key,
        date("20191115T033655Z"),
        &["content-type", "host"],
    )
    .unwrap();
    assert_eq!(
        added,
        headers(&[
            ("X-Sdk-Date", "20191115T033655Z"),
            (
                "Authorization",
                "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, \
                 SignedHeaders=content-type;host;x-sdk-date, \
                 Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
            ),
        ])
    );
}

#[test]
fn vector_1_verifies_and_names_the_access_key() {
    let h = v1_headers();
    let parts = RequestParts {
        method: "GET",
        path: V1_PATH,
        query: V1_QUERY,
        headers: &h,
        body: b"",
    };
    let key = AccessKey {
        ak: V1_AK,
        sk: V1_SK,
    };
    let when = date("20191115T033655Z");
    let all = signed_headers_of(&parts, &key, when, &["content-type", "host"]);
    let signed = RequestParts {
        headers: &all,
        ..parts
    };
    let lookup = |ak: &str| (ak == V1_AK).then(|| V1_SK.to_string());
    assert_eq!(verify(&signed, when, lookup), Ok(V1_AK.to_string()));
}

// ---- vectors 2a and 2b: Go SDK signer_test.go ----

const GO_KEY: AccessKey<'static> = AccessKey {
    ak: "AccessKey",
    sk: "SecretKey",
};

#[test]
fn vector_2a_get_with_unsigned_underscore_header() {
    let h = headers(&[("TEST_UNDERSCORE", "TEST_VALUE")]);
    let parts = RequestParts {
        method: "GET",
        path: "/path",
        query: "limit=1",
        headers: &h,
        body: b"",
    };
    let signed: Vec<String> = vec!["x-sdk-date".into()];
    let mut with_date = h.clone();
    with_date.push(("X-Sdk-Date".into(), "20060102T150405Z".into()));
    let text = canonical_request_text(
        &RequestParts {
            headers: &with_date,
            ..parts
        },
        &signed,
    )
    .unwrap();
    assert_eq!(
        text,
        format!("GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n{EMPTY_SHA256}")
    );
    let added = sign(&parts, &GO_KEY, date("20060102T150405Z"), &[]).unwrap();
    assert_eq!(
        added[1].1,
        "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, \
         Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
    );
}

fn vector_2b_signature(body: &[u8]) -> String {
    let h = headers(&[("Content-Type", "application/json")]);
    let parts = RequestParts {
        method: "POST",
        path: "/path",
        query: "key=value",
        headers: &h,
        body,
    };
    let added = sign(&parts, &GO_KEY, date("20060102T150405Z"), &[]).unwrap();
    Authorization::parse(&added[1].1).unwrap().signature
}

#[test]
fn vector_2b_post_body_with_trailing_newline() {
    assert_eq!(
        vector_2b_signature(b"{\"Name\":\"test\",\"Id\":1}\n"),
        "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"
    );
}

#[test]
fn vector_2b_post_body_without_trailing_newline() {
    assert_eq!(
        vector_2b_signature(b"{\"Name\":\"test\",\"Id\":1}"),
        "83599e5230b5b31fb58837c5760b4c2d407542df1f9493834ead538696e17a35"
    );
}

// ---- vector 3: Go SDK canonical query ----

#[test]
fn vector_3_canonical_query_from_pairs() {
    let pairs = [
        ("limit", "1"),
        ("enable", "true"),
        ("test", "一 (&=?!#%.*)"),
        ("path", "/tmp/123"),
        ("multi", "3"),
        ("multi", "1"),
        ("multi", "2"),
    ]
    .iter()
    .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
    .collect();
    assert_eq!(
        canonical_query_pairs(pairs),
        "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"
    );
}

#[test]
fn vector_3_canonical_query_from_a_raw_query_string() {
    let raw = "test=%E4%B8%80+%28%26%3D%3F%21%23%25.*%29&path=/tmp/123&multi=3&limit=1&multi=1&enable=true&multi=2";
    assert_eq!(
        canonical_query(raw),
        "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"
    );
}

// ---- canonical pieces ----

#[test]
fn canonical_uri_encodes_segments_and_appends_slash() {
    assert_eq!(canonical_uri(""), "/");
    assert_eq!(canonical_uri("/"), "/");
    assert_eq!(canonical_uri("/v1/p/x/"), "/v1/p/x/");
    assert_eq!(canonical_uri("/m/a:b c"), "/m/a%3Ab%20c/");
    assert_eq!(canonical_uri("/m/a%3ab%20c"), "/m/a%3Ab%20c/");
    assert_eq!(canonical_uri("/m/%7E~"), "/m/~~/");
    // The decoded path is split, so an encoded `/` separates segments.
    assert_eq!(canonical_uri("/m/a%2Fb"), "/m/a/b/");
}

#[test]
fn canonical_query_edge_cases() {
    assert_eq!(canonical_query(""), "");
    assert_eq!(canonical_query("flag"), "flag=");
    assert_eq!(canonical_query("a=1&&b=2"), "a=1&b=2");
    assert_eq!(canonical_query("q=a+b%2Bc"), "q=a%20b%2Bc");
    assert_eq!(canonical_query("x=1=2"), "x=1%3D2");
}

#[test]
fn content_sha256_header_replaces_the_body_hash() {
    let h = headers(&[
        ("X-Sdk-Date", "20060102T150405Z"),
        ("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"),
    ]);
    let parts = RequestParts {
        method: "PUT",
        path: "/o",
        query: "",
        headers: &h,
        body: b"anything",
    };
    let text = canonical_request_text(&parts, &["x-sdk-date".to_string()]).unwrap();
    assert!(text.ends_with("\nx-sdk-date\nUNSIGNED-PAYLOAD"), "{text}");
}

#[test]
fn recommended_headers_are_host_and_the_optional_project_headers() {
    let h = headers(&[("Host", "h"), ("Content-Type", "x"), ("X-Project-Id", "p")]);
    assert_eq!(recommended_signed_headers(&h), vec!["host", "x-project-id"]);
    assert!(recommended_signed_headers(&[]).is_empty());
}

// ---- sign errors ----

#[test]
fn sign_refuses_missing_duplicate_or_bad_inputs() {
    let when = date("20060102T150405Z");
    let h = headers(&[("Host", "a"), ("host", "b")]);
    let parts = RequestParts {
        method: "GET",
        path: "/",
        query: "",
        headers: &h,
        body: b"",
    };
    assert_eq!(
        sign(&parts, &GO_KEY, when, &["host"]),
        Err(SignError::DuplicateHeader("host".into()))
    );
    assert_eq!(
        sign(&parts, &GO_KEY, when, &["x-project-id"]),
        Err(SignError::MissingHeader("x-project-id".into()))
    );
    assert_eq!(
        sign(&parts, &GO_KEY, when, &["bad name"]),
        Err(SignError::BadHeaderName("bad name".into()))
    );
    let bad_ak = AccessKey { ak: "A K", sk: "s" };
    assert_eq!(
        sign(&parts, &bad_ak, when, &[]),
        Err(SignError::BadAccessKey)
    );
    let pre = headers(&[("x-sdk-date", "20060102T150405Z")]);
    let presigned = RequestParts {
        headers: &pre,
        ..parts
    };
    assert_eq!(
        sign(&presigned, &GO_KEY, when, &[]),
        Err(SignError::AlreadySigned("X-Sdk-Date"))
    );
}

// ---- Authorization parsing ----

const SIG: &str = "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624";

#[test]
fn authorization_parses_the_exact_form_and_prints_it_back() {
    let text =
        format!("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature={SIG}");
    let auth = Authorization::parse(&text).unwrap();
    assert_eq!(auth.access, "AK1");
    assert_eq!(auth.signed_headers, vec!["host", "x-sdk-date"]);
    assert_eq!(auth.to_string(), text);
}

#[test]
fn authorization_rejects_every_deviation() {
    let malformed = [
        String::new(),
        "SDK-HMAC-SHA256".into(),
        format!("SDK-HMAC-SHA256  Access=AK, SignedHeaders=x-sdk-date, Signature={SIG}"),
        format!("SDK-HMAC-SHA256 Access=AK,SignedHeaders=x-sdk-date, Signature={SIG}"),
        format!("SDK-HMAC-SHA256 SignedHeaders=x-sdk-date, Access=AK, Signature={SIG}"),
        format!("SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature={SIG}"),
        format!("SDK-HMAC-SHA256 Access=A/K, SignedHeaders=x-sdk-date, Signature={SIG}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=X-Sdk-Date, Signature={SIG}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date;host, Signature={SIG}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;host;x-sdk-date, Signature={SIG}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;;x-sdk-date, Signature={SIG}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=, Signature={SIG}"),
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=abc".into(),
        format!(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature={}",
            SIG.to_uppercase()
        ),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature={SIG}, Extra=1"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature={SIG} "),
    ];
    for text in malformed {
        assert!(
            matches!(
                Authorization::parse(&text),
                Err(VerifyError::MalformedAuthorization(_))
            ),
            "accepted or misclassified: {text:?} -> {:?}",
            Authorization::parse(&text)
        );
    }
    assert_eq!(
        Authorization::parse(&format!(
            "V11-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature={SIG}"
        )),
        Err(VerifyError::UnsupportedAlgorithm("V11-HMAC-SHA256".into()))
    );
}

// ---- verify errors ----

/// A request signed by GO_KEY at 2006-01-02T15:04:05Z over host.
fn go_signed() -> Vec<(String, String)> {
    let h = headers(&[("Host", "127.0.0.1:1")]);
    let parts = RequestParts {
        method: "GET",
        path: "/v1/p/cloudservers/s",
        query: "",
        headers: &h,
        body: b"",
    };
    signed_headers_of(&parts, &GO_KEY, date("20060102T150405Z"), &["host"])
}

fn verify_go(h: &[(String, String)], now: SdkDate) -> Result<String, VerifyError> {
    let parts = RequestParts {
        method: "GET",
        path: "/v1/p/cloudservers/s",
        query: "",
        headers: h,
        body: b"",
    };
    verify(&parts, now, |ak| {
        (ak == "AccessKey").then(|| "SecretKey".to_string())
    })
}

fn replace_header(
    h: &[(String, String)],
    name: &str,
    value: Option<&str>,
) -> Vec<(String, String)> {
    let mut out: Vec<_> = h
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    if let Some(value) = value {
        out.push((name.to_string(), value.to_string()));
    }
    out
}

#[test]
fn verify_reports_each_failure_by_kind() {
    let now = date("20060102T150405Z");
    let good = go_signed();
    assert_eq!(verify_go(&good, now), Ok("AccessKey".into()));

    let no_auth = replace_header(&good, "Authorization", None);
    assert_eq!(
        verify_go(&no_auth, now),
        Err(VerifyError::MissingAuthorization)
    );

    let no_date = replace_header(&good, "X-Sdk-Date", None);
    assert_eq!(verify_go(&no_date, now), Err(VerifyError::MissingDate));

    let bad_date = replace_header(&good, "X-Sdk-Date", Some("2006-01-02T15:04:05Z"));
    assert_eq!(verify_go(&bad_date, now), Err(VerifyError::MalformedDate));

    let mut twice = good.clone();
    twice.push(("authorization".into(), authorization_of(&good).to_string()));
    assert_eq!(
        verify_go(&twice, now),
        Err(VerifyError::DuplicateHeader("authorization".into()))
    );

    let unsigned_date = replace_header(
        &good,
        "Authorization",
        Some(&format!(
            "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host, Signature={SIG}"
        )),
    );
    assert_eq!(
        verify_go(&unsigned_date, now),
        Err(VerifyError::DateNotSigned)
    );

    let other_ak = authorization_of(&good).replace("Access=AccessKey", "Access=Nobody");
    let other_ak = replace_header(&good, "Authorization", Some(&other_ak));
    assert_eq!(
        verify_go(&other_ak, now),
        Err(VerifyError::UnknownAccessKey)
    );

    let no_host = replace_header(&good, "Host", None);
    assert_eq!(
        verify_go(&no_host, now),
        Err(VerifyError::MissingSignedHeader("host".into()))
    );

    let mut two_hosts = good.clone();
    two_hosts.push(("host".into(), "127.0.0.1:1".into()));
    assert_eq!(
        verify_go(&two_hosts, now),
        Err(VerifyError::DuplicateSignedHeader("host".into()))
    );

    let wrong_sig = replace_header(
        &good,
        "Authorization",
        Some(&format!(
            "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature={SIG}"
        )),
    );
    assert_eq!(verify_go(&wrong_sig, now), Err(VerifyError::BadSignature));
}

#[test]
fn verify_allows_fifteen_minutes_of_skew_either_way_and_no_more() {
    let good = go_signed();
    let signed_at = date("20060102T150405Z").unix_secs();
    for delta in [-900, -1, 0, 1, 900] {
        assert_eq!(
            verify_go(&good, SdkDate::from_unix(signed_at + delta)),
            Ok("AccessKey".into()),
            "delta {delta}"
        );
    }
    for delta in [-901, 901, 86_400] {
        assert_eq!(
            verify_go(&good, SdkDate::from_unix(signed_at + delta)),
            Err(VerifyError::Skew {
                skew_secs: delta.abs()
            }),
            "delta {delta}"
        );
    }
}

#[test]
fn verify_trims_signed_header_values_like_the_signer() {
    let good = go_signed();
    let padded = replace_header(&good, "Host", Some("  127.0.0.1:1 "));
    assert_eq!(
        verify_go(&padded, date("20060102T150405Z")),
        Ok("AccessKey".into())
    );
}

// ---- signing a transport request ----

#[test]
fn recorded_requests_are_signed_over_what_is_sent() {
    let mut req = RecordedRequest {
        method: "POST".into(),
        url: "http://127.0.0.1:8080/v1/p/cloudservers/s/metadata?a=b%20c".into(),
        headers: headers(&[("Content-Type", "application/json")]),
        body: b"{}".to_vec(),
    };
    let when = date("20261123T024100Z");
    sign_recorded(&mut req, &GO_KEY, when).unwrap();
    assert_eq!(
        req.headers[1],
        ("Host".to_string(), "127.0.0.1:8080".to_string())
    );
    let auth = Authorization::parse(authorization_of(&req.headers)).unwrap();
    assert_eq!(auth.signed_headers, vec!["host", "x-sdk-date"]);
    let parts = RequestParts {
        method: "POST",
        path: "/v1/p/cloudservers/s/metadata",
        query: "a=b%20c",
        headers: &req.headers,
        body: b"{}",
    };
    let lookup = |ak: &str| (ak == "AccessKey").then(|| "SecretKey".to_string());
    assert_eq!(verify(&parts, when, lookup), Ok("AccessKey".into()));
    let mut relative = RecordedRequest {
        url: "/v1/p".into(),
        ..req
    };
    relative.headers.clear();
    assert_eq!(
        sign_recorded(&mut relative, &GO_KEY, when),
        Err(SignError::BadUrl("/v1/p".into()))
    );
}

// ---- dates ----

#[test]
fn dates_format_and_parse() {
    assert_eq!(SdkDate::from_unix(0).to_string(), "19700101T000000Z");
    assert_eq!(date("20191115T033655Z").unix_secs(), 1_573_789_015);
    assert_eq!(date("20000229T235959Z").unix_secs(), 951_868_799);
    assert_eq!(SdkDate::from_unix(-1).to_string(), "19691231T235959Z");
    assert_eq!(date("20000229T235959Z").rfc3339(), "2000-02-29T23:59:59Z");
    for bad in [
        "",
        "20191115T033655",
        "20191115t033655Z",
        "20191115T033655z",
        "2019111 T033655Z",
        "20191315T033655Z",
        "20191100T033655Z",
        "20190229T033655Z",
        "20190431T000000Z",
        "20191115T243655Z",
        "20191115T036055Z",
        "20191115T033660Z",
        "+0191115T033655Z",
        "20191115T033655Z ",
    ] {
        assert_eq!(SdkDate::parse(bad), None, "{bad:?}");
    }
}

proptest! {
    #[test]
    fn dates_round_trip(secs in -62_135_596_800i64..253_402_300_799) {
        let shown = SdkDate::from_unix(secs).to_string();
        prop_assert_eq!(SdkDate::parse(&shown), Some(SdkDate::from_unix(secs)));
    }
}

// ---- sign → verify properties ----

/// A request as a client builds it: decoded segments, pairs and values.
#[derive(Debug, Clone)]
struct Plain {
    method: &'static str,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    host: String,
    project: Option<String>,
    other: String,
    body: Vec<u8>,
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

fn plain() -> impl Strategy<Value = Plain> {
    (
        0..METHODS.len(),
        prop::collection::vec("[^/]{1,12}", 1..5),
        prop::collection::vec(("[a-z_ .%&=+]{1,6}", "\\PC{0,8}"), 0..4),
        "[a-z0-9.:]{1,20}",
        prop::option::of("[0-9a-f]{8}"),
        "[ -~]{0,10}",
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(m, segments, query, host, project, other, body)| Plain {
            method: METHODS[m],
            segments,
            query,
            host,
            project,
            other,
            body,
        })
}

impl Plain {
    fn path(&self) -> String {
        self.segments
            .iter()
            .map(|s| format!("/{}", encode_segment(s)))
            .collect()
    }

    fn query(&self) -> String {
        self.query
            .iter()
            .map(|(n, v)| format!("{}={}", encode_segment(n), encode_segment(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn headers(&self) -> Vec<(String, String)> {
        let mut h = headers(&[("Host", &self.host), ("X-Other", &self.other)]);
        if let Some(p) = &self.project {
            h.push(("X-Project-Id".into(), p.clone()));
        }
        h
    }
}

const PROP_KEY: AccessKey<'static> = AccessKey {
    ak: "PROPAK0123",
    sk: "prop-secret",
};

fn prop_now() -> SdkDate {
    date("20261123T024100Z")
}

/// Sign `p`, then hand the signed request (headers added) to `alter`, then
/// verify what it returns.
fn sign_alter_verify(
    p: &Plain,
    alter: impl FnOnce(&mut String, &mut String, &mut String, &mut Vec<(String, String)>, &mut Vec<u8>),
) -> Result<String, VerifyError> {
    let (path, query, h) = (p.path(), p.query(), p.headers());
    let parts = RequestParts {
        method: p.method,
        path: &path,
        query: &query,
        headers: &h,
        body: &p.body,
    };
    let signed = recommended_signed_headers(&h);
    let mut all = signed_headers_of(&parts, &PROP_KEY, prop_now(), &signed);
    let (mut method, mut path, mut query, mut body) = (
        p.method.to_string(),
        path.clone(),
        query.clone(),
        p.body.clone(),
    );
    alter(&mut method, &mut path, &mut query, &mut all, &mut body);
    let parts = RequestParts {
        method: &method,
        path: &path,
        query: &query,
        headers: &all,
        body: &body,
    };
    verify(&parts, prop_now(), |ak| {
        (ak == PROP_KEY.ak).then(|| PROP_KEY.sk.to_string())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn signed_requests_verify(p in plain()) {
        prop_assert_eq!(sign_alter_verify(&p, |_, _, _, _, _| {}), Ok(PROP_KEY.ak.to_string()));
    }

    #[test]
    fn reordering_query_pairs_or_changing_unsigned_headers_keeps_the_signature(p in plain(), other in "[ -~]{0,10}") {
        let result = sign_alter_verify(&p, |_, _, query, h, _| {
            let mut pairs: Vec<&str> = query.split('&').collect();
            pairs.reverse();
            *query = pairs.join("&");
            for (n, v) in h.iter_mut() {
                if n == "X-Other" {
                    *v = other.clone();
                }
            }
        });
        prop_assert_eq!(result, Ok(PROP_KEY.ak.to_string()));
    }

    #[test]
    fn changing_the_method_breaks_it(p in plain(), k in 1..METHODS.len()) {
        let other = METHODS[(METHODS.iter().position(|m| *m == p.method).unwrap() + k) % METHODS.len()];
        let result = sign_alter_verify(&p, |method, _, _, _, _| *method = other.to_string());
        prop_assert_eq!(result, Err(VerifyError::BadSignature));
    }

    #[test]
    fn changing_the_path_breaks_it(p in plain(), i in any::<prop::sample::Index>(), extra in "[^/]{1,3}") {
        let mut segments = p.segments.clone();
        let at = i.index(segments.len());
        segments[at].push_str(&extra);
        let altered = Plain { segments, ..p.clone() }.path();
        let result = sign_alter_verify(&p, |_, path, _, _, _| *path = altered);
        prop_assert_eq!(result, Err(VerifyError::BadSignature));
    }

    #[test]
    fn adding_a_path_segment_breaks_it(p in plain()) {
        let result = sign_alter_verify(&p, |_, path, _, _, _| path.push_str("/x"));
        prop_assert_eq!(result, Err(VerifyError::BadSignature));
    }

    #[test]
    fn changing_the_query_breaks_it(p in plain(), name in "[a-z]{1,4}", value in "\\PC{0,4}") {
        let added = format!("{}={}", encode_segment(&name), encode_segment(&value));
        let result = sign_alter_verify(&p, |_, _, query, _, _| {
            if query.is_empty() {
                *query = added;
            } else {
                *query = format!("{query}&{added}");
            }
        });
        prop_assert_eq!(result, Err(VerifyError::BadSignature));
    }

    #[test]
    fn changing_a_query_value_breaks_it(p in plain(), extra in "[a-z0-9]{1,3}") {
        prop_assume!(!p.query.is_empty());
        let mut pairs = p.query.clone();
        pairs[0].1.push_str(&extra);
        let altered = Plain { query: pairs, ..p.clone() }.query();
        let result = sign_alter_verify(&p, |_, _, query, _, _| *query = altered);
        prop_assert_eq!(result, Err(VerifyError::BadSignature));
    }

    #[test]
    fn changing_the_body_breaks_it(p in plain(), i in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let result = sign_alter_verify(&p, |_, _, _, _, body| {
            if body.is_empty() {
                body.push(flip);
            } else {
                let at = i.index(body.len());
                body[at] ^= flip;
            }
        });
        prop_assert_eq!(result, Err(VerifyError::BadSignature));
    }

    #[test]
    fn changing_a_signed_header_breaks_it(p in plain(), extra in "[a-z0-9]{1,3}", project in any::<bool>()) {
        let target = if project && p.project.is_some() { "X-Project-Id" } else { "Host" };
        let result = sign_alter_verify(&p, |_, _, _, h, _| {
            for (n, v) in h.iter_mut() {
                if n == target {
                    v.push_str(&extra);
                }
            }
        });
        prop_assert_eq!(result, Err(VerifyError::BadSignature));
    }

    #[test]
    fn changing_the_date_breaks_it(p in plain(), delta in 1i64..=900) {
        let moved = SdkDate::from_unix(prop_now().unix_secs() - delta).to_string();
        let result = sign_alter_verify(&p, |_, _, _, h, _| {
            for (n, v) in h.iter_mut() {
                if n == DATE_HEADER {
                    *v = moved.clone();
                }
            }
        });
        prop_assert_eq!(result, Err(VerifyError::BadSignature));
    }
}

proptest! {
    /// Whatever a client sends, verification answers with a typed error
    /// (or, by chance, success) and never panics.
    #[test]
    fn verify_never_panics(
        auth in prop_oneof![
            "\\PC{0,80}",
            "SDK-HMAC-SHA256 Access=[A-Za-z0-9]{0,4}, SignedHeaders=[a-z;-]{0,20}, Signature=[0-9a-f]{60,66}",
        ],
        date_text in prop_oneof!["\\PC{0,20}", "[0-9]{8}T[0-9]{6}Z"],
        path in "\\PC{0,30}",
        query in "\\PC{0,30}",
    ) {
        let h = headers(&[("Authorization", &auth), ("X-Sdk-Date", &date_text), ("Host", "h")]);
        let parts = RequestParts { method: "GET", path: &path, query: &query, headers: &h, body: b"" };
        let _ = verify(&parts, prop_now(), |_| Some("sk".to_string()));
    }
}

#[test]
fn sign_recorded_signs_a_dot_segment_path_as_sent() {
    // The transport sends `.`/`..` segments verbatim; a signature over the
    // normalised path (`/v1/p/s/metadata/`) would not verify.
    let when = date("20060102T150405Z");
    let mut req = RecordedRequest {
        method: "DELETE".into(),
        url: "http://127.0.0.1:8080/v1/p/s/metadata/..".into(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    sign_recorded(&mut req, &GO_KEY, when).unwrap();
    let lookup = |ak: &str| (ak == "AccessKey").then(|| "SecretKey".to_string());
    let as_sent = RequestParts {
        method: "DELETE",
        path: "/v1/p/s/metadata/..",
        query: "",
        headers: &req.headers,
        body: b"",
    };
    assert_eq!(verify(&as_sent, when, lookup), Ok("AccessKey".into()));
    let normalised = RequestParts {
        path: "/v1/p/s/",
        ..as_sent
    };
    assert_eq!(
        verify(&normalised, when, lookup),
        Err(VerifyError::BadSignature)
    );
}
