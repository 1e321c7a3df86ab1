// The browser's device identity: an Ed25519 key pair made with WebCrypto, the private key
// non-extractable, kept in IndexedDB; the device id is the hex SHA-256 of the raw public key
// (gateway-protocol.md §2.4).

const DB = 'openclaw-control-ui';
const STORE = 'identity';
const KEY = 'device';

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function tx(db, mode, run) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const req = run(t.objectStore(STORE));
    t.oncomplete = () => resolve(req && req.result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export function base64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Why this browser cannot hold a device identity, or null. */
export function unsupported() {
  if (!window.isSecureContext || !crypto.subtle) {
    return 'control ui requires device identity (use HTTPS or localhost secure context)';
  }
  if (!window.indexedDB) return 'this browser has no IndexedDB to keep the device identity in';
  return null;
}

/** The stored identity, made and stored on first use: {deviceId, publicKey, privateKey}. */
export async function loadIdentity() {
  const db = await openDb();
  try {
    const stored = await tx(db, 'readonly', (s) => s.get(KEY));
    if (stored && stored.privateKey && stored.publicKey && stored.deviceId) return stored;
    const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const raw = await crypto.subtle.exportKey('raw', pair.publicKey);
    const identity = {
      deviceId: hex(await crypto.subtle.digest('SHA-256', raw)),
      publicKey: base64url(raw),
      privateKey: pair.privateKey,
      createdAtMs: Date.now(),
    };
    await tx(db, 'readwrite', (s) => s.put(identity, KEY));
    return identity;
  } finally {
    db.close();
  }
}

/** base64url Ed25519 signature of `text` (UTF-8). */
export async function sign(identity, text) {
  const sig = await crypto.subtle.sign({ name: 'Ed25519' }, identity.privateKey, new TextEncoder().encode(text));
  return base64url(sig);
}
