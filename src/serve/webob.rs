//! webob's own error pages, as Nova's stack answers a request no route
//! takes: `webob.exc.WSGIHTTPException.generate_response` picks the format
//! from the request's `Accept` among `text/html` and `application/json`
//! (`acceptable_offers`, best quality, ties in that order), and falls back
//! to plain text when neither is acceptable or there is no `Accept`.

use serde_json::json;

use super::message::HttpResponse;

/// The format webob writes an error page in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageFormat {
    Html,
    Json,
    Plain,
}

/// The offers webob tries, in order of preference on a tie.
const OFFERS: [(&str, &str, PageFormat); 2] = [
    ("text", "html", PageFormat::Html),
    ("application", "json", PageFormat::Json),
];

/// The format for a request with this `Accept` header.
pub fn page_format(accept: Option<&str>) -> PageFormat {
    let Some(header) = accept.filter(|h| !h.trim().is_empty()) else {
        return PageFormat::Plain;
    };
    let ranges: Vec<MediaRange> = header.split(',').filter_map(MediaRange::parse).collect();
    let mut best: Option<(f32, PageFormat)> = None;
    for (kind, sub, format) in OFFERS {
        let quality = ranges
            .iter()
            .filter(|r| r.covers(kind, sub))
            .max_by_key(|r| r.specificity())
            .map_or(0.0, |r| r.quality);
        if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, format));
        }
    }
    best.map_or(PageFormat::Plain, |(_, format)| format)
}

/// One `type/subtype;q=N` of an `Accept` header.
#[derive(Debug, Clone, PartialEq)]
struct MediaRange {
    kind: String,
    sub: String,
    quality: f32,
}

impl MediaRange {
    fn parse(text: &str) -> Option<MediaRange> {
        let mut parts = text.split(';');
        let (kind, sub) = parts.next()?.trim().split_once('/')?;
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        Some(MediaRange {
            kind: kind.trim().to_ascii_lowercase(),
            sub: sub.trim().to_ascii_lowercase(),
            quality,
        })
    }

    fn covers(&self, kind: &str, sub: &str) -> bool {
        (self.kind == "*" || self.kind == kind) && (self.sub == "*" || self.sub == sub)
    }

    /// `*/*` < `type/*` < `type/subtype`: the most specific match decides.
    fn specificity(&self) -> u8 {
        u8::from(self.kind != "*") + u8::from(self.sub != "*")
    }
}

/// webob's page for `status` (`404`), `title` (`Not Found`) and
/// `explanation`, in `format`.
pub fn error_page(status: u16, title: &str, explanation: &str, format: PageFormat) -> HttpResponse {
    let status_line = format!("{status} {title}");
    match format {
        PageFormat::Html => {
            let page = format!(
                "<html>\n <head>\n  <title>{status_line}</title>\n </head>\n <body>\n  <h1>{status_line}</h1>\n  {explanation}<br /><br />\n\n\n\n </body>\n</html>"
            );
            HttpResponse::html(status, page)
        }
        PageFormat::Json => {
            let body = json!({
                "message": format!("{explanation}<br /><br />\n\n\n"),
                "code": status_line,
                "title": title,
            });
            HttpResponse::json(status, "application/json", &body)
        }
        PageFormat::Plain => HttpResponse::new(status)
            .with_header("Content-Type", "text/plain; charset=UTF-8")
            .with_body(format!("{status_line}\n\n{explanation}\n\n   ").into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each expectation is what webob 1.8 in the nova-peer venv answers.
    #[test]
    fn formats_as_webob_picks_them() {
        let cases = [
            (Some("application/json"), PageFormat::Json),
            (Some("application/xml"), PageFormat::Plain),
            (Some("text/html"), PageFormat::Html),
            (Some("*/*"), PageFormat::Html),
            (None, PageFormat::Plain),
            (Some(""), PageFormat::Plain),
            (Some("text/*"), PageFormat::Html),
            (Some("application/*"), PageFormat::Json),
            (
                Some("application/json;q=0.5, text/html;q=0.4"),
                PageFormat::Json,
            ),
            (Some("text/html;q=0, application/json"), PageFormat::Json),
            (Some("*/*;q=0"), PageFormat::Plain),
        ];
        for (accept, format) in cases {
            assert_eq!(page_format(accept), format, "{accept:?}");
        }
    }

    #[test]
    fn pages_as_webob_writes_them() {
        let plain = error_page(
            404,
            "Not Found",
            "The resource could not be found.",
            PageFormat::Plain,
        );
        assert_eq!(
            plain.body,
            b"404 Not Found\n\nThe resource could not be found.\n\n   "
        );
        assert_eq!(
            plain.header("Content-Type"),
            Some("text/plain; charset=UTF-8")
        );
        let json = error_page(
            404,
            "Not Found",
            "The resource could not be found.",
            PageFormat::Json,
        );
        let value: serde_json::Value = serde_json::from_slice(&json.body).unwrap_or_default();
        assert_eq!(
            value["message"],
            "The resource could not be found.<br /><br />\n\n\n"
        );
        assert_eq!(value["code"], "404 Not Found");
        assert_eq!(json.header("Content-Type"), Some("application/json"));
    }
}
