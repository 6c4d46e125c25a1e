// modelcheck explore: the page. Every answer comes from the server's JSON API, which
// recomputes it from the path (the successor index taken at each step); the page only
// keeps the path and the position on it, and mirrors both in the URL (?path=3.0.5&at=2).
(function () {
  'use strict';
  var info = null, path = [], at = 0, view = null, lastExpr = null, polling = null;
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function query(p, a) {
    return 'path=' + p.join('.') + (a !== undefined && a !== null ? '&at=' + a : '');
  }
  function getJSON(url, opts) {
    return fetch(url, opts).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.error ? body.error : r.status + ' ' + r.statusText);
        return body;
      });
    });
  }
  function message(text, cls) {
    var m = $('message');
    m.hidden = !text; m.className = 'message ' + (cls || ''); m.textContent = text || '';
  }

  function readUrl() {
    var q = new URLSearchParams(location.search);
    if (q.has('path')) {
      var t = q.get('path').trim();
      path = t ? t.split('.').map(Number) : [];
      at = q.has('at') ? Number(q.get('at')) : path.length;
    } else if (info && info.trace) {
      path = info.trace.path.slice(); at = 0;  // a --trace file: from its start, Forward steps through it
    } else { path = []; at = 0; }
  }

  function load(push) {
    return getJSON('/api/state?' + query(path, at)).then(function (v) {
      view = v; path = v.path; at = v.at;
      var url = '?' + query(path, at);
      if (push) history.pushState(null, '', url); else history.replaceState(null, '', url);
      message(null);
      render();
      if (lastExpr !== null) evaluate(lastExpr);
    }).catch(function (err) { message(err.message, 'bad'); });
  }

  function go(newPath, newAt) { path = newPath; at = newAt; return load(true); }

  // ---- rendering ----
  function render() {
    var v = view;
    $('position').textContent = 'step ' + at + ' of ' + path.length;
    $('back').disabled = at === 0; $('restart').disabled = at === 0;
    $('forward').disabled = at >= path.length;
    $('state-title').textContent = at === 0 ? 'Initial state' : 'State after step ' + at;
    renderEnabled(v); renderPath(v); renderState(v.state); renderInvariants(v);
    var ex = $('export');
    ex.href = '/api/export?' + query(path.slice(0, at));
    ex.classList.toggle('disabled', !v.export.ok);
    ex.title = v.export.ok ? 'Download the path as a trace file; modelcheck replay SPEC FILE re-runs it' : v.export.why;
    // replace, not src=: a frame's navigation would add to the browser's history (Back)
    var frame = $('diagram');
    frame.contentWindow.location.replace('/api/diagram?' + query(path.slice(0, at)) + '&width=' +
                                         Math.round(frame.clientWidth || 1200));
  }

  function renderEnabled(v) {
    var box = $('enabled'); box.textContent = '';
    $('enabled-count').textContent = v.error ? '' : '(' + v.enabled.length + ')';
    if (v.error) {
      box.appendChild(el('div', 'error-text', 'Step ' + v.error.step + ' ended in a run-time error: ' +
        v.error.message + '. No step follows; go back to branch off.'));
      return;
    }
    if (!v.enabled.length) box.appendChild(el('div', 'dim', 'No step is enabled: the system stays here forever.'));
    v.enabled.forEach(function (s) {
      var b = el('button', s.error ? 'error' : (s.node ? '' : 'env'));
      b.type = 'button'; b.dataset.index = s.index;
      b.appendChild(document.createTextNode(s.label));
      if (s.line) b.appendChild(el('span', 'line', 'line ' + s.line));
      s.chosen.forEach(function (c) { b.appendChild(el('span', 'sub', 'chooses ' + c)); });
      s.sends.forEach(function (c) { b.appendChild(el('span', 'sub', 'sends ' + c)); });
      if (s.error) b.appendChild(el('span', 'sub error-text', 'ERROR: ' + s.error));
      if (path[at] === s.index && at < path.length) b.title = 'the next step of the path (Forward)';
      b.addEventListener('click', function () { go(path.slice(0, at).concat([s.index]), at + 1); });
      box.appendChild(b);
    });
  }

  function renderPath(v) {
    var ol = $('path'); ol.textContent = '';
    var start = el('li', at === 0 ? 'here' : '', 'initial state');
    start.dataset.at = 0; ol.appendChild(start);
    v.steps.forEach(function (s, k) {
      var li = el('li', (k + 1 === at ? 'here' : (k + 1 > at ? 'ahead' : '')) + (s.error ? ' error' : ''), s.label);
      if (s.line) li.appendChild(el('span', 'line', 'line ' + s.line));
      li.dataset.at = k + 1; ol.appendChild(li);
    });
    ol.querySelectorAll('li').forEach(function (li) {
      li.addEventListener('click', function () { go(path, Number(li.dataset.at)); });
    });
    var here = ol.querySelector('li.here'); if (here) here.scrollIntoView({block: 'nearest'});
  }

  function part(title, parent) {
    var d = el('div', 'part'); d.appendChild(el('h3', '', title)); parent.appendChild(d); return d;
  }

  function renderState(s) {
    var box = $('state'); box.textContent = '';
    var nodes = el('div', 'nodes'); box.appendChild(nodes);
    s.nodes.forEach(function (n) {
      var status = n.up ? (n.paused ? 'paused' : 'up') : 'down';
      var card = el('div', 'node ' + status); card.dataset.node = n.name;
      var head = el('div', 'head'); head.appendChild(el('span', '', n.name));
      var badge = el('span', 'badge ' + status + (n.status_changed ? ' changed' : ''),
                     status + (n.paused ? ' (' + n.paused + ')' : ''));
      head.appendChild(badge); card.appendChild(head);
      var ul = el('ul', 'vars');
      if (!n.vars.length) ul.appendChild(el('li', 'dim', '(no variables)'));
      n.vars.forEach(function (x) {
        var li = el('li', x.changed ? 'changed' : '', x.name + ' = ' + x.value);
        li.dataset['var'] = x.name;
        if (x.persistent) li.title = 'persistent: survives a crash';
        ul.appendChild(li);
      });
      card.appendChild(ul); nodes.appendChild(card);
    });
    if (s.ghosts.length) {
      var g = el('ul', 'vars'); part('Ghosts', box).appendChild(g);
      s.ghosts.forEach(function (x) { g.appendChild(el('li', x.changed ? 'changed' : '', x.name + ' = ' + x.value)); });
    }
    var m = part('Messages in flight (' + s.in_flight.length + ', delivery ' + s.delivery + ')', box);
    m.id = 'in-flight';
    if (!s.in_flight.length) m.appendChild(el('div', 'dim small', 'none'));
    else {
      var ul = el('ul', 'msgs'); m.appendChild(ul);
      s.in_flight.forEach(function (x) {
        var li = el('li', x.blocked ? 'blocked' : '', x.text + '  ' + x.from + ' → ' + x.to +
                    (x.age !== null ? '  (age ' + x.age + ')' : ''));
        if (x.blocked) li.title = 'the link is cut: it cannot be delivered now';
        ul.appendChild(li);
      });
    }
    var c = part('Cut links', box); c.id = 'cut-links';
    c.appendChild(el('div', 'mono small' + (s.cut_changed ? ' changed' : ''), s.cut_links.length ? s.cut_links.join(', ') : 'none'));
    if (s.budgets.length) {
      var b = el('ul', 'vars'); part('Fault budgets left', box).appendChild(b);
      s.budgets.forEach(function (x) { b.appendChild(el('li', '', x.line + ': ' + x.left)); });
    }
    if (s.time) {
      var t = 'now = ' + s.time.now;
      if (s.time.clocks) t += '; clocks ' + Object.keys(s.time.clocks).map(function (k) { return k + '=' + s.time.clocks[k]; }).join(', ');
      part('Time', box).appendChild(el('div', 'mono small', t));
    }
  }

  function renderInvariants(v) {
    var ul = $('invariants'); ul.textContent = '';
    if (!v.invariants.length) ul.appendChild(el('li', 'dim', 'none'));
    v.invariants.forEach(function (inv) {
      var li = el('li', inv.holds ? 'holds' : 'fails', (inv.holds ? '✓ ' : '✗ ') + inv.name +
                  (inv.holds ? '' : (inv.error ? ': ' + inv.error : ' is violated')));
      li.dataset.name = inv.name;
      li.appendChild(el('span', 'line', 'line ' + inv.line));
      li.title = 'click to evaluate it here, with the values of its parts';
      li.addEventListener('click', function () { $('expr').value = inv.name; evaluate(inv.name); });
      ul.appendChild(li);
    });
    $('properties').textContent = v.properties.length ?
      'Temporal properties (' + v.properties.join(', ') + ') are about whole behaviours: Run verify checks them.' : '';
  }

  // ---- evaluate ----
  function evaluate(text) {
    lastExpr = text;
    var inv = view && view.invariants.filter(function (i) { return i.name === text.trim(); })[0];
    var box = $('eval-result');
    // an invariant's name evaluates its body (the server knows only the spec language)
    var q = inv ? '&invariant=' + encodeURIComponent(inv.name) : '&expr=' + encodeURIComponent(text);
    return getJSON('/api/eval?' + query(path, at) + q).then(function (r) {
      box.textContent = '';
      if (!r.ok) { box.appendChild(el('pre', 'diagnostics', r.diagnostics)); return; }
      var val = el('div', 'value ' + (r.value === 'true' || r.value === 'false' ? r.value : ''),
                   '= ' + r.value + '   (' + r.type + ')');
      box.appendChild(val);
      if (r.explanation.length > 1) {
        box.appendChild(el('pre', 'why', r.explanation.map(function (e) {
          return '  '.repeat(e.depth) + e.text; }).join('\n')));
      }
    }).catch(function (err) { box.textContent = err.message; });
  }

  // ---- verify ----
  function verify() {
    var budget = Number($('budget').value) || (info ? info.verify_budget : 30);
    $('verify').disabled = true;
    getJSON('/api/verify', {method: 'POST', headers: {'Content-Type': 'application/json'},
                            body: JSON.stringify({timeout: budget})})
      .then(poll).catch(function (err) { $('verify').disabled = false; message(err.message, 'bad'); });
  }
  function poll() {
    getJSON('/api/verify').then(function (run) {
      var box = $('verify-status'); box.hidden = false;
      if (run.running) {
        box.className = 'message'; box.textContent = 'verify is running (' + run.seconds + ' s of ' + run.budget + ' s)…';
        polling = setTimeout(poll, 400); return;
      }
      $('verify').disabled = false;
      box.className = 'message ' + (run.verdict === 'holds' ? 'ok' : 'bad');
      box.textContent = run.summary + (run.path ? '  — showing its counterexample below (' + run.path.length + ' steps).' : '') +
        (run.note ? '  Note: ' + run.note : '');
      if (run.path) go(run.path, run.path.length);
    }).catch(function (err) { $('verify').disabled = false; message(err.message, 'bad'); });
  }

  // ---- wiring ----
  $('back').addEventListener('click', function () { if (at > 0) go(path, at - 1); });
  $('forward').addEventListener('click', function () { if (at < path.length) go(path, at + 1); });
  $('restart').addEventListener('click', function () { go(path, 0); });
  $('verify').addEventListener('click', verify);
  $('export').addEventListener('click', function (e) { if (!view || !view.export.ok) e.preventDefault(); });
  $('eval-form').addEventListener('submit', function (e) { e.preventDefault(); evaluate($('expr').value); });
  document.addEventListener('keydown', function (e) {
    if (e.target && (e.target.tagName === 'INPUT' || e.target.tagName === 'TEXTAREA')) return;
    if (e.key === 'ArrowLeft') $('back').click();
    else if (e.key === 'ArrowRight') $('forward').click();
    else if (e.key === 'Home') $('restart').click();
  });
  window.addEventListener('popstate', function () { readUrl(); load(false); });
  $('diagram').addEventListener('load', function () {
    var f = $('diagram'), doc = f.contentDocument;
    if (doc && doc.documentElement) f.style.height = (doc.documentElement.scrollHeight + 4) + 'px';
  });

  getJSON('/api/info').then(function (i) {
    info = i;
    $('spec-name').textContent = 'spec ' + i.spec;
    $('spec-file').textContent = i.file;
    var consts = Object.keys(i.consts).map(function (k) { return k + '=' + i.consts[k]; }).join(', ');
    $('spec-faults').textContent = 'faults: ' + i.faults + (consts ? ' · consts ' + consts : '') +
      (i.trace ? ' · loaded trace: ' + i.trace.path.length + ' steps' + (i.trace.note ? ' (' + i.trace.note + ')' : '') : '');
    $('budget').value = i.verify_budget; $('budget').max = i.verify_max;
    document.title = 'explore ' + i.spec;
    readUrl();
    return load(false);
  }).catch(function (err) { message(err.message, 'bad'); });
})();
