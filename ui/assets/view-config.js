// Config: the effective config as `config.get` returns it (secrets redacted by the gateway),
// its path and whether it is valid, with each problem by key path. Read-only.

import { errorLine, h, replace, table } from './dom.js';

export const title = 'Config';
export const needs = [['config.get', 'operator.admin']];

export function mount(root, gw) {
  const body = h('div');
  replace(root, h('h1', {}, 'Config'), body);
  (async () => {
    try {
      const c = await gw.request('config.get');
      const issues = (c.issues || []).concat(c.legacyIssues || []);
      replace(body,
        h('p', {}, h('strong', {}, c.path || 'no config file'), ' · ',
          c.exists === false ? 'not created yet (defaults apply)' : c.valid === false ? h('span', { class: 'bad' }, 'invalid') : h('span', { class: 'good' }, 'valid')),
        issues.length ? [h('h2', {}, 'Problems'), table(['Key', 'Problem'], issues.map((i) => [i.path || '(root)', i.message]))] : null,
        (c.warnings || []).length ? [h('h2', {}, 'Warnings'), table(['Key', 'Warning'], c.warnings.map((w) => [w.path || '', w.message || String(w)]))] : null,
        h('h2', {}, 'Effective config'),
        h('pre', { class: 'config', tabindex: 0 }, JSON.stringify(c.config || c.parsed || {}, null, 2)));
    } catch (e) {
      replace(body, errorLine(e));
    }
  })();
  return () => {};
}
