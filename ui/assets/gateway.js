// The gateway connection of the Control UI: the challenge, a signed connect as
// `openclaw-control-ui`, requests by id, events by name, reconnect with backoff, and a `gap`
// event when an event `seq` was skipped (the views then reload what they show).

import { loadIdentity, sign, unsupported } from './identity.js';

export const PROTOCOL = 4;
const CLIENT_ID = 'openclaw-control-ui';
const CLIENT_MODE = 'ui';
const PLATFORM = 'web';
const ROLE = 'operator';
const SCOPES = ['operator.admin', 'operator.read', 'operator.write', 'operator.approvals', 'operator.pairing'];
const BACKOFF_MS = [500, 1000, 2000, 5000, 10000];
const REQUEST_TIMEOUT_MS = 30000;

/** Errors that another try with the same credentials cannot fix. */
function fatal(error) {
  const code = (error && error.details && error.details.code) || '';
  return code.startsWith('AUTH_') || code === 'CONTROL_UI_ORIGIN_NOT_ALLOWED' || code.startsWith('DEVICE_AUTH_');
}

function pairingRequired(error) {
  const code = error && ((error.details && error.details.code) || error.code);
  return code === 'PAIRING_REQUIRED' || code === 'NOT_PAIRED';
}

export class Gateway extends EventTarget {
  constructor(url, token) {
    super();
    this.url = url;
    this.token = token;
    this.instanceId = sessionStorage.getItem('openclaw.instanceId') || crypto.randomUUID();
    sessionStorage.setItem('openclaw.instanceId', this.instanceId);
    this.state = 'idle';
    this.hello = null;
    this.pending = new Map();
    this.nextId = 1;
    this.attempt = 0;
    this.lastSeq = null;
    this.ws = null;
    this.timer = null;
  }

  /** `state` is one of idle, connecting, connected, reconnecting, pairing, failed. */
  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, ...detail } }));
  }

  start() {
    const why = unsupported();
    if (why) return this.setState('failed', { message: why });
    this.open();
  }

  open() {
    clearTimeout(this.timer);
    this.refusal = null;
    this.setState(this.attempt ? 'reconnecting' : 'connecting', { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      return this.setState('failed', { message: `cannot open ${this.url}: ${e.message}` });
    }
    this.ws = ws;
    let challenged = false;
    ws.onmessage = (m) => {
      let frame;
      try {
        frame = JSON.parse(m.data);
      } catch {
        return;
      }
      if (!challenged && frame.type === 'event' && frame.event === 'connect.challenge') {
        challenged = true;
        this.connect(frame.payload && frame.payload.nonce).catch((e) => this.fail(e));
        return;
      }
      this.frame(frame);
    };
    ws.onclose = (e) => this.closed(ws, e);
  }

  async connect(nonce) {
    const identity = await loadIdentity();
    this.deviceId = identity.deviceId;
    const signedAt = Date.now();
    const scopes = SCOPES.join(',');
    const payload = ['v4', identity.deviceId, CLIENT_ID, CLIENT_MODE, ROLE, scopes, String(signedAt),
      this.token || '', nonce || '', PLATFORM, '', this.instanceId].join('|');
    const params = {
      minProtocol: PROTOCOL,
      maxProtocol: PROTOCOL,
      client: { id: CLIENT_ID, displayName: 'Control UI', version: 'control-ui', platform: PLATFORM,
        mode: CLIENT_MODE, instanceId: this.instanceId },
      role: ROLE,
      scopes: SCOPES,
      caps: [],
      auth: this.token ? { token: this.token } : {},
      device: { id: identity.deviceId, publicKey: identity.publicKey, signature: await sign(identity, payload),
        signedAt, nonce: nonce || '' },
      locale: navigator.language,
      userAgent: navigator.userAgent,
    };
    try {
      this.hello = await this.request('connect', params);
    } catch (e) {
      this.refusal = e;
      return;
    }
    this.attempt = 0;
    this.lastSeq = null;
    this.refusal = null;
    this.setState('connected', { hello: this.hello });
  }

  fail(e) {
    this.setState('failed', { message: e.message || String(e) });
    if (this.ws) this.ws.close();
  }

  frame(frame) {
    if (frame.type === 'res') {
      const waiter = this.pending.get(frame.id);
      if (!waiter) return;
      this.pending.delete(frame.id);
      clearTimeout(waiter.timer);
      // An `agent` ack is followed by the final answer under the same id.
      if (frame.ok && frame.payload && frame.payload.status === 'accepted' && waiter.ackThenFinal) {
        this.pending.set(frame.id, waiter);
        return;
      }
      if (frame.ok) waiter.resolve(frame.payload);
      else waiter.reject(Object.assign(new Error((frame.error && frame.error.message) || 'request failed'), frame.error || {}));
      return;
    }
    if (frame.type !== 'event') return;
    if (typeof frame.seq === 'number') {
      if (this.lastSeq !== null && frame.seq > this.lastSeq + 1) {
        this.dispatchEvent(new CustomEvent('gap', { detail: { expected: this.lastSeq + 1, got: frame.seq } }));
      }
      this.lastSeq = frame.seq;
    }
    this.dispatchEvent(new CustomEvent(`event:${frame.event}`, { detail: frame.payload }));
  }

  closed(ws, e) {
    if (ws !== this.ws) return;
    for (const [, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`connection closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`));
    }
    this.pending.clear();
    const refusal = this.refusal;
    if (refusal && pairingRequired(refusal)) {
      const requestId = (refusal.details && refusal.details.requestId) || '';
      this.setState('pairing', { requestId, message: refusal.message });
      this.timer = setTimeout(() => this.open(), 5000);
      return;
    }
    if (refusal && fatal(refusal)) {
      return this.setState('failed', { message: refusal.message, code: refusal.details && refusal.details.code });
    }
    if (this.state === 'failed') return;
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    this.setState('reconnecting', { attempt: this.attempt, inMs: Math.round(delay), reason: e.reason });
    this.timer = setTimeout(() => this.open(), delay);
  }

  /** The payload of `method`, or an Error carrying the gateway's {code, message, details}. */
  request(method, params = {}, { ackThenFinal = false, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject(new Error('not connected to the gateway'));
        return;
      }
      const id = `ui-${this.nextId++}`;
      const timer = timeoutMs ? setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} had no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs) : null;
      this.pending.set(id, { resolve, reject, timer, ackThenFinal });
      this.ws.send(JSON.stringify({ type: 'req', id, method, params }));
    });
  }

  /** Whether the connection may call `method` (advertised, and within the granted scopes). */
  allows(method, scope) {
    if (!this.hello) return false;
    const methods = (this.hello.features && this.hello.features.methods) || [];
    const scopes = (this.hello.auth && this.hello.auth.scopes) || [];
    const has = (s) => scopes.includes(s) || scopes.includes('operator.admin') || (s === 'operator.read' && scopes.includes('operator.write'));
    return methods.includes(method) && (!scope || has(scope));
  }

  on(name, handler) {
    this.addEventListener(name, handler);
    return () => this.removeEventListener(name, handler);
  }
}
