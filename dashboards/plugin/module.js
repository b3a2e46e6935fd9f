// The frontend of shiplens-analytics-datasource: an AMD module, as Grafana's
// SystemJS loader expects of a plugin's module.js, written by hand so that it
// needs no build step. Grafana provides @grafana/data, @grafana/runtime,
// @grafana/ui and react to it. It exports `plugin`: the data source class
// (the backend answers every query), the query editor and the config editor.
define(['@grafana/data', '@grafana/runtime', '@grafana/ui', 'react'], function (data, runtime, ui, React) {
  'use strict';

  var h = React.createElement;

  // The query types of the backend (query.go), in the editor's order.
  var QUERY_TYPES = [
    { value: 'scorecard', label: 'Carrier scorecard', description: 'per carrier and lane over the delivery days of the range' },
    { value: 'lane_percentiles', label: 'Transit p50/p90 per day', description: 'a time series of transit-time percentiles' },
    { value: 'eta_lookup', label: 'ETA lookup', description: 'the predicted delivery of tracking numbers' },
    { value: 'quote', label: 'ETA quote', description: 'carriers ranked by P(delivered by the deadline)' },
    { value: 'open_alerts', label: 'Open alerts', description: 'alerts whose latest state is open' },
    { value: 'throughput', label: 'Pipeline throughput (live)', description: 'events/s and lag, then streamed' },
  ];

  // The fields each query type reads.
  var FIELDS = {
    scorecard: ['carrier', 'lane', 'service', 'merchant', 'groupBy'],
    lane_percentiles: ['lane', 'carrier', 'service', 'merchant'],
    eta_lookup: ['trackingNumber', 'lang'],
    quote: ['lane', 'carrier', 'service', 'shippedAt', 'deadline'],
    open_alerts: ['carrier', 'lane', 'merchant', 'alertType', 'limit', 'openedInRange'],
    throughput: [],
  };

  // Text fields in which dashboard variables ($carrier) are replaced.
  var TEMPLATED = ['carrier', 'lane', 'service', 'merchant', 'trackingNumber', 'shippedAt', 'deadline', 'alertType'];

  var LABELS = {
    carrier: 'Carrier', lane: 'Lane', service: 'Service', merchant: 'Merchant', groupBy: 'Group by',
    trackingNumber: 'Tracking numbers', lang: 'Language', shippedAt: 'Shipped at', deadline: 'Deadline',
    alertType: 'Alert type', limit: 'Limit', openedInRange: 'Opened in range',
  };

  var PLACEHOLDERS = {
    carrier: 'any', lane: 'any, e.g. CN-US', service: 'any', merchant: 'any', trackingNumber: 'LX123456789CN, ...',
    shippedAt: 'now, or 2026-11-05T10:00:00Z', deadline: 'none, or 2026-11-20', limit: '1000',
  };

  var CHOICES = {
    groupBy: [{ value: '', label: 'carrier and lane' }, { value: 'carrier', label: 'carrier' }, { value: 'lane', label: 'lane' }],
    lang: ['en', 'zh', 'es', 'fr', 'de'].map(function (l) { return { value: l, label: l }; }),
    alertType: ['', 'stalled', 'slow', 'customs_held', 'customs_failed', 'delivery_failed', 'returned', 'lost', 'predicted_late'].map(function (t) {
      return { value: t, label: t || 'any' };
    }),
  };

  function options(list) {
    return (list || []).map(function (v) { return { value: v, label: v }; });
  }

  class DataSource extends runtime.DataSourceWithBackend {
    constructor(instanceSettings) {
      super(instanceSettings);
    }

    getDefaultQuery() {
      return { queryType: 'scorecard' };
    }

    filterQuery(query) {
      return !query.hide && !!query.queryType;
    }

    applyTemplateVariables(query, scopedVars) {
      var srv = runtime.getTemplateSrv();
      var out = Object.assign({}, query);
      TEMPLATED.forEach(function (k) {
        if (typeof out[k] === 'string' && out[k] !== '') {
          out[k] = srv.replace(out[k], scopedVars);
        }
      });
      return out;
    }

    // Dashboard variables: the query "carriers" or "lanes".
    metricFindQuery(query) {
      var q = typeof query === 'string' ? query : (query && query.query) || '';
      return this.getResource(q.trim() === 'lanes' ? 'lanes' : 'carriers').then(function (list) {
        return (list || []).map(function (v) { return { text: v, value: v }; });
      });
    }
  }

  // useList loads a resource list (carriers or lanes) once per data source.
  function useList(datasource, path) {
    var state = React.useState([]);
    React.useEffect(function () {
      var live = true;
      if (datasource && datasource.getResource) {
        datasource.getResource(path).then(function (list) { if (live) { state[1](list || []); } }, function () {});
      }
      return function () { live = false; };
    }, [datasource, path]);
    return state[0];
  }

  function QueryEditor(props) {
    var query = props.query || {};
    var type = query.queryType || 'scorecard';
    var carriers = useList(props.datasource, 'carriers');
    var lanes = useList(props.datasource, 'lanes');

    function set(key, value, run) {
      var next = Object.assign({}, query);
      next[key] = value;
      props.onChange(next);
      if (run && props.onRunQuery) {
        props.onRunQuery();
      }
    }

    function control(key) {
      var label = LABELS[key];
      var input;
      if (key === 'carrier' || key === 'lane') {
        var list = key === 'carrier' ? carriers : lanes;
        input = h(ui.Select, {
          'aria-label': label, width: 24, isClearable: true, allowCustomValue: true, placeholder: PLACEHOLDERS[key],
          options: options(list), value: query[key] ? { value: query[key], label: query[key] } : null,
          onChange: function (v) { set(key, v ? v.value : '', true); },
        });
      } else if (CHOICES[key]) {
        input = h(ui.Select, {
          'aria-label': label, width: 24, options: CHOICES[key], value: query[key] || '',
          onChange: function (v) { set(key, v ? v.value : '', true); },
        });
      } else if (key === 'openedInRange') {
        input = h(ui.InlineSwitch, {
          'aria-label': label, value: !!query.openedInRange,
          onChange: function (e) { set(key, e.currentTarget.checked, true); },
        });
      } else {
        input = h(ui.Input, {
          'aria-label': label, width: key === 'trackingNumber' ? 48 : 24, placeholder: PLACEHOLDERS[key],
          type: key === 'limit' ? 'number' : 'text',
          value: query[key] === undefined ? '' : String(query[key]),
          onChange: function (e) {
            var v = e.currentTarget.value;
            set(key, key === 'limit' ? (parseInt(v, 10) || 0) : v, false);
          },
          onBlur: function () { if (props.onRunQuery) { props.onRunQuery(); } },
        });
      }
      return h(ui.InlineField, { key: key, label: label, labelWidth: 18 }, input);
    }

    var rows = [
      h(ui.InlineFieldRow, { key: 'type' },
        h(ui.InlineField, { label: 'Query type', labelWidth: 18 },
          h(ui.Select, {
            'aria-label': 'Query type', width: 36, options: QUERY_TYPES, value: type,
            onChange: function (v) { set('queryType', v.value, true); },
          }))),
    ];
    var fields = FIELDS[type] || [];
    for (var i = 0; i < fields.length; i += 3) {
      rows.push(h(ui.InlineFieldRow, { key: 'row' + i }, fields.slice(i, i + 3).map(control)));
    }
    return h('div', { className: 'shiplens-query-editor' }, rows);
  }

  function ConfigEditor(props) {
    var opts = props.options;
    var json = opts.jsonData || {};
    var secure = opts.secureJsonData || {};
    var configured = opts.secureJsonFields || {};

    function setJSON(key, value) {
      var jsonData = Object.assign({}, json);
      jsonData[key] = value;
      props.onOptionsChange(Object.assign({}, opts, { jsonData: jsonData }));
    }

    function text(key, label, placeholder, tooltip) {
      return h(ui.InlineField, { key: key, label: label, labelWidth: 18, tooltip: tooltip },
        h(ui.Input, {
          'aria-label': label, width: 40, placeholder: placeholder, value: json[key] || '',
          onChange: function (e) { setJSON(key, e.currentTarget.value); },
        }));
    }

    return h(ui.FieldSet, { label: 'ClickHouse' }, [
      text('clickhouse', 'Address', '127.0.0.1:9000', 'native protocol host:port, or clickhouse://user:pass@host:port/db'),
      text('database', 'Database', 'shiplens'),
      text('username', 'User', 'default'),
      h(ui.InlineField, { key: 'password', label: 'Password', labelWidth: 18 },
        h(ui.SecretInput, {
          'aria-label': 'Password', width: 40, placeholder: 'none',
          isConfigured: !!configured.password, value: secure.password || '',
          onChange: function (e) {
            props.onOptionsChange(Object.assign({}, opts, { secureJsonData: Object.assign({}, secure, { password: e.currentTarget.value }) }));
          },
          onReset: function () {
            props.onOptionsChange(Object.assign({}, opts, {
              secureJsonFields: Object.assign({}, configured, { password: false }),
              secureJsonData: Object.assign({}, secure, { password: '' }),
            }));
          },
        })),
    ]);
  }

  var plugin = new data.DataSourcePlugin(DataSource).setConfigEditor(ConfigEditor).setQueryEditor(QueryEditor);

  return { plugin: plugin, DataSource: DataSource, QueryEditor: QueryEditor, ConfigEditor: ConfigEditor, QUERY_TYPES: QUERY_TYPES, FIELDS: FIELDS };
});
