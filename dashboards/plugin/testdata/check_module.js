// Loads module.js the way Grafana's SystemJS loader does (an AMD define with
// @grafana/data, @grafana/runtime, @grafana/ui and react provided), with
// small stand-ins for those packages, and exercises what it exports: the
// data source class, the query editor and the config editor. Prints the
// query types and the fields each one edits as JSON for the Go test.
// Usage: node check_module.js module.js
'use strict';
const fs = require('fs');
const vm = require('vm');
const assert = require('assert');

const src = fs.readFileSync(process.argv[2], 'utf8');

function createElement(type, props, ...children) {
  return { type, props: props || {}, children: children.flat(Infinity) };
}
// Hooks: state never changes; effects run at once, as on mount.
const React = { createElement, useState: (v) => [v, () => {}], useEffect: (fn) => { fn(); } };

const resources = [];
class DataSourceWithBackend {
  constructor(settings) { this.instanceSettings = settings; }
  getResource(path) { resources.push(path); return Promise.resolve(path === 'lanes' ? ['CN-US', 'DE-FR'] : ['dhl', 'ups']); }
}
const runtime = {
  DataSourceWithBackend,
  getTemplateSrv: () => ({ replace: (s) => s.replace('$carrier', 'dhl') }),
};
class DataSourcePlugin {
  constructor(ds) { this.DataSourceClass = ds; this.components = {}; }
  setConfigEditor(c) { this.components.ConfigEditor = c; return this; }
  setQueryEditor(c) { this.components.QueryEditor = c; return this; }
}
// @grafana/ui: every component stands for its name.
const ui = new Proxy({}, { get: (_, name) => String(name) });
const packages = { '@grafana/data': { DataSourcePlugin }, '@grafana/runtime': runtime, '@grafana/ui': ui, react: React };

let exported;
let defines = 0;
vm.runInNewContext(src, {
  define(deps, factory) {
    defines++;
    assert(Array.isArray(deps) && typeof factory === 'function', 'define(deps, factory) expected');
    exported = factory(...deps.map((d) => { assert(d in packages, 'module.js needs ' + d + ', which Grafana does not provide'); return packages[d]; }));
  },
}, { filename: 'module.js' });
assert.strictEqual(defines, 1, 'module.js must call define once');
assert(exported && exported.plugin instanceof DataSourcePlugin, 'module.js must return { plugin: new DataSourcePlugin(...) }');
const plugin = exported.plugin;
assert.strictEqual(typeof plugin.components.QueryEditor, 'function', 'query editor');
assert.strictEqual(typeof plugin.components.ConfigEditor, 'function', 'config editor');

// The data source class.
const ds = new plugin.DataSourceClass({ uid: 'abc', jsonData: {} });
assert(ds instanceof DataSourceWithBackend, 'the data source extends DataSourceWithBackend');
assert.strictEqual(ds.getDefaultQuery().queryType, 'scorecard');
assert.strictEqual(ds.filterQuery({ queryType: 'scorecard', hide: true }), false);
assert.strictEqual(ds.applyTemplateVariables({ queryType: 'scorecard', carrier: '$carrier', limit: 5 }, {}).carrier, 'dhl');

function all(tree, out = []) {
  if (tree && typeof tree === 'object') {
    if (tree.props) { out.push(tree); }
    (tree.children || []).forEach((c) => all(c, out));
  }
  return out;
}
function byLabel(tree) {
  const m = {};
  all(tree).forEach((e) => { if (e.props['aria-label']) { m[e.props['aria-label']] = e; } });
  return m;
}

// The query editor, for every query type.
for (const t of exported.QUERY_TYPES) {
  const changes = [];
  let runs = 0;
  const tree = plugin.components.QueryEditor({ query: { refId: 'A', queryType: t.value }, datasource: ds,
    onChange: (q) => changes.push(q), onRunQuery: () => runs++ });
  const controls = byLabel(tree);
  assert(controls['Query type'], 'a query type select');
  assert.strictEqual(controls['Query type'].type, 'Select');
  assert.strictEqual(Object.keys(controls).length, exported.FIELDS[t.value].length + 1, t.value + ': a control per field');
  controls['Query type'].props.onChange({ value: 'open_alerts' });
  assert.strictEqual(changes.pop().queryType, 'open_alerts');
  assert(runs > 0, 'choosing a query type runs the query');
  for (const [label, c] of Object.entries(controls)) {
    if (c.type === 'Input') {
      c.props.onChange({ currentTarget: { value: '7' } });
      const q = changes.pop();
      assert.strictEqual(q.queryType, t.value, label + ' keeps the query type');
      assert(Object.values(q).includes('7') || Object.values(q).includes(7), label + ' sets its field');
    }
  }
}
assert(resources.includes('carriers') && resources.includes('lanes'), 'the editor lists carriers and lanes from the backend');

// The config editor.
const configChanges = [];
const cfg = plugin.components.ConfigEditor({
  options: { jsonData: { clickhouse: '127.0.0.1:9000' }, secureJsonFields: { password: true }, secureJsonData: {} },
  onOptionsChange: (o) => configChanges.push(o),
});
const cc = byLabel(cfg);
for (const l of ['Address', 'Database', 'User', 'Password']) { assert(cc[l], 'config editor field ' + l); }
assert.strictEqual(cc.Address.props.value, '127.0.0.1:9000');
cc.Database.props.onChange({ currentTarget: { value: 'analytics' } });
// module.js runs in a context of its own: compare plain JSON.
assert.strictEqual(JSON.stringify(configChanges.pop().jsonData), JSON.stringify({ clickhouse: '127.0.0.1:9000', database: 'analytics' }));
assert.strictEqual(cc.Password.type, 'SecretInput');
assert.strictEqual(cc.Password.props.isConfigured, true);
cc.Password.props.onChange({ currentTarget: { value: 's3cret' } });
const withPassword = configChanges.pop();
assert.strictEqual(withPassword.secureJsonData.password, 's3cret');
assert.strictEqual(withPassword.jsonData.password, undefined, 'the password stays out of jsonData');
cc.Password.props.onReset();
assert.strictEqual(configChanges.pop().secureJsonFields.password, false);

// Dashboard variables.
ds.metricFindQuery('lanes').then((vals) => {
  assert.strictEqual(JSON.stringify(vals), JSON.stringify([{ text: 'CN-US', value: 'CN-US' }, { text: 'DE-FR', value: 'DE-FR' }]));
  process.stdout.write(JSON.stringify({ queryTypes: exported.QUERY_TYPES.map((t) => t.value), fields: exported.FIELDS }) + '\n');
}).catch((e) => { console.error(e); process.exit(1); });
