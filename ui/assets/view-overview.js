// Overview: version, uptime, bind, auth mode, health, channels and connected clients, live
// from `health` and `presence` events (refetched on a seq gap).

import { ago, duration, errorLine, h, replace, table } from './dom.js';

export const title = 'Overview';
export const needs = [['health', 'operator.read']];

export function mount(root, gw) {
  const hello = gw.hello;
  let health = hello.snapshot.health || {};
  let presence = hello.snapshot.presence || [];
  const uptimeBase = { ms: hello.snapshot.uptimeMs || 0, at: Date.now() };
  const status = h('section', { class: 'cards' });
  const channels = h('section');
  const clients = h('section');
  const problem = h('div');
  replace(root, h('h1', {}, 'Overview'), problem, status, channels, clients);

  const render = () => {
    const ok = health.ok !== false;
    const url = new URL(gw.url);
    replace(status,
      card('Gateway', hello.server.version, `connection ${hello.server.connId.slice(0, 8)}`),
      card('Uptime', duration(uptimeBase.ms + Date.now() - uptimeBase.at), 'since start'),
      card('Bind', `${url.hostname}:${url.port || (url.protocol === 'wss:' ? 443 : 80)}`, `auth ${hello.snapshot.authMode || '—'}`),
      card('Health', ok ? 'ok' : 'degraded', health.ts ? `checked ${ago(health.ts)}` : 'not checked yet', ok ? 'good' : 'bad'),
    );
    const ch = health.channels || {};
    const order = health.channelOrder && health.channelOrder.length ? health.channelOrder : Object.keys(ch);
    replace(channels, h('h2', {}, 'Channels'), table(['Channel', 'State'], order.map((id) => {
      const c = ch[id] || {};
      const label = (health.channelLabels && health.channelLabels[id]) || id;
      const state = c.linked === false ? 'not linked' : c.configured === false ? 'not configured' : c.running === false ? 'stopped' : 'ok';
      return [label, state];
    })));
    replace(clients, h('h2', {}, 'Connected clients'), table(['Host', 'Mode', 'Version', 'Last seen'],
      presence.map((p) => [p.host || p.instanceId || '—', p.mode || '—', p.version || '—', ago(p.ts)])));
  };

  const refresh = async () => {
    try {
      health = await gw.request('health');
      if (gw.allows('system-presence', 'operator.read')) presence = await gw.request('system-presence');
      replace(problem);
      render();
    } catch (e) {
      replace(problem, errorLine(e));
    }
  };

  render();
  const stops = [
    gw.on('event:health', (e) => { health = e.detail; render(); }),
    gw.on('event:presence', (e) => { presence = (e.detail && e.detail.presence) || presence; render(); }),
    gw.on('gap', refresh),
  ];
  const clock = setInterval(render, 1000);
  return () => { stops.forEach((s) => s()); clearInterval(clock); };
}

function card(label, value, sub, tone) {
  return h('div', { class: `card ${tone || ''}` }, h('div', { class: 'label' }, label),
    h('div', { class: 'value', 'data-field': label.toLowerCase() }, value), h('div', { class: 'sub' }, sub));
}
