//! `Accept-Encoding` negotiation for the embedded assets: brotli, then gzip, then none,
//! honouring `q=0` and `*`.

use hyper::header::HeaderValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// The entries of a weighted list header (`Accept`, `Accept-Encoding`): each name as written
/// (trimmed) with its `q` (1 when absent or unreadable).
pub fn weighted(header: &str) -> impl Iterator<Item = (&str, f32)> {
    header.split(',').map(|part| {
        let mut fields = part.split(';');
        let name = fields.next().unwrap_or("").trim();
        let q = fields
            .find_map(|f| f.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (name, q)
    })
}

/// The best encoding the header allows (ours in order: br, gzip, identity).
pub fn preferred(header: Option<&HeaderValue>) -> Encoding {
    let Some(text) = header.and_then(|v| v.to_str().ok()) else {
        return Encoding::Identity;
    };
    let mut wildcard = None;
    let (mut br, mut gzip) = (None, None);
    for (name, q) in weighted(text) {
        match name.to_ascii_lowercase().as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gzip = Some(q),
            "*" => wildcard = Some(q),
            _ => {}
        }
    }
    let ok = |q: Option<f32>| q.or(wildcard).is_some_and(|q| q > 0.0);
    if ok(br) {
        Encoding::Brotli
    } else if ok(gzip) {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(h: &str) -> Encoding {
        preferred(Some(&HeaderValue::from_str(h).unwrap()))
    }

    #[test]
    fn brotli_wins_then_gzip_and_a_zero_q_or_no_header_refuses() {
        assert_eq!(pick("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(pick("gzip"), Encoding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0"), Encoding::Identity);
        assert_eq!(pick("*"), Encoding::Brotli);
        assert_eq!(pick("*;q=0"), Encoding::Identity);
        assert_eq!(pick("identity"), Encoding::Identity);
        assert_eq!(preferred(None), Encoding::Identity);
    }
}
