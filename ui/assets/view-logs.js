// Logs: the gateway's log file followed with `logs.tail` and its cursor, a level filter, a text
// filter and pause. Lines are shown as text, never as HTML.

import { errorLine, h, replace } from './dom.js';

export const title = 'Logs';
export const needs = [['logs.tail', 'operator.read']];

const MAX_LINES = 2000;
const LEVELS = ['all', 'error', 'warn', 'info', 'debug'];

/** A log line as {level, text}: the gateway's JSON lines as `time LEVEL subsystem message
 * {fields}`, any other line as it is. */
function entry(line) {
  try {
    const j = JSON.parse(line);
    if (j && typeof j.message === 'string') {
      const level = String(j.level || j.logLevelName || 'info').toLowerCase();
      const time = typeof j.time === 'string' ? j.time.slice(11, 23) : '';
      const fields = j.fields && Object.keys(j.fields).length ? ` ${JSON.stringify(j.fields)}` : '';
      return { level, text: `${time} ${level.toUpperCase().padEnd(5)} ${j.subsystem || ''} ${j.message}${fields}` };
    }
  } catch {
    // not JSON: shown as it is
  }
  const m = /\b(ERROR|WARN|INFO|DEBUG|TRACE)\b/.exec(line);
  return { level: m ? m[1].toLowerCase() : 'info', text: line };
}

export function mount(root, gw) {
  let cursor;
  let paused = false;
  let lines = [];
  let timer = null;
  let stopped = false;
  const problem = h('div');
  const out = h('pre', { class: 'logs', 'aria-label': 'Log lines', tabindex: 0 });
  const level = h('select', { 'aria-label': 'Level', onchange: () => render() }, LEVELS.map((l) => h('option', { value: l }, l)));
  const filter = h('input', { type: 'search', placeholder: 'Filter', 'aria-label': 'Filter', oninput: () => render() });
  const pause = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (!paused) poll();
  } }, 'Pause');
  const file = h('span', { class: 'muted' });
  replace(root, h('h1', {}, 'Logs'), h('div', { class: 'toolbar' }, level, filter, pause, file), problem, out);

  function render() {
    const wanted = level.value;
    const text = filter.value.toLowerCase();
    const rank = (l) => ['error', 'warn', 'info', 'debug', 'trace'].indexOf(l);
    const shown = lines.filter((l) => (wanted === 'all' || rank(l.level) <= rank(wanted)) && (!text || l.text.toLowerCase().includes(text)))
      .map((l) => l.text);
    const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
    out.textContent = shown.join('\n');
    if (atBottom) out.scrollTop = out.scrollHeight;
  }

  async function poll() {
    clearTimeout(timer);
    if (paused || stopped) return;
    try {
      const res = await gw.request('logs.tail', cursor === undefined ? { limit: 500 } : { cursor });
      if (res.reset) lines = [];
      lines = lines.concat((res.lines || []).map(entry)).slice(-MAX_LINES);
      cursor = res.cursor;
      replace(file, res.file || '');
      replace(problem);
      render();
    } catch (e) {
      replace(problem, errorLine(e));
    }
    if (!stopped) timer = setTimeout(poll, 1000);
  }

  poll();
  return () => { stopped = true; clearTimeout(timer); };
}
