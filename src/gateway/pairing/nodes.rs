//! Node pairing: request, approve (issuing the node token), reject, remove, verify, rename, list.

use super::*;

impl PairingStore {
    /// Creates a pending request for the node, or refreshes its pending one (`node.pair.request`).
    ///
    /// Returns the request and whether it is new (broadcast `node.pair.requested` only then). A
    /// pending request declaring the same commands, caps and permissions keeps its `requestId`;
    /// a different declaration replaces it with a new request.
    pub fn node_request(
        &mut self,
        input: NodePairingInput,
        now_ms: u64,
    ) -> Result<(NodePendingRequest, bool)> {
        let node_id = input.node_id.trim().to_owned();
        if node_id.is_empty() {
            return Err(PairingStoreError::NodeIdRequired);
        }
        let is_repair = self.nodes.paired().contains_key(&node_id);
        let mut pending = self.nodes.pending().clone();
        prune(&mut pending, now_ms, |r| r.ts);
        let mut existing: Vec<NodePendingRequest> = pending
            .values()
            .filter(|r| r.node_id == node_id)
            .cloned()
            .collect();
        existing.sort_by(|a, b| {
            b.ts.cmp(&a.ts)
                .then_with(|| a.request_id.cmp(&b.request_id))
        });

        let (request_id, is_new, silent) = match existing.as_slice() {
            [only] if same_node_surface(only, &input) => (
                only.request_id.clone(),
                false,
                input.silent && only.silent == Some(true),
            ),
            _ => {
                for old in &existing {
                    pending.remove(&old.request_id);
                }
                let silent = input.silent && existing.iter().all(|r| r.silent == Some(true));
                (new_request_id()?, true, silent)
            }
        };
        let previous = existing.first().filter(|_| !is_new);
        let keep = |new: Option<String>, old: Option<&Option<String>>| {
            new.or_else(|| old.cloned().flatten())
        };
        let request = NodePendingRequest {
            request_id,
            node_id,
            display_name: keep(input.display_name, previous.map(|r| &r.display_name)),
            platform: keep(input.platform, previous.map(|r| &r.platform)),
            version: keep(input.version, previous.map(|r| &r.version)),
            core_version: keep(input.core_version, previous.map(|r| &r.core_version)),
            ui_version: keep(input.ui_version, previous.map(|r| &r.ui_version)),
            device_family: keep(input.device_family, previous.map(|r| &r.device_family)),
            model_identifier: keep(
                input.model_identifier,
                previous.map(|r| &r.model_identifier),
            ),
            caps: input.caps,
            commands: input.commands,
            permissions: input.permissions,
            remote_ip: keep(input.remote_ip, previous.map(|r| &r.remote_ip)),
            silent: silent_flag(silent),
            is_repair: Some(is_repair),
            ts: now_ms,
        };
        pending.insert(request.request_id.clone(), request.clone());
        self.nodes.commit_pending(pending)?;
        Ok((request, is_new))
    }

    /// Approves a pending node request and issues the node a new token (`node.pair.approve`).
    /// The token is returned once here, for delivery to the node; lists never show it.
    pub fn node_approve(&mut self, request_id: &str, now_ms: u64) -> Result<NodeApproval> {
        self.nodes
            .approve(request_id, now_ms, |request, existing| {
                Ok(StoredNode {
                    node_id: request.node_id.clone(),
                    token: SecretToken::generate()?,
                    // A name an owner gave the node wins over the one the node reports.
                    display_name: existing
                        .and_then(|n| n.display_name.clone())
                        .or(request.display_name),
                    platform: request.platform,
                    version: request.version,
                    core_version: request.core_version,
                    ui_version: request.ui_version,
                    device_family: request.device_family,
                    model_identifier: request.model_identifier,
                    caps: request.caps,
                    commands: request.commands,
                    permissions: request.permissions,
                    remote_ip: request.remote_ip,
                    bins: existing.and_then(|n| n.bins.clone()),
                    created_at_ms: existing.map_or(now_ms, |n| n.created_at_ms),
                    approved_at_ms: now_ms,
                    last_connected_at_ms: existing.and_then(|n| n.last_connected_at_ms),
                    extra: existing.map(|n| n.extra.clone()).unwrap_or_default(),
                })
            })
            .map(|node| NodeApproval {
                node: node.view(),
                token: node.token.clone(),
            })
    }

    /// The unexpired pending node request `request_id`.
    pub fn pending_node(&self, request_id: &str, now_ms: u64) -> Option<NodePendingRequest> {
        self.nodes.pending_request(request_id, now_ms)
    }

    /// Rejects (drops) a pending node request; returns it for `node.pair.resolved`.
    pub fn node_reject(&mut self, request_id: &str) -> Result<NodePendingRequest> {
        self.nodes.reject(request_id)
    }

    /// Unpairs a node (`node.pair.remove`); returns what was removed.
    pub fn node_remove(&mut self, node_id: &str) -> Result<PairedNode> {
        self.nodes.remove(node_id)
    }

    /// Whether `token` is the paired node's token (constant-time; `node.pair.verify`).
    pub fn node_verify(&self, node_id: &str, token: &str) -> bool {
        self.nodes
            .record(node_id)
            .is_some_and(|node| node.token.matches(token))
    }

    /// Sets a paired node's display name (trimmed, non-empty; `node.rename`).
    pub fn node_rename(&mut self, node_id: &str, display_name: &str) -> Result<PairedNode> {
        self.nodes.rename(node_id, display_name)
    }

    /// Unexpired pending requests and paired nodes, tokens redacted (`node.pair.list`).
    pub fn node_list(&self, now_ms: u64) -> NodePairingList {
        let (pending, paired) = self.nodes.list(now_ms);
        NodePairingList { pending, paired }
    }

    /// One paired node, token redacted.
    pub fn get_node(&self, node_id: &str) -> Option<PairedNode> {
        self.nodes.record(node_id).map(StoredNode::view)
    }
}
