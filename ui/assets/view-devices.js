// Devices and nodes: pending requests (approve / reject) and paired records (remove), live from
// the pairing events; the node list with its connection state.

import { ago, errorLine, h, replace, table } from './dom.js';

export const title = 'Devices & nodes';
export const needs = [['device.pair.list', 'operator.pairing']];

export function mount(root, gw) {
  const problem = h('div');
  const devices = h('section');
  const nodes = h('section');
  replace(root, h('h1', {}, 'Devices & nodes'), problem, devices, nodes);

  const act = (method, params) => async (e) => {
    e.target.disabled = true;
    try {
      await gw.request(method, params);
      replace(problem);
    } catch (err) {
      replace(problem, errorLine(err));
    }
    load();
  };

  const who = (d) => d.displayName || d.clientId || (d.deviceId || d.nodeId || '').slice(0, 12);

  async function load() {
    try {
      const res = await gw.request('device.pair.list');
      const pending = res.pending || [];
      const paired = res.paired || [];
      replace(devices,
        h('h2', {}, `Pending devices (${pending.length})`),
        table(['Device', 'Role / scopes', 'From', 'Asked', ''], pending.map((p) => [
          h('span', { title: p.deviceId }, who(p)),
          `${p.role || (p.roles || []).join(', ')}${p.scopes && p.scopes.length ? ` · ${p.scopes.join(', ')}` : ''}`,
          p.remoteIp || 'local',
          ago(p.ts),
          h('span', { class: 'row-actions' },
            h('button', { type: 'button', class: 'primary', 'data-action': 'approve', onclick: act('device.pair.approve', { requestId: p.requestId }) }, 'Approve'),
            h('button', { type: 'button', 'data-action': 'reject', onclick: act('device.pair.reject', { requestId: p.requestId }) }, 'Reject')),
        ])),
        h('h2', {}, `Paired devices (${paired.length})`),
        table(['Device', 'Roles', 'Platform', 'Paired', ''], paired.map((d) => [
          h('span', { title: d.deviceId }, who(d), d.deviceId === gw.deviceId ? ' (this browser)' : ''),
          (d.roles || [d.role]).filter(Boolean).join(', '),
          d.platform || '—',
          ago(d.approvedAtMs || d.createdAtMs),
          h('button', { type: 'button', 'data-action': 'remove', onclick: act('device.pair.remove', { deviceId: d.deviceId }) }, 'Remove'),
        ])));
    } catch (e) {
      replace(problem, errorLine(e));
    }
    if (!gw.allows('node.list', 'operator.read')) return;
    try {
      const res = await gw.request('node.list');
      replace(nodes, h('h2', {}, 'Nodes'), table(['Node', 'Platform', 'State', 'Commands', ''], (res.nodes || []).map((n) => [
        h('span', { title: n.nodeId }, n.displayName || n.nodeId),
        n.platform || '—',
        n.connected ? 'connected' : n.paired ? `offline, seen ${ago(n.lastSeenAtMs)}` : 'not paired',
        (n.commands || []).join(', ') || '—',
        n.paired ? h('button', { type: 'button', onclick: act('node.pair.remove', { nodeId: n.nodeId }) }, 'Remove') : '',
      ])));
    } catch (e) {
      replace(nodes, errorLine(e));
    }
  }

  load();
  const stops = ['device.pair.requested', 'device.pair.resolved', 'node.pair.requested', 'node.pair.resolved']
    .map((name) => gw.on(`event:${name}`, load));
  stops.push(gw.on('gap', load));
  return () => stops.forEach((s) => s());
}
