// The trainer's flow view: one request (or refused handshake) as three lanes, client -> edge -> app,
// large enough for a projector. Keys: Left/Right step through requests, M compares the four
// forwarded_client_cert modes, P toggles presenter mode (Esc leaves it), T cycles the theme.
// Built on window.mtlsEdge (flow.js); like flow.js, every text reaches the DOM through textContent.
(function () {
  'use strict';
  var M = window.mtlsEdge, el = M.el, add = M.add, badge = M.badge;
  var MODES = JSON.parse(document.getElementById('mode-table').textContent || '[]');
  var MODE_NAMES = MODES.map(function (r) { return r.mode; }).filter(function (m, i, a) { return a.indexOf(m) === i; });
  var SIGNATURE = 'x-cf-proxy-signature';
  var view = { seq: null, follow: true, compare: false };
  // A lesson's runs under the four modes, by the seq of its flow (lessons.js hands them over).
  var modeRuns = new Map();
  var root = document.getElementById('lanes');

  // ---- a small DER reader: enough of an X.509 certificate to name it ----
  function tlv(u, pos) {
    if (pos + 2 > u.length) return null;
    var tag = u[pos], len = u[pos + 1], p = pos + 2;
    if (len & 0x80) {
      var n = len & 0x7f; if (n < 1 || n > 3) return null;
      len = 0; for (var i = 0; i < n; i++) len = len * 256 + u[p++];
    }
    return p + len > u.length ? null : { tag: tag, start: p, end: p + len };
  }
  function kids(u, node) {
    var out = [], p = node.start;
    while (p < node.end) { var c = tlv(u, p); if (!c) throw new Error('bad DER'); out.push(c); p = c.end; }
    return out;
  }
  var ATTR = { '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU' };
  function oid(u, n) {
    var b = u.subarray(n.start, n.end), parts = [Math.floor(b[0] / 40), b[0] % 40], v = 0;
    for (var i = 1; i < b.length; i++) { v = v * 128 + (b[i] & 0x7f); if (!(b[i] & 0x80)) { parts.push(v); v = 0; } }
    return parts.join('.');
  }
  function text(u, n) {
    var b = u.subarray(n.start, n.end), s = '';
    if (n.tag === 0x1e) { for (var i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode(b[i] * 256 + b[i + 1]); return s; }
    try { return new TextDecoder('utf-8', { fatal: true }).decode(b); } catch (e) { return '(undecodable)'; }
  }
  function dn(u, n) {
    return kids(u, n).map(function (set) {
      return kids(u, set).map(function (atv) { var k = kids(u, atv), o = oid(u, k[0]); return (ATTR[o] || o) + '=' + text(u, k[1]); }).join('+');
    }).join(', ');
  }
  function when(u, n) {
    var s = text(u, n), m = n.tag === 0x17 ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/.exec(s) : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)/.exec(s);
    if (!m) return s;
    var year = n.tag === 0x17 ? (Number(m[1]) >= 50 ? '19' : '20') + m[1] : m[1];
    return year + '-' + m[2] + '-' + m[3] + ' ' + m[4] + ':' + m[5] + ' UTC';
  }
  function derCertificate(u) {
    try {
      var cert = tlv(u, 0); if (!cert || cert.tag !== 0x30) return null;
      var f = kids(u, kids(u, cert)[0]), i = f[0].tag === 0xa0 ? 1 : 0, validity = kids(u, f[i + 3]);
      return { subject: dn(u, f[i + 4]), issuer: dn(u, f[i + 2]), notBefore: when(u, validity[0]), notAfter: when(u, validity[1]) };
    } catch (e) { return null; }
  }
  function decode(name, value) {
    if (name.toLowerCase() === 'x-forwarded-client-cert') {
      var u = M.b64bytes(value), c = u && derCertificate(u);
      if (c) return el('span', null, 'certificate ' + c.subject + ' \u00b7 issued by ' + c.issuer + ' \u00b7 valid ' + c.notBefore + ' \u2013 ' + c.notAfter);
    }
    return M.decoded(name, value);
  }

  // ---- the mode table ----
  function clientAuthOn(ev) {
    var s = M.state.status, c = s && (s.tlsConfigs || []).filter(function (t) { return t.name === ev.tlsConfig; })[0];
    return c ? c.clientAuth !== 'disabled' : true;
  }
  function rowOf(mode, authOn) {
    return MODES.filter(function (r) { return r.mode === mode && (r.clientAuth === '*' || r.clientAuth === authOn); })[0];
  }
  function rowText(r) {
    return r.mode + ' \u00b7 client auth ' + (r.clientAuth === '*' ? 'any' : r.clientAuth ? 'on' : 'off') + ' \u2192 delete ' + r.delete + ', set ' + (r.set ? 'yes' : 'no');
  }
  function hasSignature(ev) {
    return (ev.forwarded || []).some(function (p) { return p[0].toLowerCase() === SIGNATURE; });
  }
  function deletes(rule, certUsed, signature) {
    return rule === 'always' || (rule === 'when_no_cert_used' && !certUsed) || (rule === 'unless_signature' && !signature);
  }
  function deleteWhy(rule, deleted, certUsed, signature) {
    if (rule === 'never') return 'delete never: the client\u2019s value passes';
    if (rule === 'always') return 'delete always';
    if (rule === 'when_no_cert_used') return certUsed ? 'a certificate was used: kept' : 'no certificate used: deleted';
    return signature ? 'X-Cf-Proxy-Signature present (any value): kept' : 'no X-Cf-Proxy-Signature: deleted';
  }
  function pairKey(p) { return p[0].toLowerCase() + '\u0000' + p[1]; }

  // ---- lanes ----
  var ACTIONS = { sent: ['sent', 'info'], removed: ['removed', 'err'], kept: ['kept', 'warn'], set: ['set', 'ok'], forwarded: ['passed', 'mute'] };
  function headerItem(pair, action, why) {
    var li = el('li', 'hdr act-' + action); li.dataset.header = pair[0].toLowerCase(); li.dataset.action = action;
    var line = add(el('div', 'hline'), badge(ACTIONS[action][0], ACTIONS[action][1]), ' ', el('span', 'hname', pair[0]), ' ');
    var val = el('span', 'hval', pair[1] === '' ? '(empty)' : pair[1]); val.title = pair[1];
    line.appendChild(val); li.appendChild(line);
    var d = decode(pair[0], pair[1]); if (d) li.appendChild(add(el('div', 'hdec'), d));
    if (why) li.appendChild(el('div', 'why', why));
    return li;
  }
  function list(items, none) {
    if (!items.length) return el('p', 'none', none);
    var ul = el('ul', 'hdrs'); items.forEach(function (li) { ul.appendChild(li); }); return ul;
  }
  function lane(cls, title) { var s = el('section', 'lane ' + cls); s.setAttribute('aria-label', title); s.appendChild(el('h3', null, title)); return s; }
  function arrow() { var a = el('div', 'arrow', '\u2192'); a.setAttribute('aria-hidden', 'true'); return a; }
  function verdict(kind, title, lines) {
    var b = el('div', 'verdict v-' + kind); b.appendChild(el('div', 'vtitle', title));
    lines.forEach(function (l) { if (l) b.appendChild(l instanceof Node ? l : el('div', null, l)); });
    return b;
  }

  function clientLane(ev) {
    var s = lane('lane-client', 'Client');
    s.appendChild(el('div', 'what', ev.kind === 'request' ? ev.method + ' ' + (ev.host || '') + ev.path : 'TLS handshake' + (ev.sni ? ' for ' + ev.sni : '')));
    var links = ev.cert ? ev.cert.chain || [] : [];
    s.appendChild(el('h4', null, ev.cert ? 'Certificate chain presented (' + (links.length + 1) + (ev.cert.chainTruncated ? '+' : '') + ')' : 'Certificate presented'));
    if (ev.cert) {
      // The leaf and what the client sent with it, each issued by the next; then the issuer it did not send.
      var chain = el('ol', 'chain');
      chain.appendChild(add(el('li', 'sent'), el('b', null, ev.cert.subjectCN || ev.cert.subject), el('div', 'muted', ev.cert.subject)));
      links.forEach(function (c) { chain.appendChild(add(el('li', 'sent'), 'issued by ', el('b', null, c.subjectCN || c.subject), el('div', 'muted', c.subject))); });
      var last = links.length ? links[links.length - 1] : ev.cert;
      if (ev.cert.chainNotRead) chain.appendChild(el('li', 'more muted', ev.cert.chainNotRead));
      else if (ev.cert.chainTruncated) chain.appendChild(el('li', 'more muted', '\u2026 the client sent more: the first ' + (links.length + 1) + ' are shown'));
      else if (last.issuer !== last.subject) chain.appendChild(add(el('li', 'not-sent'), 'issued by ', el('b', null, last.issuer), el('div', 'muted', 'not sent by the client')));
      s.appendChild(chain);
      s.appendChild(el('div', 'muted', 'valid ' + ev.cert.validFrom + ' \u2013 ' + ev.cert.validTo));
    } else s.appendChild(el('p', 'none', 'none'));
    if (ev.kind === 'request') {
      s.appendChild(el('h4', null, 'Client-certificate headers sent (' + ev.h10.sent.length + ')'));
      s.appendChild(list(ev.h10.sent.map(function (p) { return headerItem(p, 'sent', null); }), 'none of the ten'));
    }
    return s;
  }

  function edgeLane(ev) {
    var s = lane('lane-edge', 'Edge');
    if (ev.kind === 'handshake-rejected') {
      s.appendChild(verdict('err', 'Handshake refused' + (ev.verify ? ': ' + ev.verify.name + ' (' + ev.verify.code + ')' : ev.cert ? '' : ': no certificate'), [
        ev.reason, ev.alert ? 'TLS alert ' + ev.alert : null, add(el('div', 'fix'), el('b', null, 'Fix: '), ev.hint || (ev.verify && ev.verify.hint) || '-')
      ]));
      return s;
    }
    if (ev.listener !== 'https') s.appendChild(verdict('mute', 'Plain HTTP: no TLS', ['The ten headers pass untouched (always_forward_only).']));
    else if (!ev.cert) s.appendChild(verdict('info', 'Handshake OK, no certificate', ['Client auth is optional here: the request goes on without an identity.']));
    else if (ev.verify && ev.verify.code !== 0) s.appendChild(verdict('warn', 'Accepted despite ' + ev.verify.name + ' (' + ev.verify.code + ')', ['The code is on the ignore list.', add(el('div', 'fix'), el('b', null, 'Fix: '), ev.verify.hint || '-')]));
    else s.appendChild(verdict('ok', 'Handshake OK: certificate verified', ['X509_V_OK (0)' + (ev.mappedUser ? ' \u00b7 user ' + ev.mappedUser : '')]));
    var authOn = clientAuthOn(ev), row = rowOf(ev.forwardedClientCert, authOn), certUsed = !!ev.cert, sig = hasSignature(ev);
    if (row) s.appendChild(add(el('div', 'mode-row'), el('span', 'muted', 'mode table row: '), el('b', null, rowText(row))));
    var removed = new Set(ev.h10.removed.map(pairKey)), items = [];
    ev.h10.sent.forEach(function (p) {
      var gone = removed.has(pairKey(p));
      var why = row ? (gone && row.set && certUsed && !deletes(row.delete, certUsed, sig) ? 'replaced by the value from the certificate' : deleteWhy(row.delete, gone, certUsed, sig)) : null;
      items.push(headerItem(p, gone ? 'removed' : 'kept', why));
    });
    ev.h10.set.forEach(function (p) { items.push(headerItem(p, 'set', 'set yes: from the certificate of this connection')); });
    s.appendChild(el('h4', null, 'Client-certificate headers'));
    s.appendChild(list(items, row && row.set && !certUsed ? 'nothing to remove; nothing set: no certificate' : 'nothing removed, nothing set'));
    if (ev.error) s.appendChild(verdict('err', 'Answered by the edge: ' + ev.status, [ev.error]));
    return s;
  }

  function appLane(ev) {
    var s = lane('lane-app', 'App');
    if (ev.kind === 'handshake-rejected') { s.appendChild(el('p', 'none', 'Nothing: the connection ended in the TLS handshake, before any HTTP request.')); return s; }
    if (ev.forwarded === null) { s.appendChild(el('p', 'none', 'Nothing: the edge answered ' + ev.status + ' itself.')); return s; }
    if (!ev.forwarded) { s.appendChild(el('p', 'none', 'Not recorded for this request.')); return s; }
    var set = new Set(ev.h10.set.map(pairKey)), sent = new Set(ev.h10.sent.map(pairKey));
    s.appendChild(el('div', 'what', ev.method + ' ' + ev.path + ' \u2192 answered ' + ev.status));
    s.appendChild(el('h4', null, 'Headers the app received (' + ev.forwarded.length + ')'));
    var ul = list(ev.forwarded.map(function (p) { return headerItem(p, set.has(pairKey(p)) ? 'set' : sent.has(pairKey(p)) ? 'kept' : 'forwarded', null); }), 'none');
    ul.classList.add('received');
    s.appendChild(ul);
    s.appendChild(el('p', 'muted note', ev.forwardedAsSent
      ? 'Exactly as the app received them, in order, as the edge\u2019s HTTP client wrote them.'
      : 'As the edge handed them to its HTTP client (recorded byte for byte only while this page is open, and only when the app answered), which writes Host first as host and adds its own Connection header and body framing.'));
    return s;
  }

  // ---- the four modes side by side ----
  var CLIENT_CERT_HEADER = /^x-ssl-client|^x-forwarded-client-cert$/i;
  function modeHeading(mode, ev) {
    return add(el('h4'), mode, mode === ev.forwardedClientCert ? add(el('span'), ' ', badge('as running', 'info')) : null);
  }
  function sees(kind, text) { return el('div', 'sees sees-' + kind, 'The app sees: ' + text); }
  function utf8(b64) { var u = M.b64bytes(b64); return u ? new TextDecoder().decode(u) : b64; }

  // A lesson's run under one mode: what the edge did and what the upstream received, from its event.
  function realColumn(run, ev0) {
    var col = el('div', 'mode-col'); col.dataset.mode = run.mode;
    col.appendChild(modeHeading(run.mode, ev0));
    var item = run.seqs.length ? M.state.bySeq.get(run.seqs[0]) : null;
    if (run.outcome.kind !== 'response') { col.appendChild(el('p', 'none', (run.outcome.kind === 'refused' ? 'Refused: ' : 'Not run: ') + run.outcome.error)); return col; }
    if (!item || item.event.kind !== 'request') { col.appendChild(el('p', 'none', 'Its flow is no longer on this page.')); return col; }
    var ev = item.event, row = rowOf(run.mode, clientAuthOn(ev));
    col.dataset.seq = item.seq;
    if (row) col.appendChild(el('div', 'muted', rowText(row)));
    col.appendChild(el('div', 'muted', 'edge: removed ' + ev.h10.removed.length + ', set ' + ev.h10.set.length));
    var set = new Set(ev.h10.set.map(pairKey)), sent = new Set(ev.h10.sent.map(pairKey));
    var got = (ev.forwarded || []).filter(function (p) { return CLIENT_CERT_HEADER.test(p[0]); });
    col.appendChild(el('div', 'muted', 'The upstream received:'));
    var ul = list(got.map(function (p) { return headerItem(p, set.has(pairKey(p)) ? 'set' : sent.has(pairKey(p)) ? 'kept' : 'forwarded', null); }), 'no client-certificate header');
    if (ul.tagName === 'UL') ul.classList.add('received');
    col.appendChild(ul);
    var cn = got.filter(function (p) { return /^x-ssl-client-subject-cn$/i.test(p[0]); })[0];
    col.appendChild(!cn ? sees('none', 'no identity') : set.has(pairKey(cn)) ? sees('cert', utf8(cn[1]) + ' (from the certificate)') : sees('forged', utf8(cn[1]) + ' (forged by the client!)'));
    return col;
  }

  // Any other request: what each mode would do with it, from the mode table (the edge ran one mode).
  function predictedColumn(mode, ev) {
    var authOn = clientAuthOn(ev), certUsed = !!ev.cert, sig = hasSignature(ev);
    var row = rowOf(mode, authOn), col = el('div', 'mode-col'); col.dataset.mode = mode; col.dataset.predicted = 'true';
    col.appendChild(modeHeading(mode, ev));
    col.appendChild(el('div', 'muted', rowText(row)));
    var setting = row.set && certUsed, dropped = setting || deletes(row.delete, certUsed, sig), items = [];
    ev.h10.sent.forEach(function (p) { items.push(headerItem(p, dropped ? 'removed' : 'kept', null)); });
    if (setting) items.push(add(el('li', 'hdr act-set'), badge('set', 'ok'), ' the ten headers from the certificate'));
    col.appendChild(list(items, 'no client-certificate header'));
    var cn = ev.h10.sent.filter(function (p) { return /^x-ssl-client-subject-cn$/i.test(p[0]); })[0];
    col.appendChild(setting ? sees('cert', (ev.cert.subjectCN || ev.cert.subject) + ' (from the certificate)') : !dropped && cn ? sees('forged', utf8(cn[1]) + ' (forged by the client!)') : sees('none', 'no identity'));
    return col;
  }

  function modeColumns(ev, runs) {
    var box = el('section', 'modes'); box.setAttribute('aria-label', 'The four forwarded_client_cert modes');
    box.appendChild(el('h3', null, runs ? 'The same request sent through the edge under each forwarded_client_cert mode' : 'This request under each forwarded_client_cert mode (predicted)'));
    var grid = el('div', 'mode-grid');
    if (runs) runs.forEach(function (run) { grid.appendChild(realColumn(run, ev)); });
    else MODE_NAMES.forEach(function (mode) { grid.appendChild(predictedColumn(mode, ev)); });
    box.appendChild(grid);
    box.appendChild(el('p', 'muted', runs
      ? 'Each column is one real request through a lesson listener of the edge in that mode; the lists are what the upstream received.'
      : 'Computed from the mode table; the edge ran ' + ev.forwardedClientCert + '. The lesson \u201ceach mode side by side\u201d sends a request through all four.'));
    return box;
  }

  // ---- navigation ----
  function flowItems() { return M.state.items.filter(function (i) { return i.event.kind === 'request' || i.event.kind === 'handshake-rejected'; }); }
  function render() {
    var items = flowItems();
    if (view.follow || view.seq === null || !M.state.bySeq.has(view.seq)) view.seq = items.length ? items[items.length - 1].seq : null;
    root.textContent = '';
    var pos = -1; items.forEach(function (it, i) { if (it.seq === view.seq) pos = i; });
    document.getElementById('lane-pos').textContent = items.length ? 'request ' + (pos + 1) + ' of ' + items.length : '';
    document.getElementById('prev').disabled = pos <= 0;
    document.getElementById('next').disabled = pos < 0 || pos >= items.length - 1;
    if (view.seq === null) { root.appendChild(el('p', 'none waiting', 'Waiting for a request\u2026 run a lesson, or send one with curl.')); return; }
    var ev = M.state.bySeq.get(view.seq).event;
    root.dataset.seq = view.seq; root.dataset.kind = ev.kind;
    var title = ev.kind === 'request'
      ? add(el('h2', 'flow-title'), badge(ev.status, M.statusKind(ev.status)), ' ', ev.method + ' ' + ev.host + ev.path)
      : add(el('h2', 'flow-title'), badge('refused', 'err'), ' TLS handshake' + (ev.sni ? ' for ' + ev.sni : ''));
    title.appendChild(el('small', 'muted', ' ' + M.fmtTime(ev.time)));
    root.appendChild(title);
    root.appendChild(add(el('div', 'lanes'), clientLane(ev), arrow(), edgeLane(ev), arrow(), appLane(ev)));
    if (view.compare && ev.kind === 'request') root.appendChild(modeColumns(ev, modeRuns.get(view.seq) || null));
  }
  function step(delta) {
    var items = flowItems(); if (!items.length) return;
    var pos = items.map(function (i) { return i.seq; }).indexOf(view.seq);
    var next = Math.max(0, Math.min(items.length - 1, (pos < 0 ? items.length - 1 : pos) + delta));
    view.seq = items[next].seq; view.follow = next === items.length - 1;
    document.getElementById('follow').checked = view.follow;
    render();
  }
  function setCompare(on) { view.compare = on; document.getElementById('compare').setAttribute('aria-pressed', String(on)); render(); }
  function setPresenter(on) {
    document.body.classList.toggle('presenter', on);
    document.getElementById('presenter').setAttribute('aria-pressed', String(on));
    if (on && M.view !== 'lanes') M.tab('lanes');
  }
  var THEMES = ['auto', 'light', 'dark'];
  function setTheme(name) {
    if (name === 'auto') delete document.documentElement.dataset.theme; else document.documentElement.dataset.theme = name;
    document.getElementById('theme').textContent = 'Theme: ' + name;
    try { localStorage.setItem('mtls-edge-theme', name); } catch (e) { /* private mode */ }
  }
  function currentTheme() { return document.documentElement.dataset.theme || 'auto'; }

  // ---- export: the flow as one static HTML file (no script, no server) ----
  function exportFlow() {
    if (view.seq === null) return;
    fetch('flow.css').then(function (r) { return r.text(); }).then(function (css) {
      var ev = M.state.bySeq.get(view.seq).event;
      var doc = document.implementation.createHTMLDocument('mtls-edge flow');
      doc.documentElement.lang = 'en';
      doc.documentElement.dataset.theme = currentTheme() === 'dark' ? 'dark' : 'light';
      var meta = doc.createElement('meta'); meta.setAttribute('charset', 'utf-8'); doc.head.appendChild(meta);
      var csp = doc.createElement('meta'); csp.httpEquiv = 'Content-Security-Policy'; csp.content = "default-src 'none'; style-src 'unsafe-inline'"; doc.head.appendChild(csp);
      doc.title = 'mtls-edge flow \u00b7 ' + (ev.kind === 'request' ? ev.method + ' ' + ev.host + ev.path : 'TLS handshake');
      var style = doc.createElement('style'); style.textContent = css; doc.head.appendChild(style);
      doc.body.className = 'export';
      var main = doc.createElement('main'); main.appendChild(doc.importNode(root, true)); doc.body.appendChild(main);
      var foot = doc.createElement('footer'); foot.className = 'muted';
      foot.textContent = 'Exported from the mtls-edge flow page on ' + new Date().toISOString() + '.'; main.appendChild(foot);
      var html = '<!doctype html>\n' + doc.documentElement.outerHTML;
      var a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
      a.download = 'mtls-edge-flow-' + view.seq + '.html';
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
    });
  }

  // ---- wiring ----
  document.getElementById('prev').addEventListener('click', function () { step(-1); });
  document.getElementById('next').addEventListener('click', function () { step(1); });
  document.getElementById('follow').addEventListener('change', function (e) { view.follow = e.target.checked; render(); });
  document.getElementById('compare').addEventListener('click', function () { setCompare(!view.compare); });
  document.getElementById('presenter').addEventListener('click', function () { setPresenter(!document.body.classList.contains('presenter')); });
  document.getElementById('theme').addEventListener('click', function () { setTheme(THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length]); });
  document.getElementById('export').addEventListener('click', exportFlow);
  var leave = el('button', 'leave-presenter', 'Leave presenter (P)'); leave.type = 'button';
  leave.addEventListener('click', function () { setPresenter(false); });
  document.body.appendChild(leave);
  document.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
    var k = e.key;
    if (k === 'p' || k === 'P') setPresenter(!document.body.classList.contains('presenter'));
    else if (k === 'Escape' && document.body.classList.contains('presenter')) setPresenter(false);
    else if (k === 't' || k === 'T') setTheme(THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length]);
    else if (M.view !== 'lanes') return;
    else if (k === 'ArrowLeft') step(-1);
    else if (k === 'ArrowRight') step(1);
    else if (k === 'm' || k === 'M') setCompare(!view.compare);
    else return;
    e.preventDefault();
  });
  var pending = null;
  M.onItem.push(function () {
    if (M.view === 'lanes' && view.follow && pending === null) pending = setTimeout(function () { pending = null; render(); }, 60);
  });
  M.onTab.push(function (name) { if (name === 'lanes') render(); });
  M.showFlow = function (seq, opts) {
    view.seq = seq; view.follow = false; document.getElementById('follow').checked = false;
    if (opts && opts.compare !== undefined) view.compare = opts.compare;
    if (opts && opts.modes) {
      modeRuns.set(seq, opts.modes);
      if (modeRuns.size > 50) modeRuns.delete(modeRuns.keys().next().value);
    }
    document.getElementById('compare').setAttribute('aria-pressed', String(view.compare));
    M.tab('lanes'); render();
  };
  try { var saved = localStorage.getItem('mtls-edge-theme'); if (saved && THEMES.indexOf(saved) >= 0) setTheme(saved); } catch (e) { /* private mode */ }
})();
