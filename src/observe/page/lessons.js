// The lessons panel: each scenario runs at a click (the edge sends it to its own HTTPS listener) and
// opens as a flow; the curl command beside it does the same from a terminal.
(function () {
  'use strict';
  var M = window.mtlsEdge, el = M.el, add = M.add, badge = M.badge;
  var TOKEN = document.querySelector('meta[name="page-token"]').getAttribute('content');
  var box = document.getElementById('lessons-view');
  var loaded = false;

  // The events a run produced reach the page over /events a moment later.
  function whenShown(seqs, done) {
    var tries = 0;
    (function look() {
      var seq = seqs.filter(function (s) { return M.state.bySeq.has(s); })[0];
      if (seq !== undefined || tries++ > 60) done(seq); else setTimeout(look, 50);
    })();
  }

  function run(lesson, card, button) {
    var result = card.querySelector('.result');
    button.disabled = true; result.textContent = 'running\u2026'; card.dataset.state = 'running';
    fetch('lessons/run', {
      method: 'POST', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-Mtls-Edge-Page-Token': TOKEN },
      body: JSON.stringify({ lesson: lesson.id })
    }).then(function (r) {
      return r.ok ? r.json() : r.text().then(function (t) { throw new Error(t); });
    }).then(function (r) {
      var o = r.outcome;
      result.textContent = '';
      add(result, o.kind === 'response' ? badge('HTTP ' + o.status, M.statusKind(o.status)) : badge(o.kind === 'refused' ? 'refused' : 'not run', 'err'), o.error ? ' ' + o.error : null);
      card.dataset.state = 'done';
      // The runs under each mode open as columns below the flow; their events arrive like any other.
      var modes = r.modes || null;
      whenShown(r.seqs, function (seq) {
        if (seq === undefined) return;
        if (!modes) { M.showFlow(seq, { compare: false }); return; }
        whenShown(modes.map(function (m) { return m.seqs[0]; }).filter(function (s) { return s !== undefined; }).slice(-1), function () {
          M.showFlow(seq, { compare: true, modes: modes });
        });
      });
    }).catch(function (e) {
      result.textContent = ''; add(result, badge('failed', 'err'), ' ' + e.message); card.dataset.state = 'failed';
    }).then(function () { button.disabled = false; });
  }

  function copy(text, button) {
    var done = function () { button.textContent = 'Copied'; setTimeout(function () { button.textContent = 'Copy'; }, 1500); };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, function () { button.textContent = 'Select and copy'; });
  }

  function render(listing) {
    box.textContent = '';
    box.appendChild(el('h2', 'section-title', 'Lessons'));
    box.appendChild(el('p', 'muted', 'Each lesson sends one request from the edge to its own HTTPS listener with the dev PKI, then shows its flow. The command beside it does the same from a terminal.'));
    if (listing.problem) box.appendChild(el('div', 'hint', 'Lessons cannot run here: ' + listing.problem));
    var grid = el('div', 'lesson-grid');
    listing.lessons.forEach(function (lesson) {
      var card = el('article', 'lesson'); card.dataset.lesson = lesson.id;
      card.appendChild(el('h3', null, lesson.title));
      card.appendChild(el('p', null, lesson.teaches));
      if (lesson.note) card.appendChild(el('p', 'hint warn lesson-note', lesson.note));
      var actions = el('div', 'lesson-actions');
      var go = el('button', 'run', 'Run'); go.type = 'button'; go.disabled = !!listing.problem;
      go.setAttribute('aria-label', 'Run lesson: ' + lesson.title);
      go.addEventListener('click', function () { run(lesson, card, go); });
      actions.appendChild(go); actions.appendChild(el('span', 'result'));
      card.appendChild(actions);
      if (lesson.curl) {
        var cmd = el('pre', 'curl', lesson.curl); cmd.tabIndex = 0; cmd.setAttribute('aria-label', 'curl command for ' + lesson.title);
        var c = el('button', 'copy', 'Copy'); c.type = 'button'; c.setAttribute('aria-label', 'Copy the curl command for ' + lesson.title);
        c.addEventListener('click', function () { copy(lesson.curl, c); });
        card.appendChild(add(el('div', 'curl-box'), cmd, c));
      }
      grid.appendChild(card);
    });
    box.appendChild(grid);
  }

  function load() {
    fetch('lessons', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (l) { loaded = true; render(l); })
      .catch(function (e) { box.textContent = ''; box.appendChild(el('div', 'hint', 'Could not load the lessons: ' + e.message)); });
  }
  M.onTab.push(function (name) { if (name === 'lessons' && !loaded) load(); });
})();
