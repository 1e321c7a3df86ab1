//! Device tokens: issue once per role, verify, rotate within the approved ceiling, revoke.

use super::*;

impl PairingStore {
    /// The device's token for `role`, issuing one when it has none, it was revoked, or it does
    /// not carry every requested scope. The role and scopes must have been approved.
    pub fn ensure_token(
        &mut self,
        device_id: &str,
        role: &str,
        scopes: &[String],
        now_ms: u64,
    ) -> Result<DeviceToken> {
        let (device, role) = self.approved_device_role(device_id, role)?;
        let requested = normalize_scopes(scopes);
        if let Some(scope) =
            first_missing_scope(&role, &requested, &device.approved_scope_ceiling())
        {
            return Err(PairingStoreError::ScopeNotApproved { scope });
        }
        if let Some(current) = device.tokens.get(&role) {
            if current.revoked_at_ms.is_none()
                && first_missing_scope(&role, &requested, &current.scopes).is_none()
            {
                return Ok(current.issued());
            }
        }
        self.issue_token(device_id, &role, requested, false, now_ms)
    }

    /// Checks a presented device token for `role` in constant time, then its scopes.
    pub fn verify_token(
        &self,
        device_id: &str,
        role: &str,
        token: &str,
        requested_scopes: &[String],
    ) -> TokenCheck {
        let Some(device) = self.devices.record(device_id.trim()) else {
            return TokenCheck::DeviceNotPaired;
        };
        let role = role.trim();
        let Some(entry) = device.tokens.get(role) else {
            return TokenCheck::TokenMissing;
        };
        if entry.revoked_at_ms.is_some() {
            return TokenCheck::TokenRevoked;
        }
        if !entry.token.matches(token) {
            return TokenCheck::TokenMismatch;
        }
        match first_missing_scope(role, requested_scopes, &entry.scopes) {
            Some(missing_scope) => TokenCheck::ScopeMismatch { missing_scope },
            None => TokenCheck::Valid,
        }
    }

    /// Issues a new token for `role` (`device.token.rotate`). Without `scopes` the old token's
    /// scopes are kept (or, with no old token, the approved scopes of that role). The scopes must
    /// have been approved; rotation never widens a device's approval.
    pub fn rotate_token(
        &mut self,
        device_id: &str,
        role: &str,
        scopes: Option<&[String]>,
        now_ms: u64,
    ) -> Result<DeviceToken> {
        let requested = self.rotation_scopes(device_id, role, scopes)?;
        let role = role.trim();
        let record_scopes = scopes.is_some();
        self.issue_token(device_id, role, requested, record_scopes, now_ms)
    }

    /// The scopes [`rotate_token`](Self::rotate_token) would give the new token, checked
    /// against the approval ceiling; nothing is changed.
    pub fn rotation_scopes(
        &self,
        device_id: &str,
        role: &str,
        scopes: Option<&[String]>,
    ) -> Result<Vec<String>> {
        let (device, role) = self.approved_device_role(device_id, role)?;
        let ceiling = device.approved_scope_ceiling();
        let requested = match (scopes, device.tokens.get(&role)) {
            (Some(scopes), _) => normalize_scopes(scopes),
            (None, Some(current)) => current.scopes.clone(),
            (None, None) => {
                let prefix = format!("{role}.");
                ceiling
                    .iter()
                    .filter(|s| s.starts_with(&prefix))
                    .cloned()
                    .collect()
            }
        };
        if let Some(scope) = first_missing_scope(&role, &requested, &ceiling) {
            return Err(PairingStoreError::ScopeNotApproved { scope });
        }
        Ok(requested)
    }

    /// Revokes the device's token for `role` (`device.token.revoke`); the record keeps its
    /// metadata with `revokedAtMs`. A later [`ensure_token`](Self::ensure_token) issues a new one.
    pub fn revoke_token(
        &mut self,
        device_id: &str,
        role: &str,
        now_ms: u64,
    ) -> Result<DeviceTokenSummary> {
        let role = role.trim().to_owned();
        if role.is_empty() {
            return Err(PairingStoreError::RoleRequired);
        }
        let device = self.devices.update(device_id, |device| {
            let entry = device
                .tokens
                .get_mut(&role)
                .ok_or_else(|| PairingStoreError::UnknownToken { role: role.clone() })?;
            entry.revoked_at_ms = Some(now_ms);
            Ok(())
        })?;
        device
            .tokens
            .get(&role)
            .map(StoredDeviceToken::summary)
            .ok_or(PairingStoreError::UnknownToken { role })
    }

    pub(super) fn approved_device_role(
        &self,
        device_id: &str,
        role: &str,
    ) -> Result<(&StoredDevice, String)> {
        let device = self
            .devices
            .record(device_id)
            .ok_or_else(|| PairingStoreError::UnknownDeviceId(device_id.to_owned()))?;
        let role = role.trim();
        if role.is_empty() {
            return Err(PairingStoreError::RoleRequired);
        }
        if !device.approved_roles().iter().any(|r| r == role) {
            return Err(PairingStoreError::RoleNotApproved {
                role: role.to_owned(),
            });
        }
        Ok((device, role.to_owned()))
    }

    /// Replaces the device's token for `role`; with `record_scopes` (an explicit rotation) the
    /// scopes also become the device's current `scopes`, as upstream records them.
    pub(super) fn issue_token(
        &mut self,
        device_id: &str,
        role: &str,
        scopes: Vec<String>,
        record_scopes: bool,
        now_ms: u64,
    ) -> Result<DeviceToken> {
        let device = self.devices.update(device_id, |device| {
            if record_scopes {
                // Keep the approval ceiling when `scopes` (its legacy fallback) changes.
                if device.approved_scopes.is_none() {
                    device.approved_scopes = non_empty_vec(device.approved_scope_ceiling());
                }
                device.scopes = non_empty_vec(scopes.clone());
            }
            let token = StoredDeviceToken::issue(role, scopes, device.tokens.get(role), now_ms)?;
            device.tokens.insert(role.to_owned(), token);
            Ok(())
        })?;
        device
            .tokens
            .get(role)
            .map(StoredDeviceToken::issued)
            .ok_or_else(|| PairingStoreError::UnknownToken {
                role: role.to_owned(),
            })
    }

    // ----- nodes -------------------------------------------------------------------------------
}
