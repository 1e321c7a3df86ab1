// Chat: the sessions, one session's history, send with a streamed answer (`chat` events),
// abort, and a new session (`sessions.reset`). A failed run shows its error in the
// conversation; a seq gap reloads the history.

import { ago, errorLine, h, replace } from './dom.js';

export const title = 'Chat';
export const needs = [['chat.history', 'operator.read'], ['chat.send', 'operator.write']];

function textOf(message) {
  const c = message && message.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.filter((p) => p && p.type === 'text').map((p) => p.text).join('');
  return '';
}

export function mount(root, gw) {
  const defaults = gw.hello.snapshot.sessionDefaults || {};
  let sessionKey = sessionStorage.getItem('openclaw.chat.session') || defaults.mainSessionKey || 'agent:main:main';
  let running = null; // {runId, bubble}
  const list = h('ul', { class: 'sessions', 'aria-label': 'Sessions' });
  const log = h('div', { class: 'messages', role: 'log', 'aria-live': 'polite' });
  const problem = h('div');
  const input = h('textarea', { rows: 3, placeholder: 'Message the agent (Enter sends, Shift+Enter is a new line)', 'aria-label': 'Message' });
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const abort = h('button', { type: 'button', disabled: true, onclick: () => stop() }, 'Stop');
  const fresh = h('button', { type: 'button', onclick: () => newSession() }, 'New session');
  const heading = h('h1', {}, 'Chat');
  const form = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); submit(); } }, input, h('div', { class: 'actions' }, send, abort));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  replace(root, h('div', { class: 'chat' },
    h('aside', {}, h('h2', {}, 'Sessions'), list, fresh),
    h('section', { class: 'conversation' }, heading, problem, log, form)));

  const bubble = (role, text, extra = {}) => {
    const el = h('div', { class: `msg ${role}${extra.error ? ' failed' : ''}`, 'data-role': role },
      h('div', { class: 'who' }, role === 'user' ? 'You' : role === 'assistant' ? 'Agent' : role),
      h('div', { class: 'text' }, text));
    if (extra.note) el.append(h('div', { class: 'note' }, extra.note));
    log.append(el);
    log.scrollTop = log.scrollHeight;
    return el;
  };

  const setRunning = (run) => {
    running = run;
    abort.disabled = !run;
    send.disabled = !!run;
  };

  async function loadSessions() {
    if (!gw.allows('sessions.list', 'operator.read')) return;
    try {
      const res = await gw.request('sessions.list', { limit: 50 });
      const sessions = res.sessions || [];
      if (!sessions.some((s) => s.key === sessionKey)) sessions.unshift({ key: sessionKey });
      replace(list, sessions.map((s) => h('li', {},
        h('button', { type: 'button', class: s.key === sessionKey ? 'current' : '', 'aria-current': s.key === sessionKey ? 'true' : null,
          onclick: () => select(s.key) },
        h('span', { class: 'key' }, s.label || s.key),
        h('span', { class: 'sub' }, [s.model, s.updatedAt ? ago(s.updatedAt) : null].filter(Boolean).join(' · '))))));
    } catch (e) {
      replace(list, h('li', {}, errorLine(e)));
    }
  }

  async function loadHistory() {
    try {
      const res = await gw.request('chat.history', { sessionKey, limit: 200 });
      replace(log);
      for (const m of res.messages || []) {
        if (m.role !== 'user' && m.role !== 'assistant') continue;
        const failed = m.incomplete && m.stopReason !== 'aborted';
        bubble(m.role, textOf(m), {
          error: failed,
          note: m.stopReason === 'aborted' ? 'stopped' : failed ? (m.errorMessage || 'the answer did not complete') : null,
        });
      }
      replace(problem);
    } catch (e) {
      replace(problem, errorLine(e));
    }
  }

  function select(key) {
    sessionKey = key;
    sessionStorage.setItem('openclaw.chat.session', key);
    setRunning(null);
    replace(heading, 'Chat ', h('small', {}, key));
    loadHistory();
    loadSessions();
  }

  async function submit() {
    const message = input.value.trim();
    if (!message || running) return;
    input.value = '';
    bubble('user', message);
    const answer = bubble('assistant', '');
    answer.classList.add('streaming');
    const runId = crypto.randomUUID();
    setRunning({ runId, bubble: answer });
    try {
      await gw.request('chat.send', { sessionKey, message, idempotencyKey: runId });
    } catch (e) {
      finish(runId, { error: e.message || String(e) });
    }
  }

  async function stop() {
    if (!running) return;
    try {
      await gw.request('chat.abort', { sessionKey, runId: running.runId });
    } catch (e) {
      replace(problem, errorLine(e));
    }
  }

  async function newSession() {
    try {
      await gw.request('sessions.reset', { key: sessionKey });
      select(sessionKey);
    } catch (e) {
      replace(problem, errorLine(e));
    }
  }

  function finish(runId, { text, error, aborted } = {}) {
    if (!running || running.runId !== runId) return;
    const el = running.bubble;
    el.classList.remove('streaming');
    if (text !== undefined) el.querySelector('.text').textContent = text;
    if (error) {
      el.classList.add('failed');
      el.append(h('div', { class: 'note', role: 'alert' }, error));
    } else if (aborted) {
      el.append(h('div', { class: 'note' }, 'stopped'));
    }
    setRunning(null);
    loadSessions();
  }

  const onChat = (e) => {
    const p = e.detail || {};
    if (p.sessionKey !== sessionKey) return;
    if (!running || p.runId !== running.runId) {
      // Another client's run in this session: show it when it ends.
      if (p.state === 'final' || p.state === 'error' || p.state === 'aborted') loadHistory();
      return;
    }
    const text = p.message ? textOf(p.message) : undefined;
    if (p.state === 'delta') {
      running.bubble.querySelector('.text').textContent = text !== undefined ? text : running.bubble.querySelector('.text').textContent + (p.deltaText || '');
      log.scrollTop = log.scrollHeight;
    } else if (p.state === 'final') {
      finish(p.runId, { text });
    } else if (p.state === 'aborted') {
      finish(p.runId, { aborted: true });
    } else if (p.state === 'error') {
      finish(p.runId, { error: p.errorMessage || 'the run failed' });
    }
  };

  select(sessionKey);
  input.focus();
  const stops = [gw.on('event:chat', onChat), gw.on('gap', () => loadHistory())];
  return () => stops.forEach((s) => s());
}
