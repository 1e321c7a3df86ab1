// The Control UI shell: the token (from the URL fragment once, then this tab's
// sessionStorage, or a paste form), the gateway connection and its state line, and the views,
// each shown only when the connection may call what it needs.

import { Gateway } from './gateway.js';
import { h, replace } from './dom.js';
import * as overview from './view-overview.js';
import * as chat from './view-chat.js';
import * as devices from './view-devices.js';
import * as logs from './view-logs.js';
import * as config from './view-config.js';

const VIEWS = { '': overview, chat, devices, logs, config };
const TOKEN_KEY = 'openclaw.token';
const view = document.getElementById('view');
const nav = document.getElementById('nav');
const conn = document.getElementById('conn');
const base = new URL(document.baseURI);
let gw = null;
let unmount = null;

/** The token of `#token=…` (then removed from the address bar), else this tab's stored one. */
function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromUrl = fragment.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    fragment.delete('token');
    const rest = fragment.toString();
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function route() {
  const rel = location.pathname.startsWith(base.pathname) ? location.pathname.slice(base.pathname.length) : '';
  const name = rel.split('/')[0];
  return name in VIEWS ? name : '';
}

function allowed(v) {
  return v.needs.every(([method, scope]) => gw.allows(method, scope));
}

function go(name) {
  history.pushState(null, '', new URL(name, base).pathname);
  show();
}

function renderNav() {
  replace(nav, Object.entries(VIEWS).filter(([, v]) => gw && gw.hello && allowed(v)).map(([name, v]) =>
    h('a', { href: new URL(name, base).pathname, 'aria-current': route() === name ? 'page' : null,
      onclick: (e) => { if (e.button === 0 && !e.metaKey && !e.ctrlKey) { e.preventDefault(); go(name); } } }, v.title)));
}

function show() {
  if (unmount) unmount();
  unmount = null;
  renderNav();
  if (!gw || !gw.hello) return;
  const v = VIEWS[route()];
  if (!allowed(v)) {
    replace(view, h('h1', {}, v.title), h('p', { class: 'error', role: 'alert' },
      `This connection may not use ${v.title}: it needs ${v.needs.map(([m, s]) => `${m} (${s})`).join(', ')}.`));
    return;
  }
  document.title = `${v.title} · OpenClaw`;
  unmount = v.mount(view, gw);
}

function tokenForm(message) {
  if (unmount) unmount();
  unmount = null;
  replace(nav);
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', required: true, 'aria-describedby': 'token-help' });
  replace(view, h('form', { class: 'token-form', onsubmit: (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    start();
  } },
  h('h1', {}, 'Connect to the gateway'),
  message ? h('p', { class: 'error', role: 'alert' }, message) : null,
  h('label', { for: 'token' }, 'Gateway token'), input,
  h('p', { id: 'token-help', class: 'muted' }, 'Run ', h('code', {}, 'openclaw dashboard'),
    ' on the gateway host to open this page with its token, or paste gateway.auth.token here. It is kept in this tab only.'),
  h('button', { type: 'submit', class: 'primary' }, 'Connect')));
  input.focus();
}

function onState(e) {
  const d = e.detail;
  conn.dataset.state = d.state;
  const text = {
    connecting: 'connecting…',
    connected: 'connected',
    reconnecting: d.inMs ? `disconnected, retrying in ${(d.inMs / 1000).toFixed(1)} s` : 'reconnecting…',
    pairing: 'pairing required',
    failed: 'not connected',
  }[d.state] || d.state;
  replace(conn, text);
  if (d.state === 'connected') show();
  if (d.state === 'pairing') {
    if (unmount) unmount();
    unmount = null;
    replace(view, h('section', { class: 'pairing', role: 'alert' }, h('h1', {}, 'Pairing required'),
      h('p', {}, 'This browser is a new device for the gateway. Approve it on the gateway host:'),
      h('pre', {}, `openclaw gateway call device.pair.approve --params '{"requestId":"${d.requestId}"}'`),
      h('p', { class: 'muted' }, 'or from the Devices view of a Control UI opened on the gateway host. This page connects by itself once approved.')));
  }
  if (d.state === 'failed') {
    const auth = (d.code || '').startsWith('AUTH_');
    if (auth) {
      sessionStorage.removeItem(TOKEN_KEY);
      tokenForm(d.message);
    } else {
      replace(view, h('section', { role: 'alert' }, h('h1', {}, 'Cannot connect'), h('p', { class: 'error' }, d.message)));
    }
  }
}

function start() {
  const token = takeToken();
  if (!token) return tokenForm();
  const ws = new URL('/', location.href);
  ws.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (gw) gw.ws && gw.ws.close();
  gw = new Gateway(ws.href, token);
  gw.on('state', onState);
  gw.start();
}

window.addEventListener('popstate', show);
start();
