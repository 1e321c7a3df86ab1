//! One pending → paired ledger, the shape devices and nodes share: `<dir>/pending.json` (requests
//! waiting for an owner, keyed by request id, expiring [`PENDING_TTL_MS`] after their `ts`) and
//! `<dir>/paired.json` (approved records keyed by their id). Every change is written (0600,
//! atomically) before it becomes visible in memory, so a failed write leaves both agreeing on the
//! previous state. What differs between devices and nodes (how a request merges, what approval
//! issues) stays with them; rejecting, removing, renaming, listing and expiry are written once here.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::atomic_write::{
    PRIVATE_DIR_MODE, SECRET_FILE_MODE, create_dir_all_with_mode, write_atomic,
};

use super::{
    DevicePendingRequest, NodePendingRequest, PairedDevice, PairedNode, PairingStoreError, Result,
    StoredDevice, StoredNode, is_expired, prune,
};

/// A pending request of a ledger.
pub(super) trait PendingEntry: Clone + Serialize + DeserializeOwned {
    /// When it was made or last refreshed (ms).
    fn ts(&self) -> u64;
    /// Its id.
    fn request_id(&self) -> &str;
    /// The id of the record it asks to pair (the device's or node's id).
    fn subject_id(&self) -> &str;
}

/// A paired record of a ledger.
pub(super) trait PairedEntry: Clone + Serialize + DeserializeOwned {
    /// What callers see (no secret).
    type View;
    /// The record without its secrets.
    fn view(&self) -> Self::View;
    /// Its id (the map key).
    fn id(&self) -> &str;
    /// When it was (last) approved (ms).
    fn approved_at_ms(&self) -> u64;
    /// Sets the owner-chosen display name.
    fn set_display_name(&mut self, name: String);
}

/// Implements [`PendingEntry`] and [`PairedEntry`] for a request type and a record type that
/// name their fields alike (`ts`, `request_id`, the subject id, `approved_at_ms`,
/// `display_name`, an inherent `view()`).
macro_rules! ledger_entries {
    ($pending:ty, $record:ty => $view:ty, $id:ident) => {
        impl PendingEntry for $pending {
            fn ts(&self) -> u64 {
                self.ts
            }

            fn request_id(&self) -> &str {
                &self.request_id
            }

            fn subject_id(&self) -> &str {
                &self.$id
            }
        }

        impl PairedEntry for $record {
            type View = $view;

            fn view(&self) -> $view {
                <$record>::view(self)
            }

            fn id(&self) -> &str {
                &self.$id
            }

            fn approved_at_ms(&self) -> u64 {
                self.approved_at_ms
            }

            fn set_display_name(&mut self, name: String) {
                self.display_name = Some(name);
            }
        }
    };
}

ledger_entries!(DevicePendingRequest, StoredDevice => PairedDevice, device_id);
ledger_entries!(NodePendingRequest, StoredNode => PairedNode, node_id);

/// The requests and records of one ledger, and where they live.
#[derive(Debug)]
pub(super) struct Ledger<P, R> {
    dir: PathBuf,
    pending_path: PathBuf,
    paired_path: PathBuf,
    pending: BTreeMap<String, P>,
    paired: BTreeMap<String, R>,
    /// The error of an id that is not paired (`UnknownDeviceId` / `UnknownNodeId`).
    unknown: fn(String) -> PairingStoreError,
}

impl<P: PendingEntry, R: PairedEntry> Ledger<P, R> {
    /// Loads `<dir>/pending.json` and `<dir>/paired.json` (missing: empty; corrupt: an error,
    /// the file left untouched).
    pub(super) fn open(dir: PathBuf, unknown: fn(String) -> PairingStoreError) -> Result<Self> {
        let pending_path = dir.join("pending.json");
        let paired_path = dir.join("paired.json");
        Ok(Self {
            pending: load_json(&pending_path)?,
            paired: load_json(&paired_path)?,
            dir,
            pending_path,
            paired_path,
            unknown,
        })
    }

    /// The pending requests (expired ones included until the next change drops them).
    pub(super) fn pending(&self) -> &BTreeMap<String, P> {
        &self.pending
    }

    /// The paired records.
    pub(super) fn paired(&self) -> &BTreeMap<String, R> {
        &self.paired
    }

    /// The paired record of `id` (trimmed), if any.
    pub(super) fn record(&self, id: &str) -> Option<&R> {
        self.paired.get(id.trim())
    }

    /// Writes `next` as the pending requests, then holds it.
    pub(super) fn commit_pending(&mut self, next: BTreeMap<String, P>) -> Result<()> {
        save_json(&self.dir, &self.pending_path, &next)?;
        self.pending = next;
        Ok(())
    }

    /// Writes `next` as the paired records, then holds it.
    pub(super) fn commit_paired(&mut self, next: BTreeMap<String, R>) -> Result<()> {
        save_json(&self.dir, &self.paired_path, &next)?;
        self.paired = next;
        Ok(())
    }

    /// Drops expired requests; how many were dropped (nothing is written when none).
    pub(super) fn prune_expired(&mut self, now_ms: u64) -> Result<usize> {
        let mut next = self.pending.clone();
        let dropped = prune(&mut next, now_ms, P::ts);
        if dropped > 0 {
            self.commit_pending(next)?;
        }
        Ok(dropped)
    }

    /// Approves a pending (unexpired) request: `merge` builds the paired record from the request
    /// and the record it replaces, if any; the record is written, then the request dropped.
    pub(super) fn approve(
        &mut self,
        request_id: &str,
        now_ms: u64,
        merge: impl FnOnce(P, Option<&R>) -> Result<R>,
    ) -> Result<R> {
        let mut pending = self.pending.clone();
        prune(&mut pending, now_ms, P::ts);
        let request = pending
            .remove(request_id)
            .ok_or_else(|| PairingStoreError::UnknownRequestId(request_id.to_owned()))?;
        let mut paired = self.paired.clone();
        let subject = request.subject_id().to_owned();
        let existing = paired.remove(&subject);
        let record = merge(request, existing.as_ref())?;
        paired.insert(subject, record.clone());
        self.commit_paired(paired)?;
        self.commit_pending(pending)?;
        Ok(record)
    }

    /// The unexpired pending request `request_id`.
    pub(super) fn pending_request(&self, request_id: &str, now_ms: u64) -> Option<P> {
        self.pending
            .get(request_id)
            .filter(|r| !is_expired(r.ts(), now_ms))
            .cloned()
    }

    /// Drops a pending request and returns it.
    pub(super) fn reject(&mut self, request_id: &str) -> Result<P> {
        let mut next = self.pending.clone();
        let request = next
            .remove(request_id)
            .ok_or_else(|| PairingStoreError::UnknownRequestId(request_id.to_owned()))?;
        self.commit_pending(next)?;
        Ok(request)
    }

    /// Unpairs `id` (with whatever its record holds) and returns what was removed.
    pub(super) fn remove(&mut self, id: &str) -> Result<R::View> {
        let mut next = self.paired.clone();
        let record = next
            .remove(id.trim())
            .ok_or_else(|| (self.unknown)(id.to_owned()))?;
        self.commit_paired(next)?;
        Ok(record.view())
    }

    /// Changes the paired record of `id` with `change` and writes it; returns the new record.
    pub(super) fn update(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut R) -> Result<()>,
    ) -> Result<R> {
        let mut next = self.paired.clone();
        let record = next
            .get_mut(id.trim())
            .ok_or_else(|| (self.unknown)(id.to_owned()))?;
        change(record)?;
        let updated = record.clone();
        self.commit_paired(next)?;
        Ok(updated)
    }

    /// Sets the display name of `id` (trimmed, non-empty).
    pub(super) fn rename(&mut self, id: &str, display_name: &str) -> Result<R::View> {
        let name = display_name.trim();
        if name.is_empty() {
            return Err(PairingStoreError::DisplayNameRequired);
        }
        self.update(id, |record| {
            record.set_display_name(name.to_owned());
            Ok(())
        })
        .map(|record| record.view())
    }

    /// Unexpired requests (newest first) and paired records (latest approval first), as views.
    pub(super) fn list(&self, now_ms: u64) -> (Vec<P>, Vec<R::View>) {
        let mut pending: Vec<P> = self
            .pending
            .values()
            .filter(|r| !is_expired(r.ts(), now_ms))
            .cloned()
            .collect();
        pending.sort_by(|a, b| {
            b.ts()
                .cmp(&a.ts())
                .then_with(|| a.request_id().cmp(b.request_id()))
        });
        let mut paired: Vec<&R> = self.paired.values().collect();
        paired.sort_by(|a, b| {
            b.approved_at_ms()
                .cmp(&a.approved_at_ms())
                .then_with(|| a.id().cmp(b.id()))
        });
        (pending, paired.into_iter().map(R::view).collect())
    }
}

fn load_json<T: DeserializeOwned + Default>(path: &Path) -> Result<T> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| PairingStoreError::Corrupt {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
        Err(source) => Err(PairingStoreError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn save_json<T: Serialize>(dir: &Path, path: &Path, value: &T) -> Result<()> {
    create_dir_all_with_mode(dir, PRIVATE_DIR_MODE).map_err(|source| {
        PairingStoreError::CreateDir {
            path: dir.to_owned(),
            source,
        }
    })?;
    let write_error = |source| PairingStoreError::Write {
        path: path.to_owned(),
        source,
    };
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| write_error(io::Error::other(e)))?;
    bytes.push(b'\n');
    write_atomic(path, &bytes, SECRET_FILE_MODE).map_err(write_error)
}
