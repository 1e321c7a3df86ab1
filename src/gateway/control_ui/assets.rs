//! The Control UI files, embedded at build time by `build/ui_assets.rs` from `ui/`: each asset
//! raw, gzip and brotli, with its hashed name and ETag; `index.html` with the import map.

/// One file of `ui/assets/`.
#[derive(Debug)]
pub struct Asset {
    /// `main.js`.
    pub name: &'static str,
    /// `main.<12 hex of its SHA-256>.js`, cached for a year.
    pub hashed: &'static str,
    /// The `Content-Type`.
    pub mime: &'static str,
    /// The quoted content hash.
    pub etag: &'static str,
    pub raw: &'static [u8],
    pub gzip: &'static [u8],
    pub brotli: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// The asset served at `assets/<name>`: by hashed name (`true`: immutable) or plain name.
pub fn find(name: &str) -> Option<(&'static Asset, bool)> {
    ASSETS.iter().find_map(|a| {
        if a.hashed == name {
            Some((a, true))
        } else if a.name == name {
            Some((a, false))
        } else {
            None
        }
    })
}

/// Bytes of the whole UI as a browser loads it with brotli (index.html counted raw).
pub fn compressed_total() -> usize {
    INDEX_HTML.len() + ASSETS.iter().map(|a| a.brotli.len()).sum::<usize>()
}
