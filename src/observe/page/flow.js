(function () {
  'use strict';
  var RING = Number(document.querySelector('meta[name="ring-size"]').getAttribute('content')) || 500;
  var CODES = JSON.parse(document.getElementById('verify-codes').textContent || '{}');
  var BASE64_TEXT = { 'x-ssl-client-subject-dn': 1, 'x-ssl-client-subject-cn': 1, 'x-ssl-client-issuer-dn': 1, 'x-ssl-client-root-ca-dn': 1 };
  var state = { items: [], bySeq: new Map(), host: '', outcome: 'all', selected: null, paused: false, queue: [], timer: null, instance: null, hosts: new Set(), status: null };
  var tbody = document.querySelector('#flow tbody');

  // Every text shown goes through visible(): controls, line separators and bidi characters a client
  // sent (SNI, path, certificate names) appear as \xNN / \u{NNNN} instead of acting on the page.
  var UNSAFE_G = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
  function visible(s) {
    return String(s).replace(UNSAFE_G, function (c) { var n = c.charCodeAt(0); return n < 0x100 ? '\\x' + (n < 16 ? '0' : '') + n.toString(16).toUpperCase() : '\\u{' + n.toString(16).toUpperCase() + '}'; });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = visible(text);
    return e;
  }
  function add(parent) { for (var i = 1; i < arguments.length; i++) { var c = arguments[i]; if (c !== null && c !== undefined) parent.appendChild(typeof c === 'string' ? document.createTextNode(visible(c)) : c); } return parent; }
  function td(cls, content) { var c = el('td', cls); if (content instanceof Node) c.appendChild(content); else if (content !== undefined && content !== null) c.textContent = visible(content); return c; }
  function badge(text, kind) { return el('span', 'badge b-' + kind, text); }
  function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = '0' + n; return n; }
  function fmtTime(t) { var d = new Date(t); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3); }
  function fmtMs(ms) { return ms < 10 ? ms.toFixed(1) + ' ms' : ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(2) + ' s'; }
  function statusKind(s) { return s >= 500 ? 'err' : s >= 400 ? 'warn' : s >= 300 ? 'info' : 'ok'; }
  function outcomeOf(ev) { return ev.kind === 'handshake-rejected' ? 'rejected' : ev.kind === 'lifecycle' ? 'lifecycle' : ev.kind === 'connection-error' ? 'error' : ev.status >= 400 ? 'error' : 'ok'; }
  function codeName(code) { return CODES[code] || ('code ' + code); }
  function certLabel(ev) {
    if (ev.mappedUser) return ev.mappedUser;
    if (!ev.cert) return null;
    return (ev.cert.subjectCN || '-') + '@' + (ev.cert.issuerCN || '-');
  }

  // ---- decoding H10 values, showing raw bytes safely ----
  function b64bytes(v) {
    if (!v || v.length % 4 !== 0 || !/^[A-Za-z0-9+\/]*={0,2}$/.test(v)) return null;
    try { var s = atob(v); var u = new Uint8Array(s.length); for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return u; } catch (e) { return null; }
  }
  function hex2(n) { return (n < 16 ? '0' : '') + n.toString(16).toUpperCase(); }
  // Text for people, with every control or undecodable byte shown as a visible \xNN marker.
  function bytesNode(u) {
    var out = el('span'), text;
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(u); }
    catch (e) {
      text = null;
      for (var i = 0; i < u.length; i++) {
        var b = u[i];
        if (b >= 0x20 && b < 0x7f) out.appendChild(document.createTextNode(String.fromCharCode(b)));
        else out.appendChild(el('span', 'esc', '\\x' + hex2(b)));
      }
      return out;
    }
    var run = '';
    for (var j = 0; j < text.length; j++) {
      var c = text.charCodeAt(j);
      if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) {
        if (run) { out.appendChild(document.createTextNode(run)); run = ''; }
        out.appendChild(el('span', 'esc', '\\x' + hex2(c)));
      } else run += text[j];
    }
    if (run) out.appendChild(document.createTextNode(run));
    return out;
  }
  function decoded(name, value) {
    var n = name.toLowerCase();
    if (BASE64_TEXT[n]) {
      var u = b64bytes(value);
      if (u) return bytesNode(u);
      return value ? el('span', 'muted', value.charAt(0) === '/' ? '(plain text, legacy mapping)' : '(not base64)') : null;
    }
    if (n === 'x-forwarded-client-cert') {
      var d = b64bytes(value);
      if (d && d[0] === 0x30) return el('span', null, 'DER certificate, ' + d.length + ' bytes');
      return value ? el('span', 'muted', '(not a base64 DER certificate)') : null;
    }
    if (n === 'x-ssl-client-notbefore' || n === 'x-ssl-client-notafter') {
      var m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(value);
      return m ? el('span', null, '20' + m[1] + '-' + m[2] + '-' + m[3] + ' ' + m[4] + ':' + m[5] + ':' + m[6] + ' UTC') : null;
    }
    if (n === 'x-ssl-client-verify' && /^\d+$/.test(value)) return el('span', null, codeName(Number(value)));
    if (n === 'x-ssl-client' && value === '1') return el('span', null, 'certificate used');
    if (n === 'x-ssl-client-session-id' && /^[0-9A-F]*$/i.test(value)) return el('span', null, value ? (value.length / 2) + '-byte TLS session ID' : 'no session ID');
    return null;
  }

  // ---- table rows ----
  function rowFor(item) {
    var ev = item.event, tr = el('tr');
    tr.dataset.seq = item.seq; tr.dataset.kind = ev.kind; tr.dataset.outcome = outcomeOf(ev); tr.tabIndex = 0;
    tr.appendChild(td('time', fmtTime(ev.time)));
    if (ev.kind === 'request') {
      tr.appendChild(td(null, badge(ev.status, statusKind(ev.status))));
      tr.appendChild(td('mono', ev.clientAddress));
      var req = add(el('div', 'req'), el('span', 'host', ev.host), ' ', el('span', 'muted', ev.method), ' ', el('span', 'path', ev.path));
      tr.appendChild(td(null, req));
      var who = certLabel(ev);
      tr.appendChild(td(null, who ? add(el('span'), ev.mappedUser ? badge('user', 'info') : null, ev.mappedUser ? ' ' : null, el('span', 'mono', who)) : el('span', 'muted', 'no certificate')));
      tr.appendChild(td(null, ev.verify ? badge(ev.verify.code === 0 ? 'verified' : codeName(ev.verify.code).replace('X509_V_ERR_', '') + ' (ignored)', ev.verify.code === 0 ? 'ok' : 'warn') : el('span', 'muted', '-')));
      var s = el('div', 'h10sum');
      if (ev.h10.sent.length) add(s, badge(ev.h10.sent.length + ' sent', 'mute'));
      if (ev.h10.removed.length) add(s, badge(ev.h10.removed.length + ' removed', 'err'));
      if (ev.h10.set.length) add(s, badge(ev.h10.set.length + ' set', 'ok'));
      if (!s.childNodes.length) s.appendChild(el('span', 'muted', '-'));
      tr.appendChild(td(null, s));
      tr.appendChild(td('mono', ev.upstream ? (ev.route ? ev.route + ' \u2192 ' : '') + ev.upstream : (ev.error || '-')));
      tr.appendChild(td('mono', fmtMs(ev.durationMs)));
    } else if (ev.kind === 'handshake-rejected') {
      tr.appendChild(td(null, badge('TLS rejected', 'err')));
      tr.appendChild(td('mono', ev.clientAddress));
      tr.appendChild(td(null, add(el('div', 'req'), el('span', 'host', ev.sni || '(no SNI)'), ' ', el('span', 'muted', 'handshake'))));
      tr.appendChild(td(null, ev.cert ? el('span', 'mono', (ev.cert.subjectCN || ev.cert.subject) + '@' + (ev.cert.issuerCN || '-')) : el('span', 'muted', 'no certificate')));
      tr.appendChild(td(null, badge(ev.verify ? ev.verify.name.replace('X509_V_ERR_', '') + ' (' + ev.verify.code + ')' : (ev.cert ? (ev.alert || 'TLS error') : 'NO_CERTIFICATE'), 'err')));
      var r = td('reason', ev.reason); r.colSpan = 3; tr.appendChild(r);
    } else {
      var level = ev.kind === 'connection-error' ? 'error' : ev.level;
      tr.appendChild(td(null, badge(ev.kind === 'connection-error' ? 'fault' : level, level === 'error' ? 'err' : level === 'warn' ? 'warn' : 'info')));
      var m = td(null, ev.kind === 'connection-error' ? 'connection from ' + ev.clientAddress + ' ended by a fault (' + ev.stage + '): ' + ev.message : ev.message); m.colSpan = 7; tr.appendChild(m);
    }
    if (state.selected === item.seq) tr.classList.add('selected');
    return tr;
  }

  function matches(item) {
    var ev = item.event;
    if (state.host) {
      var h = String(ev.host || ev.sni || '').toLowerCase();
      if (h.indexOf(state.host) < 0) return false;
    }
    switch (state.outcome) {
      case 'all': return true;
      case 'cert': return ev.kind === 'request' && !!ev.cert;
      case 'nocert': return ev.kind === 'request' && !ev.cert;
      case 'removed': return ev.kind === 'request' && ev.h10.removed.length > 0;
      default: return outcomeOf(ev) === state.outcome;
    }
  }

  function showEmpty() {
    if (tbody.querySelector('tr[data-seq]')) { var e = tbody.querySelector('tr.empty'); if (e) e.remove(); return; }
    if (tbody.querySelector('tr.empty')) return;
    // The command `mtls-edge start` printed, from /status (null without the dev PKI).
    var tryIt = state.status && state.status.tryIt;
    var tr = el('tr', 'empty'), c = td(null, state.items.length ? 'No event matches the filter.' : 'Waiting for traffic\u2026 send a request through the edge' + (tryIt ? ', e.g. ' + tryIt : '.'));
    c.colSpan = 9; tr.appendChild(c); tbody.appendChild(tr);
  }

  function rebuild() {
    tbody.textContent = '';
    var frag = document.createDocumentFragment();
    for (var i = state.items.length - 1; i >= 0; i--) if (matches(state.items[i])) frag.appendChild(rowFor(state.items[i]));
    tbody.appendChild(frag);
    showEmpty(); counts();
  }

  function renderQueued() {
    state.timer = null;
    if (state.paused) return;
    var batch = state.queue; state.queue = [];
    var frag = document.createDocumentFragment();
    for (var i = batch.length - 1; i >= 0; i--) {
      if (!state.bySeq.has(batch[i].seq) || !matches(batch[i])) continue;
      var tr = rowFor(batch[i]); tr.classList.add('fresh'); frag.appendChild(tr);
    }
    tbody.insertBefore(frag, tbody.firstChild);
    while (tbody.rows.length > RING) tbody.deleteRow(tbody.rows.length - 1);
    showEmpty(); counts();
  }

  function addItem(item) {
    if (state.bySeq.has(item.seq)) return;
    state.items.push(item); state.bySeq.set(item.seq, item);
    while (state.items.length > RING) {
      var old = state.items.shift(); state.bySeq.delete(old.seq);
      var r = tbody.querySelector('tr[data-seq="' + old.seq + '"]'); if (r) r.remove();
    }
    var ev = item.event, h = ev.host || ev.sni;
    if (h && !state.hosts.has(h)) { state.hosts.add(h); document.getElementById('hosts').appendChild(add(el('option'))).value = h; }
    state.queue.push(item);
    if (state.timer === null) state.timer = setTimeout(renderQueued, 40);
    api.onItem.forEach(function (f) { f(item); });
  }

  function counts() {
    var req = 0, rej = 0, rem = 0;
    for (var i = 0; i < state.items.length; i++) {
      var ev = state.items[i].event;
      if (ev.kind === 'request') { req++; if (ev.h10.removed.length) rem++; } else if (ev.kind === 'handshake-rejected') rej++;
    }
    document.getElementById('stat-requests').textContent = req;
    document.getElementById('stat-rejected').textContent = rej;
    document.getElementById('stat-removed').textContent = rem;
    document.getElementById('shown').textContent = tbody.querySelectorAll('tr[data-seq]').length + ' shown of ' + state.items.length + (state.paused && state.queue.length ? ' \u00b7 ' + state.queue.length + ' new while paused' : '');
  }

  // ---- detail view ----
  function kvTable(rows) {
    var t = el('table', 'kv');
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined || r[1] === '') return;
      var tr = el('tr'); tr.appendChild(el('th', null, r[0]));
      var c = el('td', r[2] || null); if (r[1] instanceof Node) c.appendChild(r[1]); else c.textContent = visible(r[1]);
      tr.appendChild(c); t.appendChild(tr);
    });
    return t;
  }
  function certSection(cert, verify, mappedUser) {
    var box = el('div');
    if (!cert) { box.appendChild(el('div', 'none', 'No client certificate was presented on this connection.')); return box; }
    box.appendChild(kvTable([
      ['Subject', cert.subject, 'mono'], ['Issuer', cert.issuer, 'mono'], ['Serial number', cert.serialNumber, 'mono'],
      ['Valid from', cert.validFrom], ['Valid to', cert.validTo], ['SHA-256', cert.fingerprint256, 'mono'],
      ['Verify result', verify ? add(el('span'), badge(verify.code === 0 ? 'OK' : verify.name + ' (' + verify.code + ')', verify.code === 0 ? 'ok' : 'warn'), verify.code === 0 ? null : ' accepted: the error is on the ignore list') : null],
      ['Mapped user', mappedUser]
    ]));
    return box;
  }
  function h10Table(cls, pairs, tagFor) {
    if (!pairs.length) return el('div', 'none', 'none');
    var t = el('table', 'h10 ' + cls), head = el('tr');
    ['Header', 'Value as sent on the wire', 'Decoded'].forEach(function (h) { head.appendChild(el('th', null, h)); });
    t.appendChild(head);
    pairs.forEach(function (p) {
      var tr = el('tr'); tr.dataset.header = p[0].toLowerCase();
      var tag = tagFor ? tagFor(p) : null; if (tag === 'removed') tr.classList.add('removed');
      var name = add(el('td', 'name'), p[0]); if (tag) add(name, el('br'), badge(tag, tag === 'removed' ? 'err' : 'mute'));
      tr.appendChild(name);
      var raw = el('td', 'raw'), span = el('span', p[1].length > 120 ? 'raw long' : 'raw', p[1] === '' ? '(empty)' : p[1]);
      if (p[1].length > 120) { span.title = 'click to expand'; span.addEventListener('click', function () { span.classList.toggle('long'); }); }
      raw.appendChild(span); tr.appendChild(raw);
      var d = decoded(p[0], p[1]); tr.appendChild(add(el('td', 'decoded'), d));
      t.appendChild(tr);
    });
    return t;
  }
  function section(parent, title, node) { parent.appendChild(el('h3', null, title)); parent.appendChild(node); }

  function openDetail(seq) {
    var item = state.bySeq.get(seq); if (!item) return;
    state.selected = seq;
    tbody.querySelectorAll('tr.selected').forEach(function (r) { r.classList.remove('selected'); });
    var row = tbody.querySelector('tr[data-seq="' + seq + '"]'); if (row) row.classList.add('selected');
    var ev = item.event, body = document.getElementById('detail-body');
    body.textContent = '';
    body.dataset.kind = ev.kind;
    if (ev.kind === 'request') {
      body.appendChild(el('h2', null, ev.method + ' ' + ev.host + ev.path));
      body.appendChild(add(el('div'), badge(ev.status, statusKind(ev.status)), ' in ' + fmtMs(ev.durationMs) + ' \u00b7 ' + fmtTime(ev.time) + (ev.websocket ? ' \u00b7 WebSocket' : '')));
      section(body, 'Connection and route', kvTable([
        ['Client', ev.clientAddress + (ev.clientPort ? ':' + ev.clientPort : ''), 'mono'], ['Listener', ev.listener], ['SNI', ev.sni, 'mono'], ['TLS configuration', ev.tlsConfig],
        ['Route', ev.route, 'mono'], ['Upstream', ev.upstream, 'mono'], ['HTTP version', ev.httpVersion], ['Answered by the edge', ev.error],
        ['Access log (cpi)', ev.clientAddress + ' - ' + (certLabel(ev) || '-') + ' "' + ev.method + ' ' + ev.path + '" ' + ev.status, 'mono']
      ].concat(ev.underscoreHeaders ? [['Header names with underscores', ev.underscoreHeaders.map(function (n) { return n + ' (your framework may read this as ' + n.replace(/_/g, '-') + ')'; }).join('; '), 'mono']] : [])));
      section(body, 'Client certificate', certSection(ev.cert, ev.verify, ev.mappedUser));
      var removedKey = new Set(ev.h10.removed.map(function (p) { return p[0].toLowerCase() + '\u0000' + p[1]; }));
      section(body, 'H10 headers sent by the client (' + ev.h10.sent.length + ')', h10Table('h10-sent', ev.h10.sent, function (p) { return removedKey.has(p[0].toLowerCase() + '\u0000' + p[1]) ? 'removed' : 'passed through'; }));
      section(body, 'Removed by the edge (' + ev.h10.removed.length + ')', h10Table('h10-removed', ev.h10.removed, function () { return 'removed'; }));
      section(body, 'Set by the edge (' + ev.h10.set.length + ')', h10Table('h10-set', ev.h10.set, null));
    } else if (ev.kind === 'handshake-rejected') {
      body.appendChild(el('h2', null, 'TLS handshake rejected' + (ev.sni ? ' for ' + ev.sni : '')));
      body.appendChild(el('div', 'muted', fmtTime(ev.time) + ' \u00b7 from ' + ev.clientAddress + (ev.explained ? ' \u00b7 explanation page sent' : '')));
      section(body, 'Why', el('div', 'reason', ev.reason));
      section(body, 'How to fix it', el('div', 'hint', ev.hint || '-'));
      section(body, 'Details', kvTable([
        ['OpenSSL result', ev.verify ? ev.verify.name + ' (' + ev.verify.code + ')' : (ev.cert ? null : 'NO_CERTIFICATE'), 'mono'], ['TLS alert', ev.alert, 'mono'],
        ['Listener', ev.listener], ['SNI', ev.sni, 'mono'], ['TLS configuration', ev.tlsConfig]
      ]));
      section(body, 'Presented certificate', certSection(ev.cert, null, null));
    } else {
      body.appendChild(el('h2', null, ev.message));
      body.appendChild(el('div', 'muted', (ev.kind === 'connection-error' ? 'connection fault in ' + ev.stage + ' from ' + ev.clientAddress : ev.level) + ' \u00b7 ' + fmtTime(ev.time)));
      if (ev.stack) section(body, 'Stack', el('pre', null, ev.stack));
    }
    if (ev.kind === 'request' || ev.kind === 'handshake-rejected') {
      var asFlow = el('button', 'as-flow', 'Show as flow \u2192'); asFlow.type = 'button';
      asFlow.addEventListener('click', function () { closeDetail(); api.showFlow(seq); });
      body.insertBefore(asFlow, body.children[1] || null);
    }
    var raw = add(el('details'), el('summary', null, 'Raw event (JSON)'), el('pre', null, JSON.stringify(ev, null, 2)));
    body.appendChild(el('h3', null, ' ')); body.appendChild(raw);
    document.getElementById('detail').classList.add('open');
    document.getElementById('detail').setAttribute('aria-hidden', 'false');
  }
  function closeDetail() {
    state.selected = null;
    document.getElementById('detail').classList.remove('open');
    document.getElementById('detail').setAttribute('aria-hidden', 'true');
    tbody.querySelectorAll('tr.selected').forEach(function (r) { r.classList.remove('selected'); });
  }

  // ---- TLS configurations view ----
  function daysLeft(iso) { var t = Date.parse(iso); return isNaN(t) ? null : Math.floor((t - Date.now()) / 86400000); }
  function expiryBadge(iso) {
    var d = daysLeft(iso); if (d === null) return el('span', 'muted', iso || '-');
    return add(el('span'), el('span', 'mono', String(iso).slice(0, 10)), ' ', badge(d < 0 ? 'expired' : d + ' days', d < 0 ? 'err' : d <= 30 ? 'warn' : 'ok'));
  }
  function renderStatus(s) {
    var hadTryIt = state.status && state.status.tryIt;
    state.status = s;
    if (!hadTryIt && s.tryIt) { var empty = tbody.querySelector('tr.empty'); if (empty) { empty.remove(); showEmpty(); } }
    document.getElementById('version').textContent = 'v' + s.version;
    var up = s.uptimeSeconds, h = Math.floor(up / 3600), m = Math.floor(up % 3600 / 60);
    document.getElementById('stat-uptime').textContent = h ? h + 'h ' + m + 'm' : m + 'm ' + (up % 60) + 's';
    document.getElementById('stat-open').textContent = s.counters.openConnections !== undefined ? s.counters.openConnections : '-';
    var view = document.getElementById('tls-view'); view.textContent = '';
    view.appendChild(el('div', 'section-title', 'TLS configurations'));
    var cards = el('div', 'cards');
    (s.tlsConfigs || []).forEach(function (c) {
      var card = el('div', 'card'); card.dataset.tlsConfig = c.name;
      card.appendChild(add(el('h3'), c.name, ' ', c.isDefault ? badge('default', 'info') : null, ' ', badge('client auth ' + c.clientAuth, c.clientAuth === 'required' ? 'err' : c.clientAuth === 'optional' ? 'warn' : 'mute')));
      var hosts = el('div'); (c.hostnames.length ? c.hostnames : ['(any SNI)']).forEach(function (h) { hosts.appendChild(el('span', 'chip', h)); });
      card.appendChild(hosts);
      card.appendChild(kvTable([
        ['forwarded_client_cert', c.forwardedClientCert, 'mono'],
        ['Ignored verify errors', c.ignoreErrors ? (c.ignoreErrors === 'all' ? 'all' : c.ignoreErrors.join(', ')) : null, 'mono'],
        ['CRL checking', c.crl === undefined ? null : c.crl ? 'on' : 'off'],
        ['Server certificate', c.serverCertificate ? add(el('span'), el('span', 'mono', c.serverCertificate.subject), el('br'), expiryBadge(c.serverCertificate.notAfter)) : null]
      ]));
      var t = el('table', 'trust'); t.appendChild(add(el('tr'), el('th', null, 'Trusted CA (' + c.trustList.length + ')'), el('th', null, 'Expires')));
      if (!c.trustList.length) t.appendChild(add(el('tr'), add(el('td', 'muted'), 'empty: no client certificate is requested'), el('td')));
      c.trustList.forEach(function (ca) { t.appendChild(add(el('tr'), el('td', 'mono', ca.subject), add(el('td'), expiryBadge(ca.notAfter)))); });
      card.appendChild(t); cards.appendChild(card);
    });
    if (!(s.tlsConfigs || []).length) cards.appendChild(el('div', 'none', 'No TLS configuration reported.'));
    view.appendChild(cards);
    view.appendChild(el('div', 'section-title', 'Listeners and routes'));
    var lr = el('div', 'card');
    lr.appendChild(kvTable((s.listeners || []).map(function (l) { return [l.name, l.protocol + '://' + l.host + ':' + l.port, 'mono']; })));
    var rt = el('table', 'trust'); rt.appendChild(add(el('tr'), el('th', null, 'Route'), el('th', null, 'Upstream'), el('th', null, 'Note')));
    (s.routes || []).forEach(function (r) { rt.appendChild(add(el('tr'), el('td', 'mono', r.match), el('td', 'mono', r.upstream), el('td', null, r.note || ''))); });
    lr.appendChild(rt); view.appendChild(lr);
  }
  function pollStatus() {
    fetch('status', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(renderStatus).catch(function () {}).then(function () { setTimeout(pollStatus, 5000); });
  }

  // ---- live connection ----
  function connState(live, text) { var p = document.getElementById('conn-state'); p.classList.toggle('live', live); p.lastChild.textContent = text; }
  function connect() {
    var es = new EventSource('events');
    es.addEventListener('hello', function (m) {
      var h = JSON.parse(m.data);
      if (state.instance && state.instance !== h.instance) { state.items = []; state.bySeq.clear(); rebuild(); }
      state.instance = h.instance; connState(true, 'live');
    });
    es.addEventListener('edge', function (m) { addItem(JSON.parse(m.data)); });
    es.addEventListener('skipped', function (m) {
      var k = JSON.parse(m.data);
      connState(true, 'live \u00b7 ' + k.count + ' more events in the last second not shown (over ' + k.maxPerSecond + '/s)');
      clearTimeout(state.skippedTimer); state.skippedTimer = setTimeout(function () { connState(true, 'live'); }, 3000);
    });
    es.onerror = function () {
      connState(false, 'reconnecting\u2026');
      if (es.readyState === 2) { es.close(); setTimeout(connect, 2000); }
    };
  }

  // ---- controls ----
  document.getElementById('filter-host').addEventListener('input', function (e) { state.host = e.target.value.trim().toLowerCase(); rebuild(); });
  document.getElementById('filter-outcome').addEventListener('change', function (e) { state.outcome = e.target.value; rebuild(); });
  document.getElementById('pause').addEventListener('click', function (e) {
    state.paused = !state.paused; e.target.textContent = state.paused ? 'Resume' : 'Pause';
    if (!state.paused) renderQueued(); counts();
  });
  document.getElementById('clear').addEventListener('click', function () { state.items = []; state.bySeq.clear(); state.queue = []; closeDetail(); rebuild(); });
  tbody.addEventListener('click', function (e) { var tr = e.target.closest('tr[data-seq]'); if (tr) openDetail(Number(tr.dataset.seq)); });
  tbody.addEventListener('keydown', function (e) { if (e.key === 'Enter') { var tr = e.target.closest('tr[data-seq]'); if (tr) openDetail(Number(tr.dataset.seq)); } });
  document.querySelector('#detail .close').addEventListener('click', closeDetail);
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeDetail(); });
  function tab(name) {
    document.querySelectorAll('.tabs button').forEach(function (b) { b.setAttribute('aria-selected', String(b.dataset.tab === name)); });
    document.getElementById('flow-view').style.display = name === 'flow' ? '' : 'none';
    document.getElementById('tls-view').classList.toggle('shown', name === 'tls');
    document.getElementById('lanes-view').hidden = name !== 'lanes';
    document.getElementById('lessons-view').hidden = name !== 'lessons';
    api.view = name;
    api.onTab.forEach(function (f) { f(name); });
  }
  document.querySelectorAll('.tabs button').forEach(function (b) { b.addEventListener('click', function () { tab(b.dataset.tab); }); });

  // What lanes.js and lessons.js (loaded after this file) build on.
  var api = window.mtlsEdge = {
    state: state, el: el, add: add, badge: badge, visible: visible, decoded: decoded, b64bytes: b64bytes, codeName: codeName,
    fmtTime: fmtTime, fmtMs: fmtMs, statusKind: statusKind, certLabel: certLabel, kvTable: kvTable, tab: tab,
    view: 'flow', onItem: [], onTab: [], showFlow: function () {}
  };

  showEmpty(); counts(); connect(); pollStatus();
})();
