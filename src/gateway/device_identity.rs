//! Ed25519 device identity: verifying the `device` proof of a `connect` request, signing our own
//! connects, and the gateway's own identity file.
//!
//! A device is an Ed25519 keypair. Its id is the lowercase hex SHA-256 of the raw 32-byte public
//! key, so an id cannot be claimed without the matching private key. A client proves its identity
//! by signing a `|`-joined payload ([`build_payload`], versions v1–v4) that binds the device id,
//! the client, role, scopes, a timestamp, the token it authenticates with and the server's
//! `connect.challenge` nonce. [`verify_device`] runs the gateway's six checks in the order of
//! `gateway-protocol.md` §2.4 and reports the first failure as a [`DeviceAuthError`], which carries
//! the exact wire message and `error.details.code`.
//!
//! The gateway's own identity lives in `<state>/identity/device.json` (the reference format:
//! SPKI PEM public key, PKCS#8 PEM private key), written atomically with mode 0600 in a 0700
//! directory. [`GatewayIdentity::load_or_create`] reuses a valid file, creates a missing one, and
//! refuses (never overwrites) a file it cannot read or trust.

use std::fmt;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, KeypairBytes,
    PublicKeyBytes,
};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic_write::{
    PRIVATE_DIR_MODE, SECRET_FILE_MODE, create_dir_all_with_mode, write_atomic,
};

/// Largest accepted distance between the gateway clock and `device.signedAt`, either direction.
pub const DEVICE_SIGNATURE_SKEW_MS: u64 = 600_000;

/// Directory under the state dir holding the gateway's identity.
pub const IDENTITY_DIR_NAME: &str = "identity";

/// File name of the gateway's identity inside [`IDENTITY_DIR_NAME`].
pub const IDENTITY_FILE_NAME: &str = "device.json";

/// The only `version` of `device.json` this build reads and writes.
const IDENTITY_FILE_VERSION: u64 = 1;

/// Standard-alphabet base64 that accepts missing padding and non-zero trailing bits, like the
/// reference's `Buffer.from(…, "base64")`. URL-safe input is translated to it before decoding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

// ---------------------------------------------------------------------------------------------
// Keys, ids and encodings
// ---------------------------------------------------------------------------------------------

/// The device id of a raw Ed25519 public key: lowercase hex SHA-256 of the 32 bytes.
pub fn device_id_for(public_key: &[u8; 32]) -> String {
    let digest = Sha256::digest(public_key);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Parses a `device.publicKey`: base64url without padding (the normal form), base64url or
/// standard base64 with or without padding, or a PEM SPKI block (`-----BEGIN PUBLIC KEY-----`).
///
/// Returns the raw 32 key bytes, or `None` when the text is none of those or not 32 bytes long.
/// The bytes are not checked to be a valid curve point; signature verification does that.
pub fn parse_public_key(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.contains("-----BEGIN") {
        return public_key_from_pem(text);
    }
    decode_base64_lenient(text).and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
}

/// The normal wire form of a public key: base64url without padding.
pub fn public_key_base64url(key: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// Normalises any form [`parse_public_key`] accepts to base64url without padding (the form the
/// pairing store compares), or `None` when the key cannot be parsed.
pub fn normalize_public_key(text: &str) -> Option<String> {
    parse_public_key(text).map(|key| public_key_base64url(&key))
}

/// Decodes a `device.signature`: base64url (the normal form) or standard base64, padding
/// optional. `None` when it is neither or not 64 bytes long.
pub fn decode_signature(text: &str) -> Option<[u8; 64]> {
    decode_base64_lenient(text.trim()).and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
}

/// Decodes base64url or standard base64 (even mixed, as the reference does), padding optional.
fn decode_base64_lenient(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() {
        return None;
    }
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    LENIENT_BASE64.decode(standard).ok()
}

/// The raw key of an Ed25519 SPKI PEM block (OID and length checked, point not validated).
fn public_key_from_pem(pem: &str) -> Option<[u8; 32]> {
    PublicKeyBytes::from_public_key_pem(pem.trim())
        .ok()
        .map(|key| key.to_bytes())
}

/// An Ed25519 SPKI PEM block (`-----BEGIN PUBLIC KEY-----`, LF line endings) for a raw key.
pub fn public_key_pem(key: &[u8; 32]) -> Option<String> {
    PublicKeyBytes(*key).to_public_key_pem(LineEnding::LF).ok()
}

/// Trims like JavaScript's `String.prototype.trim`: Unicode white space and line terminators,
/// including U+FEFF but not U+0085, so payloads match what reference clients sign.
fn js_trim(text: &str) -> &str {
    text.trim_matches(|c: char| (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}')
}

/// Payload normalisation of `platform` and `deviceFamily` (v3+): trimmed, ASCII-lowercased.
fn normalize_metadata(value: Option<&str>) -> String {
    js_trim(value.unwrap_or("")).to_ascii_lowercase()
}

// ---------------------------------------------------------------------------------------------
// Signed payloads
// ---------------------------------------------------------------------------------------------

/// A version of the signed device-auth payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadVersion {
    /// Legacy: no nonce. Accepted only from loopback clients that sent no nonce.
    V1,
    /// v1 fields plus the challenge nonce.
    V2,
    /// v2 plus `platform` and `deviceFamily` (trimmed, ASCII-lowercased).
    V3,
    /// v3 plus `instanceId` (trimmed). Signed by the newest client library.
    V4,
}

impl PayloadVersion {
    /// Every version, in the order the gateway tries them.
    pub const NEWEST_FIRST: [PayloadVersion; 4] = [Self::V4, Self::V3, Self::V2, Self::V1];

    /// The payload prefix: `v1` … `v4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
            Self::V3 => "v3",
            Self::V4 => "v4",
        }
    }
}

impl fmt::Display for PayloadVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `connect` fields a device signature covers, besides the device id, time and nonce.
#[derive(Debug, Clone, Copy)]
pub struct SignedFields<'a> {
    /// `client.id`.
    pub client_id: &'a str,
    /// `client.mode`.
    pub client_mode: &'a str,
    /// The resolved role (`operator` or `node`).
    pub role: &'a str,
    /// The requested scopes, joined with `,` in this order.
    pub scopes: &'a [String],
    /// The token the client authenticates with (`auth.token`, else the device token); `None`
    /// signs an empty field.
    pub token: Option<&'a str>,
    /// `client.platform` (v3+).
    pub platform: Option<&'a str>,
    /// `client.deviceFamily` (v3+).
    pub device_family: Option<&'a str>,
    /// `client.instanceId` (v4).
    pub instance_id: Option<&'a str>,
}

/// Builds the exact string a device signs for `version`:
///
/// ```text
/// v1|deviceId|clientId|clientMode|role|scopes|signedAtMs|token
/// v2|deviceId|clientId|clientMode|role|scopes|signedAtMs|token|nonce
/// v3|…v2 fields…|platform|deviceFamily
/// v4|…v3 fields…|instanceId
/// ```
///
/// Missing token, nonce and metadata become empty fields; v1 has no nonce field.
pub fn build_payload(
    version: PayloadVersion,
    fields: &SignedFields<'_>,
    device_id: &str,
    signed_at_ms: u64,
    nonce: Option<&str>,
) -> String {
    let scopes = fields.scopes.join(",");
    let signed_at = signed_at_ms.to_string();
    let platform = normalize_metadata(fields.platform);
    let device_family = normalize_metadata(fields.device_family);
    let instance_id = js_trim(fields.instance_id.unwrap_or(""));

    let mut parts: Vec<&str> = vec![
        version.as_str(),
        device_id,
        fields.client_id,
        fields.client_mode,
        fields.role,
        &scopes,
        &signed_at,
        fields.token.unwrap_or(""),
    ];
    if version != PayloadVersion::V1 {
        parts.push(nonce.unwrap_or(""));
    }
    if matches!(version, PayloadVersion::V3 | PayloadVersion::V4) {
        parts.push(&platform);
        parts.push(&device_family);
    }
    if version == PayloadVersion::V4 {
        parts.push(instance_id);
    }
    parts.join("|")
}

// ---------------------------------------------------------------------------------------------
// Verification (gateway side)
// ---------------------------------------------------------------------------------------------

/// `connect.params.device` as sent by the client.
#[derive(Debug, Clone, Copy)]
pub struct DeviceProof<'a> {
    /// `device.id`: the claimed device id.
    pub id: &'a str,
    /// `device.publicKey`, in any form [`parse_public_key`] accepts.
    pub public_key: &'a str,
    /// `device.signature`, base64url or standard base64.
    pub signature: &'a str,
    /// `device.signedAt`, milliseconds since the Unix epoch.
    pub signed_at_ms: u64,
    /// `device.nonce`; blank counts as missing.
    pub nonce: Option<&'a str>,
}

/// What the gateway knows about the connection when checking a device proof.
#[derive(Debug, Clone, Copy)]
pub struct VerifyContext<'a> {
    /// The nonce this connection's `connect.challenge` carried.
    pub challenge_nonce: &'a str,
    /// The gateway's clock, milliseconds since the Unix epoch.
    pub now_ms: u64,
    /// The peer is a local (loopback) client; allows legacy v1 signatures without a nonce.
    pub is_loopback: bool,
    /// A nonce must be present: always for protocol-v4 clients, `!is_loopback` for v3-era ones.
    pub nonce_required: bool,
}

/// A device whose proof passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDevice {
    /// The device id (equal to the derived one).
    pub device_id: String,
    /// The raw public key.
    pub public_key: [u8; 32],
    /// The public key in its normal form (base64url, no padding), as the pairing store keeps it.
    pub public_key_base64url: String,
    /// The payload version the signature matched.
    pub payload_version: PayloadVersion,
}

/// Why a device proof was refused. Each is answered with `INVALID_REQUEST` + [`message`]
/// and `details.code` = [`detail_code`], then the socket is closed with 1008 and the message.
///
/// [`message`]: DeviceAuthError::message
/// [`detail_code`]: DeviceAuthError::detail_code
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeviceAuthError {
    /// Check 1: the id derived from the public key differs from `device.id`, or the key could
    /// not be parsed at all (so no id can be derived).
    #[error("device identity mismatch")]
    IdMismatch,
    /// Check 2: `signedAt` is more than [`DEVICE_SIGNATURE_SKEW_MS`] away from the gateway clock.
    #[error("device signature expired")]
    SignatureExpired,
    /// Check 3: no (or a blank) nonce where one is required.
    #[error("device nonce required")]
    NonceRequired,
    /// Check 4: a nonce other than this connection's challenge nonce.
    #[error("device nonce mismatch")]
    NonceMismatch,
    /// Check 5: the signature verifies against none of the payload versions tried.
    #[error("device signature invalid")]
    SignatureInvalid,
    /// Check 6: the public key cannot be normalised to base64url.
    #[error("device public key invalid")]
    PublicKeyInvalid,
}

impl DeviceAuthError {
    /// The `error.message` and WebSocket close reason.
    pub fn message(&self) -> &'static str {
        match self {
            Self::IdMismatch => "device identity mismatch",
            Self::SignatureExpired => "device signature expired",
            Self::NonceRequired => "device nonce required",
            Self::NonceMismatch => "device nonce mismatch",
            Self::SignatureInvalid => "device signature invalid",
            Self::PublicKeyInvalid => "device public key invalid",
        }
    }

    /// The `error.details.code`.
    pub fn detail_code(&self) -> &'static str {
        match self {
            Self::IdMismatch => "DEVICE_AUTH_DEVICE_ID_MISMATCH",
            Self::SignatureExpired => "DEVICE_AUTH_SIGNATURE_EXPIRED",
            Self::NonceRequired => "DEVICE_AUTH_NONCE_REQUIRED",
            Self::NonceMismatch => "DEVICE_AUTH_NONCE_MISMATCH",
            Self::SignatureInvalid => "DEVICE_AUTH_SIGNATURE_INVALID",
            Self::PublicKeyInvalid => "DEVICE_AUTH_PUBLIC_KEY_INVALID",
        }
    }
}

/// Checks a `connect` device proof, in the spec's order, returning the first failure:
///
/// 1. the id derived from `public_key` equals `device.id` ([`DeviceAuthError::IdMismatch`]);
/// 2. `|now − signedAt| ≤ 10 min` ([`DeviceAuthError::SignatureExpired`]);
/// 3. a nonce is present when required ([`DeviceAuthError::NonceRequired`]);
/// 4. a present nonce equals the challenge nonce ([`DeviceAuthError::NonceMismatch`]);
/// 5. the signature verifies (strictly) against the v4, v3 or v2 payload, or v1 for a loopback
///    client that sent no nonce ([`DeviceAuthError::SignatureInvalid`]);
/// 6. the key normalises to base64url ([`DeviceAuthError::PublicKeyInvalid`]).
///
/// The nonce is trimmed (as the reference does) and the trimmed value is what the payload holds.
pub fn verify_device(
    proof: &DeviceProof<'_>,
    fields: &SignedFields<'_>,
    ctx: &VerifyContext<'_>,
) -> Result<VerifiedDevice, DeviceAuthError> {
    let public_key = parse_public_key(proof.public_key).ok_or(DeviceAuthError::IdMismatch)?;
    if device_id_for(&public_key) != proof.id {
        return Err(DeviceAuthError::IdMismatch);
    }

    if ctx.now_ms.abs_diff(proof.signed_at_ms) > DEVICE_SIGNATURE_SKEW_MS {
        return Err(DeviceAuthError::SignatureExpired);
    }

    let nonce = proof.nonce.map(js_trim).filter(|nonce| !nonce.is_empty());
    if ctx.nonce_required && nonce.is_none() {
        return Err(DeviceAuthError::NonceRequired);
    }
    if nonce.is_some_and(|nonce| nonce != ctx.challenge_nonce) {
        return Err(DeviceAuthError::NonceMismatch);
    }

    let allow_v1 = ctx.is_loopback && nonce.is_none();
    let payload_version = matching_payload_version(&public_key, proof, fields, nonce, allow_v1)
        .ok_or(DeviceAuthError::SignatureInvalid)?;

    let public_key_base64url =
        normalize_public_key(proof.public_key).ok_or(DeviceAuthError::PublicKeyInvalid)?;

    Ok(VerifiedDevice {
        device_id: proof.id.to_owned(),
        public_key,
        public_key_base64url,
        payload_version,
    })
}

/// The newest payload version the proof's signature verifies against, if any.
fn matching_payload_version(
    public_key: &[u8; 32],
    proof: &DeviceProof<'_>,
    fields: &SignedFields<'_>,
    nonce: Option<&str>,
    allow_v1: bool,
) -> Option<PayloadVersion> {
    let verifying_key = VerifyingKey::from_bytes(public_key).ok()?;
    let signature = Signature::from_bytes(&decode_signature(proof.signature)?);
    PayloadVersion::NEWEST_FIRST
        .into_iter()
        .filter(|version| *version != PayloadVersion::V1 || allow_v1)
        .find(|version| {
            let payload = build_payload(*version, fields, proof.id, proof.signed_at_ms, nonce);
            verifying_key
                .verify_strict(payload.as_bytes(), &signature)
                .is_ok()
        })
}

// ---------------------------------------------------------------------------------------------
// Signing (client side)
// ---------------------------------------------------------------------------------------------

/// An Ed25519 device keypair that signs `connect` payloads.
pub struct DeviceKeypair {
    signing_key: SigningKey,
}

impl DeviceKeypair {
    /// A new keypair from 32 bytes of OS randomness.
    ///
    /// Fails only when the OS random number generator does.
    pub fn generate() -> io::Result<Self> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(io::Error::other)?;
        Ok(Self::from_seed(&seed))
    }

    /// The keypair whose private key is the 32-byte `seed` (RFC 8032 secret key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self {
            signing_key: SigningKey::from_bytes(seed),
        }
    }

    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`, v1 or v2).
    pub fn from_pkcs8_pem(pem: &str) -> Option<Self> {
        SigningKey::from_pkcs8_pem(pem.trim())
            .ok()
            .map(|signing_key| Self { signing_key })
    }

    /// The private key as PKCS#8 v1 PEM (LF line endings), the form Node's
    /// `export({type: "pkcs8", format: "pem"})` writes.
    fn private_key_pem(&self) -> Option<String> {
        let bytes = KeypairBytes {
            secret_key: self.signing_key.to_bytes(),
            public_key: None,
        };
        bytes
            .to_pkcs8_pem(LineEnding::LF)
            .ok()
            .map(|pem| pem.as_str().to_owned())
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing_key.verifying_key().to_bytes()
    }

    /// The public key as base64url without padding (`device.publicKey`).
    pub fn public_key_base64url(&self) -> String {
        public_key_base64url(&self.public_key())
    }

    /// The device id: lowercase hex SHA-256 of the public key (`device.id`).
    pub fn device_id(&self) -> String {
        device_id_for(&self.public_key())
    }

    /// Signs the UTF-8 `payload`, returning the signature as base64url without padding
    /// (`device.signature`).
    pub fn sign(&self, payload: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.signing_key.sign(payload.as_bytes()).to_bytes())
    }
}

impl fmt::Debug for DeviceKeypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKeypair")
            .field("device_id", &self.device_id())
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// The gateway's own identity file
// ---------------------------------------------------------------------------------------------

/// `<state>/identity/device.json`.
pub fn identity_file_path(state_dir: &Path) -> PathBuf {
    state_dir.join(IDENTITY_DIR_NAME).join(IDENTITY_FILE_NAME)
}

/// The on-disk form of `device.json`; field order matches the reference.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredIdentity {
    version: u64,
    device_id: String,
    public_key_pem: String,
    private_key_pem: String,
    created_at_ms: u64,
}

/// Why the gateway identity could not be loaded or created. Every file problem names the path.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The file exists but could not be read.
    #[error(
        "cannot read gateway identity {path}: {source} (make it readable by the user running the gateway, or move it aside to create a new identity)"
    )]
    Read {
        /// The identity file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not a usable identity (bad JSON, wrong version, bad or mismatched keys).
    #[error(
        "gateway identity {path} is corrupt: {reason} (restore it from a backup, or move it aside to create a new identity; it was not modified)"
    )]
    Corrupt {
        /// The identity file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `deviceId` is not the id its public key derives.
    #[error(
        "gateway identity {path} has deviceId {stored} but its public key derives {derived} (set \"deviceId\" to \"{derived}\" if the key is right, or move the file aside to create a new identity; it was not modified)"
    )]
    DeviceIdMismatch {
        /// The identity file.
        path: PathBuf,
        /// The `deviceId` in the file.
        stored: String,
        /// The id derived from `publicKeyPem`.
        derived: String,
    },
    /// The identity directory or file could not be written.
    #[error("cannot create gateway identity {path}: {source}")]
    Create {
        /// The directory or file being created.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The OS random number generator failed while generating a new key.
    #[error("cannot generate a gateway identity key: {source}")]
    Random {
        /// The error from the OS random number generator.
        source: io::Error,
    },
}

/// The gateway's own device identity, from `<state>/identity/device.json`.
pub struct GatewayIdentity {
    /// The device id (lowercase hex SHA-256 of the public key).
    pub device_id: String,
    /// The public key as SPKI PEM, as stored in the file.
    pub public_key_pem: String,
    /// The public key as base64url without padding.
    pub public_key_base64url: String,
    /// When the identity was created, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    keypair: DeviceKeypair,
}

impl GatewayIdentity {
    /// Loads `<state_dir>/identity/device.json`, or creates it with a new keypair (stamped
    /// `now_ms`) when it does not exist.
    ///
    /// A file that exists but cannot be read, is not a valid version-1 identity, or whose
    /// `deviceId` does not match its key is an error and is left untouched.
    pub fn load_or_create(state_dir: &Path, now_ms: u64) -> Result<Self, IdentityError> {
        let path = identity_file_path(state_dir);
        match fs::read(&path) {
            Ok(bytes) => Self::from_file_bytes(path, &bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Self::create(state_dir, path, now_ms),
            Err(source) => Err(IdentityError::Read { path, source }),
        }
    }

    /// The keypair, for signing the gateway's own connects.
    pub fn keypair(&self) -> &DeviceKeypair {
        &self.keypair
    }

    /// Reads an existing identity file; any problem is reported with `path`.
    fn from_file_bytes(path: PathBuf, bytes: &[u8]) -> Result<Self, IdentityError> {
        Self::parse_file(bytes).map_err(|problem| match problem {
            FileProblem::Corrupt(reason) => IdentityError::Corrupt { path, reason },
            FileProblem::DeviceIdMismatch { stored, derived } => IdentityError::DeviceIdMismatch {
                path,
                stored,
                derived,
            },
        })
    }

    fn parse_file(bytes: &[u8]) -> Result<Self, FileProblem> {
        let corrupt = |reason: &str| FileProblem::Corrupt(reason.to_owned());
        let text = std::str::from_utf8(bytes).map_err(|_| corrupt("not UTF-8 text"))?;
        let stored: StoredIdentity = serde_json::from_str(text)
            .map_err(|e| FileProblem::Corrupt(format!("not a device identity JSON file: {e}")))?;
        if stored.version != IDENTITY_FILE_VERSION {
            return Err(FileProblem::Corrupt(format!(
                "unsupported version {} (this build reads version {IDENTITY_FILE_VERSION})",
                stored.version
            )));
        }
        let public_key = public_key_from_pem(&stored.public_key_pem)
            .ok_or_else(|| corrupt("publicKeyPem is not an Ed25519 SPKI PEM public key"))?;
        let derived = device_id_for(&public_key);
        if derived != stored.device_id {
            return Err(FileProblem::DeviceIdMismatch {
                stored: stored.device_id,
                derived,
            });
        }
        let keypair = DeviceKeypair::from_pkcs8_pem(&stored.private_key_pem)
            .ok_or_else(|| corrupt("privateKeyPem is not an Ed25519 PKCS#8 PEM private key"))?;
        if keypair.public_key() != public_key {
            return Err(corrupt("privateKeyPem does not belong to publicKeyPem"));
        }
        Ok(Self {
            device_id: stored.device_id,
            public_key_pem: stored.public_key_pem,
            public_key_base64url: public_key_base64url(&public_key),
            created_at_ms: stored.created_at_ms,
            keypair,
        })
    }

    /// Creates the 0700 identity directory and writes a new identity file (0600).
    fn create(state_dir: &Path, path: PathBuf, now_ms: u64) -> Result<Self, IdentityError> {
        let dir = state_dir.join(IDENTITY_DIR_NAME);
        create_dir_all_with_mode(&dir, PRIVATE_DIR_MODE)
            .map_err(|source| IdentityError::Create { path: dir, source })?;
        let keypair =
            DeviceKeypair::generate().map_err(|source| IdentityError::Random { source })?;
        let stored = match write_new_identity(&path, &keypair, now_ms) {
            Ok(stored) => stored,
            Err(source) => return Err(IdentityError::Create { path, source }),
        };
        Ok(Self {
            public_key_base64url: keypair.public_key_base64url(),
            device_id: stored.device_id,
            public_key_pem: stored.public_key_pem,
            created_at_ms: stored.created_at_ms,
            keypair,
        })
    }
}

/// What is wrong with an existing identity file (the path is added by the caller).
enum FileProblem {
    Corrupt(String),
    DeviceIdMismatch { stored: String, derived: String },
}

/// Writes `keypair` to `path` in the `device.json` format, atomically with mode 0600.
fn write_new_identity(
    path: &Path,
    keypair: &DeviceKeypair,
    now_ms: u64,
) -> io::Result<StoredIdentity> {
    let encode_error = || io::Error::other("cannot encode the Ed25519 key as PEM");
    let stored = StoredIdentity {
        version: IDENTITY_FILE_VERSION,
        device_id: keypair.device_id(),
        public_key_pem: public_key_pem(&keypair.public_key()).ok_or_else(encode_error)?,
        private_key_pem: keypair.private_key_pem().ok_or_else(encode_error)?,
        created_at_ms: now_ms,
    };
    let mut json = serde_json::to_string_pretty(&stored).map_err(io::Error::other)?;
    json.push('\n');
    write_atomic(path, json.as_bytes(), SECRET_FILE_MODE)?;
    Ok(stored)
}

impl fmt::Debug for GatewayIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayIdentity")
            .field("device_id", &self.device_id)
            .field("public_key_base64url", &self.public_key_base64url)
            .field("created_at_ms", &self.created_at_ms)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atomic_write::file_mode;

    /// RFC 8032 §7.1 test 1 secret key and public key.
    const RFC_SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const RFC_PUBLIC_HEX: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    /// `printf <RFC_PUBLIC_HEX> | xxd -r -p | sha256sum`.
    const RFC_DEVICE_ID: &str = "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9";
    const RFC_PUBLIC_B64URL: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    /// What Node's `crypto` (the reference runtime) exports for the RFC 8032 key.
    const NODE_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n";
    const NODE_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
    /// A v3 payload signed by Node's `crypto.sign(null, …)` with the RFC 8032 key.
    const NODE_V3_PAYLOAD: &str = "v3|21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9|cli|cli|operator|operator.admin,operator.read|1700000000000|tok|nonce-1|linux|linux";
    const NODE_V3_SIGNATURE: &str =
        "ZQaCJ8XOcwsSzMSuyYFmHeVrBEBdOSzAsvvJqbwf39QiufRFPgCaCiwD3D7XzBg7b46qqM4s7bF9GNPb-IJnCQ";
    const NODE_V3_SIGNATURE_STANDARD: &str =
        "ZQaCJ8XOcwsSzMSuyYFmHeVrBEBdOSzAsvvJqbwf39QiufRFPgCaCiwD3D7XzBg7b46qqM4s7bF9GNPb+IJnCQ==";

    const NOW: u64 = 1_700_000_000_000;
    const NONCE: &str = "5f0c2a9e-3b7d-4c1e-9a2f-0d6b8e4c7a11";

    fn hex_bytes<const N: usize>(hex: &str) -> [u8; N] {
        let mut out = [0u8; N];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    fn rfc_keypair() -> DeviceKeypair {
        DeviceKeypair::from_seed(&hex_bytes(RFC_SEED_HEX))
    }

    fn scopes() -> Vec<String> {
        vec!["operator.admin".to_owned(), "operator.read".to_owned()]
    }

    fn fields(scopes: &[String]) -> SignedFields<'_> {
        SignedFields {
            client_id: "cli",
            client_mode: "cli",
            role: "operator",
            scopes,
            token: Some("tok"),
            platform: Some(" MacOS 14.5 "),
            device_family: Some("Mac"),
            instance_id: Some(" 7c1d "),
        }
    }

    fn remote_v4() -> VerifyContext<'static> {
        VerifyContext {
            challenge_nonce: NONCE,
            now_ms: NOW,
            is_loopback: false,
            nonce_required: true,
        }
    }

    fn loopback_v3_era() -> VerifyContext<'static> {
        VerifyContext {
            challenge_nonce: NONCE,
            now_ms: NOW,
            is_loopback: true,
            nonce_required: false,
        }
    }

    /// The `device` fields a client sends after signing `version` with `keypair`.
    struct Signed {
        id: String,
        public_key: String,
        signature: String,
    }

    fn sign(
        keypair: &DeviceKeypair,
        version: PayloadVersion,
        fields: &SignedFields<'_>,
        signed_at_ms: u64,
        nonce: Option<&str>,
    ) -> Signed {
        let id = keypair.device_id();
        let payload = build_payload(version, fields, &id, signed_at_ms, nonce);
        Signed {
            signature: keypair.sign(&payload),
            public_key: keypair.public_key_base64url(),
            id,
        }
    }

    fn proof<'a>(signed: &'a Signed, signed_at_ms: u64, nonce: Option<&'a str>) -> DeviceProof<'a> {
        DeviceProof {
            id: &signed.id,
            public_key: &signed.public_key,
            signature: &signed.signature,
            signed_at_ms,
            nonce,
        }
    }

    // --- ids and encodings ---

    #[test]
    fn device_id_is_lowercase_hex_sha256_of_the_raw_public_key() {
        assert_eq!(device_id_for(&hex_bytes(RFC_PUBLIC_HEX)), RFC_DEVICE_ID);
        assert_eq!(rfc_keypair().device_id(), RFC_DEVICE_ID);
        assert_eq!(rfc_keypair().public_key(), hex_bytes::<32>(RFC_PUBLIC_HEX));
    }

    #[test]
    fn public_key_normal_form_is_base64url_without_padding() {
        assert_eq!(
            public_key_base64url(&hex_bytes(RFC_PUBLIC_HEX)),
            RFC_PUBLIC_B64URL
        );
        assert_eq!(rfc_keypair().public_key_base64url(), RFC_PUBLIC_B64URL);
    }

    #[test]
    fn public_key_parses_from_every_accepted_encoding() {
        let raw: [u8; 32] = hex_bytes(RFC_PUBLIC_HEX);
        let standard_padded = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
        for text in [
            RFC_PUBLIC_B64URL,
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            standard_padded,
            "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            NODE_PUBLIC_PEM,
            &NODE_PUBLIC_PEM.replace('\n', "\r\n"),
            &format!("  {RFC_PUBLIC_B64URL}\n"),
        ] {
            assert_eq!(parse_public_key(text), Some(raw), "{text:?}");
            assert_eq!(
                normalize_public_key(text).as_deref(),
                Some(RFC_PUBLIC_B64URL)
            );
        }
    }

    #[test]
    fn public_key_parsing_rejects_garbage_wrong_lengths_and_other_key_types() {
        let x25519_spki = [
            &[
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
            ][..],
            &[7u8; 32][..],
        ]
        .concat();
        let x25519_pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(&x25519_spki)
        );
        for text in [
            "",
            "not a key!!",
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR",
            &URL_SAFE_NO_PAD.encode([1u8; 33]),
            &URL_SAFE_NO_PAD.encode([1u8; 31]),
            &x25519_pem,
            "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n",
        ] {
            assert_eq!(parse_public_key(text), None, "{text:?}");
        }
    }

    #[test]
    fn signature_decodes_from_base64url_and_standard_base64_only_at_64_bytes() {
        let url = decode_signature(NODE_V3_SIGNATURE).unwrap();
        assert_eq!(decode_signature(NODE_V3_SIGNATURE_STANDARD), Some(url));
        assert_eq!(url[..4], [0x65, 0x06, 0x82, 0x27]);
        assert_eq!(decode_signature(&URL_SAFE_NO_PAD.encode([0u8; 63])), None);
        assert_eq!(decode_signature("%%%"), None);
        assert_eq!(decode_signature(""), None);
    }

    // --- payloads ---

    #[test]
    fn payloads_have_the_exact_fields_of_each_version() {
        let scopes = scopes();
        let f = fields(&scopes);
        let base = "dev|cli|cli|operator|operator.admin,operator.read|1700000000000|tok";
        let nonce = Some("nonce-1");
        assert_eq!(
            build_payload(PayloadVersion::V1, &f, "dev", NOW, nonce),
            format!("v1|{base}")
        );
        assert_eq!(
            build_payload(PayloadVersion::V2, &f, "dev", NOW, nonce),
            format!("v2|{base}|nonce-1")
        );
        assert_eq!(
            build_payload(PayloadVersion::V3, &f, "dev", NOW, nonce),
            format!("v3|{base}|nonce-1|macos 14.5|mac")
        );
        assert_eq!(
            build_payload(PayloadVersion::V4, &f, "dev", NOW, nonce),
            format!("v4|{base}|nonce-1|macos 14.5|mac|7c1d")
        );
    }

    #[test]
    fn missing_token_nonce_and_metadata_are_empty_fields() {
        let f = SignedFields {
            client_id: "gateway-client",
            client_mode: "backend",
            role: "node",
            scopes: &[],
            token: None,
            platform: None,
            device_family: None,
            instance_id: None,
        };
        assert_eq!(
            build_payload(PayloadVersion::V4, &f, "dev", 5, None),
            "v4|dev|gateway-client|backend|node||5|||||"
        );
        assert_eq!(
            build_payload(PayloadVersion::V1, &f, "dev", 5, None),
            "v1|dev|gateway-client|backend|node||5|"
        );
    }

    #[test]
    fn metadata_is_trimmed_like_javascript_and_lowercased_ascii_only() {
        let f = SignedFields {
            platform: Some("\u{feff}\tLinux 6.8\u{2003}"),
            device_family: Some("ÉCLAIR\u{85}"),
            instance_id: Some("\n Inst-A \r"),
            ..fields(&[])
        };
        let payload = build_payload(PayloadVersion::V4, &f, "d", 1, Some("n"));
        assert_eq!(
            payload,
            "v4|d|cli|cli|operator||1|tok|n|linux 6.8|Éclair\u{85}|Inst-A"
        );
    }

    #[test]
    fn our_signature_is_byte_identical_to_the_reference_runtime() {
        assert_eq!(rfc_keypair().sign(NODE_V3_PAYLOAD), NODE_V3_SIGNATURE);
    }

    // --- verification: acceptance ---

    #[test]
    fn accepts_a_correctly_signed_v4_v3_and_v2_payload() {
        let keypair = rfc_keypair();
        let scopes = scopes();
        let f = fields(&scopes);
        for version in [PayloadVersion::V4, PayloadVersion::V3, PayloadVersion::V2] {
            let signed = sign(&keypair, version, &f, NOW - 1_000, Some(NONCE));
            let verified =
                verify_device(&proof(&signed, NOW - 1_000, Some(NONCE)), &f, &remote_v4())
                    .unwrap_or_else(|e| panic!("{version}: {e}"));
            assert_eq!(verified.payload_version, version);
            assert_eq!(verified.device_id, RFC_DEVICE_ID);
            assert_eq!(verified.public_key, hex_bytes::<32>(RFC_PUBLIC_HEX));
            assert_eq!(verified.public_key_base64url, RFC_PUBLIC_B64URL);
        }
    }

    #[test]
    fn accepts_a_v3_signature_made_by_the_reference_runtime() {
        let scopes = scopes();
        let f = SignedFields {
            platform: Some("Linux"),
            device_family: Some("Linux"),
            instance_id: None,
            ..fields(&scopes)
        };
        let p = DeviceProof {
            id: RFC_DEVICE_ID,
            public_key: RFC_PUBLIC_B64URL,
            signature: NODE_V3_SIGNATURE,
            signed_at_ms: NOW,
            nonce: Some("nonce-1"),
        };
        let ctx = VerifyContext {
            challenge_nonce: "nonce-1",
            ..remote_v4()
        };
        assert_eq!(
            verify_device(&p, &f, &ctx).unwrap().payload_version,
            PayloadVersion::V3
        );
    }

    #[test]
    fn accepts_a_pem_spki_public_key_and_reports_the_normal_form() {
        let scopes = scopes();
        let f = fields(&scopes);
        let mut signed = sign(&rfc_keypair(), PayloadVersion::V4, &f, NOW, Some(NONCE));
        signed.public_key = NODE_PUBLIC_PEM.to_owned();
        let verified = verify_device(&proof(&signed, NOW, Some(NONCE)), &f, &remote_v4()).unwrap();
        assert_eq!(verified.public_key_base64url, RFC_PUBLIC_B64URL);
    }

    #[test]
    fn accepts_standard_base64_signature_and_padded_standard_base64_key() {
        let scopes = scopes();
        let f = fields(&scopes);
        let mut signed = sign(&rfc_keypair(), PayloadVersion::V4, &f, NOW, Some(NONCE));
        let raw = decode_signature(&signed.signature).unwrap();
        signed.signature = base64::engine::general_purpose::STANDARD.encode(raw);
        assert!(signed.signature.ends_with("=="));
        signed.public_key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".to_owned();
        let verified = verify_device(&proof(&signed, NOW, Some(NONCE)), &f, &remote_v4()).unwrap();
        assert_eq!(verified.payload_version, PayloadVersion::V4);
        assert_eq!(verified.public_key_base64url, RFC_PUBLIC_B64URL);
    }

    #[test]
    fn a_nonce_with_surrounding_whitespace_is_trimmed_before_comparing_and_verifying() {
        let scopes = scopes();
        let f = fields(&scopes);
        let signed = sign(&rfc_keypair(), PayloadVersion::V3, &f, NOW, Some(NONCE));
        let padded = format!(" {NONCE}\n");
        let verified =
            verify_device(&proof(&signed, NOW, Some(&padded)), &f, &remote_v4()).unwrap();
        assert_eq!(verified.payload_version, PayloadVersion::V3);
    }

    /// A v4 proof of the RFC key signed at `signed_at`, checked from a remote v4 client.
    fn verify_signed_at(signed_at: u64) -> Result<VerifiedDevice, DeviceAuthError> {
        let scopes = scopes();
        let f = fields(&scopes);
        let signed = sign(
            &rfc_keypair(),
            PayloadVersion::V4,
            &f,
            signed_at,
            Some(NONCE),
        );
        verify_device(&proof(&signed, signed_at, Some(NONCE)), &f, &remote_v4())
    }

    #[test]
    fn signed_at_exactly_ten_minutes_away_is_still_accepted() {
        for signed_at in [
            NOW - DEVICE_SIGNATURE_SKEW_MS,
            NOW + DEVICE_SIGNATURE_SKEW_MS,
        ] {
            assert!(verify_signed_at(signed_at).is_ok(), "signedAt {signed_at}");
        }
    }

    #[test]
    fn v1_is_accepted_only_from_loopback_without_a_nonce() {
        let scopes = scopes();
        let f = fields(&scopes);
        let signed = sign(&rfc_keypair(), PayloadVersion::V1, &f, NOW, None);

        let verified = verify_device(&proof(&signed, NOW, None), &f, &loopback_v3_era()).unwrap();
        assert_eq!(verified.payload_version, PayloadVersion::V1);

        // Same v1 signature, but a nonce was sent: only v2+ are tried.
        let with_nonce = verify_device(&proof(&signed, NOW, Some(NONCE)), &f, &loopback_v3_era());
        assert_eq!(with_nonce, Err(DeviceAuthError::SignatureInvalid));

        // Not loopback (nonce not required, to reach the signature check).
        let remote = VerifyContext {
            is_loopback: false,
            ..loopback_v3_era()
        };
        let from_remote = verify_device(&proof(&signed, NOW, None), &f, &remote);
        assert_eq!(from_remote, Err(DeviceAuthError::SignatureInvalid));

        // A protocol-v4 client on loopback must send a nonce.
        let v4_loopback = VerifyContext {
            is_loopback: true,
            ..remote_v4()
        };
        let v4 = verify_device(&proof(&signed, NOW, None), &f, &v4_loopback);
        assert_eq!(v4, Err(DeviceAuthError::NonceRequired));
    }

    #[test]
    fn loopback_without_nonce_also_accepts_newer_payloads_with_an_empty_nonce_field() {
        let scopes = scopes();
        let f = fields(&scopes);
        let signed = sign(&rfc_keypair(), PayloadVersion::V3, &f, NOW, None);
        let verified = verify_device(&proof(&signed, NOW, None), &f, &loopback_v3_era()).unwrap();
        assert_eq!(verified.payload_version, PayloadVersion::V3);
    }

    // --- verification: the six failures ---

    #[test]
    fn each_failure_has_the_exact_message_and_detail_code() {
        let table = [
            (
                DeviceAuthError::IdMismatch,
                "device identity mismatch",
                "DEVICE_AUTH_DEVICE_ID_MISMATCH",
            ),
            (
                DeviceAuthError::SignatureExpired,
                "device signature expired",
                "DEVICE_AUTH_SIGNATURE_EXPIRED",
            ),
            (
                DeviceAuthError::NonceRequired,
                "device nonce required",
                "DEVICE_AUTH_NONCE_REQUIRED",
            ),
            (
                DeviceAuthError::NonceMismatch,
                "device nonce mismatch",
                "DEVICE_AUTH_NONCE_MISMATCH",
            ),
            (
                DeviceAuthError::SignatureInvalid,
                "device signature invalid",
                "DEVICE_AUTH_SIGNATURE_INVALID",
            ),
            (
                DeviceAuthError::PublicKeyInvalid,
                "device public key invalid",
                "DEVICE_AUTH_PUBLIC_KEY_INVALID",
            ),
        ];
        for (error, message, code) in table {
            assert_eq!(error.message(), message);
            assert_eq!(error.to_string(), message);
            assert_eq!(error.detail_code(), code);
        }
    }

    #[test]
    fn id_that_is_not_the_hash_of_the_key_is_an_identity_mismatch() {
        let scopes = scopes();
        let f = fields(&scopes);
        let mut signed = sign(&rfc_keypair(), PayloadVersion::V4, &f, NOW, Some(NONCE));
        signed.id = DeviceKeypair::from_seed(&[9; 32]).device_id();
        let result = verify_device(&proof(&signed, NOW, Some(NONCE)), &f, &remote_v4());
        assert_eq!(result, Err(DeviceAuthError::IdMismatch));

        // Uppercase hex is not the same id.
        let mut upper = sign(&rfc_keypair(), PayloadVersion::V4, &f, NOW, Some(NONCE));
        upper.id = upper.id.to_uppercase();
        let result = verify_device(&proof(&upper, NOW, Some(NONCE)), &f, &remote_v4());
        assert_eq!(result, Err(DeviceAuthError::IdMismatch));
    }

    #[test]
    fn garbage_public_key_is_an_identity_mismatch() {
        let scopes = scopes();
        let f = fields(&scopes);
        for garbage in ["not a key!!", "", &URL_SAFE_NO_PAD.encode([1u8; 33])] {
            let mut signed = sign(&rfc_keypair(), PayloadVersion::V4, &f, NOW, Some(NONCE));
            signed.public_key = garbage.to_owned();
            let result = verify_device(&proof(&signed, NOW, Some(NONCE)), &f, &remote_v4());
            assert_eq!(result, Err(DeviceAuthError::IdMismatch), "{garbage:?}");
        }
    }

    #[test]
    fn signature_older_or_newer_than_ten_minutes_is_expired() {
        for signed_at in [
            NOW - DEVICE_SIGNATURE_SKEW_MS - 1,
            NOW + DEVICE_SIGNATURE_SKEW_MS + 1,
            0,
        ] {
            assert_eq!(
                verify_signed_at(signed_at),
                Err(DeviceAuthError::SignatureExpired),
                "signedAt {signed_at}"
            );
        }
    }

    #[test]
    fn missing_or_blank_nonce_is_required_when_the_context_requires_one() {
        let scopes = scopes();
        let f = fields(&scopes);
        let signed = sign(&rfc_keypair(), PayloadVersion::V4, &f, NOW, None);
        for nonce in [None, Some(""), Some("  \t")] {
            let result = verify_device(&proof(&signed, NOW, nonce), &f, &remote_v4());
            assert_eq!(result, Err(DeviceAuthError::NonceRequired), "{nonce:?}");
        }
    }

    #[test]
    fn nonce_other_than_the_challenge_is_a_mismatch_even_when_not_required() {
        let scopes = scopes();
        let f = fields(&scopes);
        let signed = sign(
            &rfc_keypair(),
            PayloadVersion::V4,
            &f,
            NOW,
            Some("stale-nonce"),
        );
        for ctx in [remote_v4(), loopback_v3_era()] {
            let result = verify_device(&proof(&signed, NOW, Some("stale-nonce")), &f, &ctx);
            assert_eq!(result, Err(DeviceAuthError::NonceMismatch));
        }
    }

    #[test]
    fn signature_by_another_key_is_invalid() {
        let scopes = scopes();
        let f = fields(&scopes);
        let ours = sign(&rfc_keypair(), PayloadVersion::V4, &f, NOW, Some(NONCE));
        let theirs = sign(
            &DeviceKeypair::from_seed(&[9; 32]),
            PayloadVersion::V4,
            &f,
            NOW,
            Some(NONCE),
        );
        let forged = Signed {
            signature: theirs.signature,
            ..ours
        };
        let result = verify_device(&proof(&forged, NOW, Some(NONCE)), &f, &remote_v4());
        assert_eq!(result, Err(DeviceAuthError::SignatureInvalid));
    }

    #[test]
    fn signature_over_different_fields_or_garbage_signature_is_invalid() {
        let scopes = scopes();
        let f = fields(&scopes);
        let signed = sign(&rfc_keypair(), PayloadVersion::V4, &f, NOW, Some(NONCE));

        let more_scopes = vec!["operator.admin".to_owned()];
        let tampered = SignedFields {
            scopes: &more_scopes,
            ..f
        };
        let result = verify_device(&proof(&signed, NOW, Some(NONCE)), &tampered, &remote_v4());
        assert_eq!(result, Err(DeviceAuthError::SignatureInvalid));

        // signedAt is inside the payload too.
        let result = verify_device(&proof(&signed, NOW + 1, Some(NONCE)), &f, &remote_v4());
        assert_eq!(result, Err(DeviceAuthError::SignatureInvalid));

        for garbage in ["", "%%%", &URL_SAFE_NO_PAD.encode([0u8; 64])] {
            let bad = Signed {
                signature: garbage.to_owned(),
                id: signed.id.clone(),
                public_key: signed.public_key.clone(),
            };
            let result = verify_device(&proof(&bad, NOW, Some(NONCE)), &f, &remote_v4());
            assert_eq!(
                result,
                Err(DeviceAuthError::SignatureInvalid),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn checks_run_in_the_spec_order() {
        let scopes = scopes();
        let f = fields(&scopes);
        let stale = NOW - DEVICE_SIGNATURE_SKEW_MS - 1;
        let mut signed = sign(&rfc_keypair(), PayloadVersion::V4, &f, stale, Some("wrong"));
        signed.signature = "garbage".to_owned();

        // Wrong id beats everything.
        let mut wrong_id = Signed {
            id: "00".repeat(32),
            ..signed
        };
        let result = verify_device(&proof(&wrong_id, stale, Some("wrong")), &f, &remote_v4());
        assert_eq!(result, Err(DeviceAuthError::IdMismatch));
        // Then expiry, then the nonce checks, then the signature.
        wrong_id.id = RFC_DEVICE_ID.to_owned();
        let signed = wrong_id;
        let result = verify_device(&proof(&signed, stale, Some("wrong")), &f, &remote_v4());
        assert_eq!(result, Err(DeviceAuthError::SignatureExpired));
        let result = verify_device(&proof(&signed, NOW, None), &f, &remote_v4());
        assert_eq!(result, Err(DeviceAuthError::NonceRequired));
        let result = verify_device(&proof(&signed, NOW, Some("wrong")), &f, &remote_v4());
        assert_eq!(result, Err(DeviceAuthError::NonceMismatch));
        let result = verify_device(&proof(&signed, NOW, Some(NONCE)), &f, &remote_v4());
        assert_eq!(result, Err(DeviceAuthError::SignatureInvalid));
    }

    /// A proof by the raw public key `raw` (its id derived from it) with `signature`.
    fn verify_raw_key(raw: &[u8; 32], signature: &[u8]) -> Result<VerifiedDevice, DeviceAuthError> {
        let id = device_id_for(raw);
        let key = public_key_base64url(raw);
        let signature = URL_SAFE_NO_PAD.encode(signature);
        let p = DeviceProof {
            id: &id,
            public_key: &key,
            signature: &signature,
            signed_at_ms: NOW,
            nonce: Some(NONCE),
        };
        let scopes = scopes();
        verify_device(&p, &fields(&scopes), &remote_v4())
    }

    #[test]
    fn a_key_that_is_not_a_curve_point_fails_the_signature_check() {
        // 32 bytes that do not decompress to an Ed25519 point: parses, derives an id, but cannot
        // verify anything, so it stops at check 5 (check 6 cannot fail once check 1 passed).
        let not_a_point = (0u8..=255)
            .map(|b| [b; 32])
            .find(|bytes| VerifyingKey::from_bytes(bytes).is_err())
            .unwrap();
        assert_eq!(
            verify_raw_key(&not_a_point, &[1u8; 64]),
            Err(DeviceAuthError::SignatureInvalid)
        );
    }

    #[test]
    fn weak_small_order_key_is_refused_by_strict_verification() {
        // The identity point as public key with R = identity and s = 0 satisfies the plain
        // (cofactorless) Ed25519 equation for every message; strict verification rejects it.
        let mut identity_point = [0u8; 32];
        identity_point[0] = 1;
        let mut forged = [0u8; 64];
        forged[0] = 1;
        assert_eq!(
            verify_raw_key(&identity_point, &forged),
            Err(DeviceAuthError::SignatureInvalid)
        );
    }

    // --- keypairs ---

    #[test]
    fn generated_keypairs_are_distinct_and_self_consistent() {
        let a = DeviceKeypair::generate().unwrap();
        let b = DeviceKeypair::generate().unwrap();
        assert_ne!(a.public_key(), b.public_key());
        let id = a.device_id();
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        assert_eq!(
            id,
            device_id_for(&parse_public_key(&a.public_key_base64url()).unwrap())
        );
        assert!(!format!("{a:?}").contains(&URL_SAFE_NO_PAD.encode(a.signing_key.to_bytes())));
    }

    #[test]
    fn pem_forms_match_what_the_reference_runtime_writes() {
        let keypair = rfc_keypair();
        assert_eq!(keypair.private_key_pem().as_deref(), Some(NODE_PRIVATE_PEM));
        assert_eq!(
            public_key_pem(&keypair.public_key()).as_deref(),
            Some(NODE_PUBLIC_PEM)
        );
        let read_back = DeviceKeypair::from_pkcs8_pem(NODE_PRIVATE_PEM).unwrap();
        assert_eq!(read_back.public_key(), keypair.public_key());
    }

    // --- gateway identity file ---

    fn write_identity_file(state: &Path, json: &str) -> PathBuf {
        let path = identity_file_path(state);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, json).unwrap();
        path
    }

    fn node_identity_json(device_id: &str, private_pem: &str) -> String {
        serde_json::json!({
            "version": 1,
            "deviceId": device_id,
            "publicKeyPem": NODE_PUBLIC_PEM,
            "privateKeyPem": private_pem,
            "createdAtMs": 1_690_000_000_000u64,
        })
        .to_string()
    }

    #[test]
    fn gateway_identity_is_created_0600_in_a_0700_dir_and_reused_on_the_next_load() {
        let state = tempfile::tempdir().unwrap();
        let state_dir = state.path().join("state");
        let created = GatewayIdentity::load_or_create(&state_dir, NOW).unwrap();
        let path = state_dir.join("identity").join("device.json");
        assert_eq!(identity_file_path(&state_dir), path);
        assert_eq!(file_mode(&path), Some(0o600));
        assert_eq!(file_mode(&state_dir.join("identity")), Some(0o700));
        assert_eq!(file_mode(&state_dir), Some(0o700));

        let text = fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "version",
                "deviceId",
                "publicKeyPem",
                "privateKeyPem",
                "createdAtMs"
            ]
        );
        assert_eq!(json["version"], 1);
        assert_eq!(json["deviceId"], created.device_id.as_str());
        assert_eq!(json["createdAtMs"], NOW);
        assert!(
            json["publicKeyPem"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        assert!(
            json["privateKeyPem"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(text.ends_with("}\n"));
        assert_eq!(created.device_id, created.keypair().device_id());
        assert_eq!(
            created.public_key_base64url,
            created.keypair().public_key_base64url()
        );
        assert_eq!(created.created_at_ms, NOW);

        let reloaded = GatewayIdentity::load_or_create(&state_dir, NOW + 60_000).unwrap();
        assert_eq!(reloaded.device_id, created.device_id);
        assert_eq!(reloaded.public_key_pem, created.public_key_pem);
        assert_eq!(
            reloaded.keypair().public_key(),
            created.keypair().public_key()
        );
        assert_eq!(reloaded.created_at_ms, NOW);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            text,
            "reuse does not rewrite"
        );
    }

    #[test]
    fn gateway_identity_signs_connects_that_verify() {
        let state = tempfile::tempdir().unwrap();
        let identity = GatewayIdentity::load_or_create(state.path(), NOW).unwrap();
        let scopes = scopes();
        let f = fields(&scopes);
        let payload = build_payload(
            PayloadVersion::V4,
            &f,
            &identity.device_id,
            NOW,
            Some(NONCE),
        );
        let signature = identity.keypair().sign(&payload);
        let p = DeviceProof {
            id: &identity.device_id,
            public_key: &identity.public_key_pem,
            signature: &signature,
            signed_at_ms: NOW,
            nonce: Some(NONCE),
        };
        let verified = verify_device(&p, &f, &remote_v4()).unwrap();
        assert_eq!(verified.public_key_base64url, identity.public_key_base64url);
    }

    #[test]
    fn identity_file_written_by_the_reference_gateway_is_reused() {
        let state = tempfile::tempdir().unwrap();
        write_identity_file(
            state.path(),
            &node_identity_json(RFC_DEVICE_ID, NODE_PRIVATE_PEM),
        );
        let identity = GatewayIdentity::load_or_create(state.path(), NOW).unwrap();
        assert_eq!(identity.device_id, RFC_DEVICE_ID);
        assert_eq!(identity.public_key_base64url, RFC_PUBLIC_B64URL);
        assert_eq!(identity.created_at_ms, 1_690_000_000_000);
        assert_eq!(identity.keypair().sign(NODE_V3_PAYLOAD), NODE_V3_SIGNATURE);
    }

    #[test]
    fn corrupt_identity_file_is_reported_with_its_path_and_left_untouched() {
        let state = tempfile::tempdir().unwrap();
        let good = node_identity_json(RFC_DEVICE_ID, NODE_PRIVATE_PEM);
        let cases = [
            ("{not json".to_owned(), "not a device identity JSON file"),
            (String::new(), "not a device identity JSON file"),
            (
                good.replace("\"version\":1", "\"version\":2"),
                "unsupported version 2",
            ),
            (
                good.replace("MCowBQYDK2VwAyEA", "MCowBQYDK2VuAyEA"),
                "publicKeyPem is not an Ed25519 SPKI PEM public key",
            ),
            (
                node_identity_json(
                    RFC_DEVICE_ID,
                    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                ),
                "privateKeyPem is not an Ed25519 PKCS#8 PEM private key",
            ),
            (
                node_identity_json(RFC_DEVICE_ID, &other_private_pem()),
                "privateKeyPem does not belong to publicKeyPem",
            ),
        ];
        for (content, reason) in cases {
            let path = write_identity_file(state.path(), &content);
            let err = GatewayIdentity::load_or_create(state.path(), NOW).unwrap_err();
            assert!(
                matches!(err, IdentityError::Corrupt { .. }),
                "{content}: {err}"
            );
            let message = err.to_string();
            assert!(message.contains(reason), "{message}");
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("move it aside"), "{message}");
            assert!(
                !message.contains("MC4CAQAw"),
                "never echoes the private key: {message}"
            );
            assert_eq!(
                fs::read_to_string(&path).unwrap(),
                content,
                "file untouched"
            );
        }
    }

    fn other_private_pem() -> String {
        DeviceKeypair::from_seed(&[9; 32])
            .private_key_pem()
            .unwrap()
    }

    #[test]
    fn identity_file_whose_device_id_does_not_match_its_key_is_an_error() {
        let state = tempfile::tempdir().unwrap();
        let wrong_id = "ab".repeat(32);
        let content = node_identity_json(&wrong_id, NODE_PRIVATE_PEM);
        let path = write_identity_file(state.path(), &content);
        let err = GatewayIdentity::load_or_create(state.path(), NOW).unwrap_err();
        match &err {
            IdentityError::DeviceIdMismatch {
                stored, derived, ..
            } => {
                assert_eq!(stored, &wrong_id);
                assert_eq!(derived, RFC_DEVICE_ID);
            }
            other => panic!("expected DeviceIdMismatch, got {other:?}"),
        }
        assert!(err.to_string().contains(&path.display().to_string()));
        assert_eq!(fs::read_to_string(&path).unwrap(), content);
    }

    #[test]
    fn unreadable_identity_file_is_a_read_error_not_a_new_identity() {
        let state = tempfile::tempdir().unwrap();
        let path = identity_file_path(state.path());
        fs::create_dir_all(path.join("in-the-way")).unwrap();
        let err = GatewayIdentity::load_or_create(state.path(), NOW).unwrap_err();
        assert!(matches!(err, IdentityError::Read { .. }), "{err}");
        assert!(err.to_string().contains(&path.display().to_string()));
        assert!(path.join("in-the-way").is_dir());
    }
}
