//! Device pairing: check, request, approve, reject, remove, rename, list.

use super::*;

impl PairingStore {
    /// Whether the device is paired with this public key for `role` and `scopes`.
    pub fn check(
        &self,
        device_id: &str,
        public_key: &str,
        role: &str,
        scopes: &[String],
    ) -> PairingCheck {
        let Some(device) = self.devices.record(device_id.trim()) else {
            return PairingCheck::NotPaired;
        };
        if device.public_key != public_key.trim() {
            return PairingCheck::PublicKeyMismatch;
        }
        let role = role.trim();
        let approved_roles = device.approved_roles();
        if !approved_roles.iter().any(|r| r == role) {
            return PairingCheck::RoleUpgrade { approved_roles };
        }
        let approved_scopes = device.approved_scope_ceiling();
        match first_missing_scope(role, scopes, &approved_scopes) {
            Some(missing_scope) => PairingCheck::ScopeUpgrade {
                approved_scopes,
                missing_scope,
            },
            None => PairingCheck::Paired,
        }
    }

    /// Creates a pending request for the device, or refreshes its pending one.
    ///
    /// Returns the request and whether it is new (broadcast `device.pair.requested` only then).
    /// A pending request that already covers the input keeps its `requestId` and gets the new
    /// metadata and `ts`; one that does not is replaced by a new request merging both.
    pub fn request(
        &mut self,
        input: DevicePairingInput,
        now_ms: u64,
    ) -> Result<(DevicePendingRequest, bool)> {
        let device_id = input.device_id.trim().to_owned();
        if device_id.is_empty() {
            return Err(PairingStoreError::DeviceIdRequired);
        }
        let public_key = input.public_key.trim().to_owned();
        if public_key.is_empty() {
            return Err(PairingStoreError::PublicKeyRequired);
        }
        let role = non_empty(input.role);
        let scopes = normalize_scopes(&input.scopes);
        let is_repair = self.devices.paired().contains_key(&device_id);

        let mut pending = self.devices.pending().clone();
        prune(&mut pending, now_ms, |r| r.ts);
        let mut existing: Vec<DevicePendingRequest> = pending
            .values()
            .filter(|r| r.device_id == device_id)
            .cloned()
            .collect();
        existing.sort_by(|a, b| {
            b.ts.cmp(&a.ts)
                .then_with(|| a.request_id.cmp(&b.request_id))
        });

        let (request, is_new) = match existing.as_slice() {
            [only] if device_request_covers(only, &public_key, role.as_deref(), &scopes) => {
                let mut refreshed = only.clone();
                refreshed.display_name = input.display_name.or(refreshed.display_name);
                refreshed.platform = input.platform.or(refreshed.platform);
                refreshed.device_family = input.device_family.or(refreshed.device_family);
                refreshed.client_id = input.client_id.or(refreshed.client_id);
                refreshed.client_mode = input.client_mode.or(refreshed.client_mode);
                refreshed.role = role.or(refreshed.role);
                refreshed.remote_ip = input.remote_ip.or(refreshed.remote_ip);
                refreshed.silent = silent_flag(input.silent && only.silent == Some(true));
                refreshed.is_repair = Some(is_repair);
                refreshed.ts = now_ms;
                (refreshed, false)
            }
            _ => {
                for old in &existing {
                    pending.remove(&old.request_id);
                }
                let roles = union(
                    existing
                        .iter()
                        .flat_map(|r| [r.roles.as_deref(), r.role.as_slice().into()])
                        .chain([role.as_slice().into()]),
                );
                let scopes = union(
                    existing
                        .iter()
                        .map(|r| r.scopes.as_deref())
                        .chain([Some(scopes.as_slice())]),
                );
                let silent = input.silent && existing.iter().all(|r| r.silent == Some(true));
                let request = DevicePendingRequest {
                    request_id: new_request_id()?,
                    device_id: device_id.clone(),
                    public_key,
                    display_name: input.display_name,
                    platform: input.platform,
                    device_family: input.device_family,
                    client_id: input.client_id,
                    client_mode: input.client_mode,
                    role: role.or_else(|| existing.first().and_then(|r| r.role.clone())),
                    roles: non_empty_vec(roles),
                    scopes: non_empty_vec(scopes),
                    remote_ip: input.remote_ip,
                    silent: silent_flag(silent),
                    is_repair: Some(is_repair),
                    ts: now_ms,
                };
                (request, true)
            }
        };
        pending.insert(request.request_id.clone(), request.clone());
        self.devices.commit_pending(pending)?;
        Ok((request, is_new))
    }

    /// Approves a pending device request: merges its roles and scopes into the paired record
    /// and issues a fresh token for the request's role (replacing that role's old token).
    pub fn approve(&mut self, request_id: &str, now_ms: u64) -> Result<PairedDevice> {
        self.devices
            .approve(request_id, now_ms, |request, existing| {
                let roles = union([
                    existing.and_then(|d| d.roles.as_deref()),
                    existing.map(|d| d.role.as_slice()),
                    request.roles.as_deref(),
                    request.role.as_slice().into(),
                ]);
                let scopes = union([
                    existing.and_then(|d| d.scopes.as_deref()),
                    request.scopes.as_deref(),
                ]);
                let approved_scopes = union([
                    existing.and_then(|d| d.approved_scopes.as_deref()),
                    existing.and_then(|d| d.scopes.as_deref()),
                    request.scopes.as_deref(),
                ]);
                let mut tokens = existing.map(|d| d.tokens.clone()).unwrap_or_default();
                if let Some(role) = request.role.as_deref() {
                    let token_scopes =
                        normalize_scopes(request.scopes.as_deref().unwrap_or_default());
                    let token =
                        StoredDeviceToken::issue(role, token_scopes, tokens.get(role), now_ms)?;
                    tokens.insert(role.to_owned(), token);
                }
                let keep = |new: &Option<String>, old: Option<&Option<String>>| {
                    new.clone().or_else(|| old.cloned().flatten())
                };
                Ok(StoredDevice {
                    device_id: request.device_id.clone(),
                    public_key: request.public_key.clone(),
                    // A name an owner gave the device wins over the one the client reports.
                    display_name: existing
                        .and_then(|d| d.display_name.clone())
                        .or_else(|| request.display_name.clone()),
                    platform: keep(&request.platform, existing.map(|d| &d.platform)),
                    device_family: keep(&request.device_family, existing.map(|d| &d.device_family)),
                    client_id: keep(&request.client_id, existing.map(|d| &d.client_id)),
                    client_mode: keep(&request.client_mode, existing.map(|d| &d.client_mode)),
                    role: keep(&request.role, existing.map(|d| &d.role)),
                    roles: non_empty_vec(roles),
                    scopes: non_empty_vec(scopes),
                    approved_scopes: non_empty_vec(approved_scopes),
                    remote_ip: keep(&request.remote_ip, existing.map(|d| &d.remote_ip)),
                    tokens,
                    created_at_ms: existing.map_or(now_ms, |d| d.created_at_ms),
                    approved_at_ms: now_ms,
                    extra: existing.map(|d| d.extra.clone()).unwrap_or_default(),
                })
            })
            .map(|device| device.view())
    }

    /// The unexpired pending device request `request_id`.
    pub fn pending_device(&self, request_id: &str, now_ms: u64) -> Option<DevicePendingRequest> {
        self.devices.pending_request(request_id, now_ms)
    }

    /// Rejects (drops) a pending device request; returns it for `device.pair.resolved`.
    pub fn reject(&mut self, request_id: &str) -> Result<DevicePendingRequest> {
        self.devices.reject(request_id)
    }

    /// Unpairs a device (its tokens go with it); returns what was removed.
    pub fn remove_device(&mut self, device_id: &str) -> Result<PairedDevice> {
        self.devices.remove(device_id)
    }

    /// Sets a paired device's display name (trimmed, non-empty).
    pub fn rename_device(&mut self, device_id: &str, display_name: &str) -> Result<PairedDevice> {
        self.devices.rename(device_id, display_name)
    }

    /// Unexpired pending requests and paired devices, tokens redacted.
    pub fn list(&self, now_ms: u64) -> DevicePairingList {
        let (pending, paired) = self.devices.list(now_ms);
        DevicePairingList { pending, paired }
    }

    /// One paired device, tokens redacted.
    pub fn get_device(&self, device_id: &str) -> Option<PairedDevice> {
        self.devices.record(device_id).map(StoredDevice::view)
    }
}
