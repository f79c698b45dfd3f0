// Cogniscape portal: copy buttons, revealing the secret, refreshing the
// Verify panel, panning the graph. Everything works without it, more slowly.
(function () {
  'use strict';

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : '';
  }

  var MASK = '••••••••••••••••••••••••••••••';
  var secret = null; // the revealed secret, kept only while shown

  function showSecret(value) {
    secret = value;
    document.querySelectorAll('[data-secret-value]').forEach(function (el) {
      el.textContent = value === null ? MASK : value;
      el.setAttribute('data-masked', value === null ? 'true' : 'false');
    });
    var b = document.getElementById('reveal');
    if (b) { b.textContent = value === null ? 'Reveal' : 'Hide'; }
  }

  // Every reveal asks the server, which writes it to the audit log.
  function reveal(form) {
    var body = new URLSearchParams(new FormData(form));
    return fetch(form.action, {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf() }
    }).then(function (r) {
      if (!r.ok) { throw new Error('reveal failed: ' + r.status); }
      return r.json();
    }).then(function (j) { showSecret(j.secret); noteReveal(); return j.secret; });
  }

  // The audit log on the page shows the reveal just made.
  function noteReveal() {
    var list = document.getElementById('audit');
    if (!list) { return; }
    if (list.tagName !== 'UL') {
      var ul = document.createElement('ul');
      ul.className = 'audit';
      ul.id = 'audit';
      list.replaceWith(ul);
      list = ul;
    }
    var li = document.createElement('li');
    var what = document.createElement('span');
    what.className = 'audit-what';
    what.textContent = '◉ Revealed';
    li.appendChild(what);
    li.appendChild(document.createTextNode(' by you just now'));
    list.prepend(li);
  }

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.matches('form[data-reveal]')) { return; }
    e.preventDefault();
    if (secret !== null) { showSecret(null); return; }
    reveal(form).catch(function () { form.submit(); });
  });

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.className = 'visually-hidden';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
      document.body.removeChild(ta);
      if (ok) { resolve(); } else { reject(new Error('copy failed')); }
    });
  }

  document.addEventListener('click', function (e) {
    var btn = e.target.closest('[data-copy]');
    if (btn) {
      var target = document.querySelector(btn.getAttribute('data-copy'));
      if (!target) { return; }
      var ready = Promise.resolve();
      if (btn.hasAttribute('data-needs-reveal') && secret === null) {
        var form = document.querySelector('form[data-reveal]');
        if (form) { ready = reveal(form); }
      }
      ready.then(function () {
        var text = target.textContent.trim();
        btn.setAttribute('data-copy-text', text);
        return copyText(text);
      }).then(function () {
        var label = btn.textContent;
        btn.textContent = 'Copied ✓';
        btn.setAttribute('data-copied', 'true');
        setTimeout(function () { btn.textContent = label; btn.removeAttribute('data-copied'); }, 1800);
      }, function () {
        btn.textContent = 'Select and copy';
      });
      return;
    }
    var z = e.target.closest('[data-zoom]');
    if (z) {
      var svg = document.querySelector(z.getAttribute('data-target'));
      if (svg) { zoom(svg, z.getAttribute('data-zoom')); }
    }
  });

  // The Verify panel refreshes itself until the page is left.
  var verify = document.getElementById('verify');
  if (verify && verify.hasAttribute('data-poll')) {
    var url = verify.getAttribute('data-poll');
    var polls = 0;
    var tick = function () {
      if (document.hidden) { return; }
      polls++;
      fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } }).then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return r.text();
      }).then(function (html) {
        var cur = document.getElementById('verify');
        var t = document.createElement('template');
        t.innerHTML = html.trim();
        var next = t.content.firstElementChild;
        if (cur && next && cur.outerHTML !== next.outerHTML) { cur.replaceWith(next); }
      }).catch(function () {});
    };
    var timer = setInterval(function () {
      tick();
      if (polls > 600) { clearInterval(timer); }
    }, 3000);
  }

  // Graph: drag to pan, buttons to zoom, arrow keys when focused.
  function viewBox(svg) {
    return svg.getAttribute('viewBox').split(/[\s,]+/).map(Number);
  }
  function setViewBox(svg, vb) { svg.setAttribute('viewBox', vb.map(function (v) { return v.toFixed(1); }).join(' ')); }
  function zoom(svg, how) {
    if (!svg.dataset.home) { svg.dataset.home = svg.getAttribute('viewBox'); }
    if (how === 'reset') { svg.setAttribute('viewBox', svg.dataset.home); return; }
    var vb = viewBox(svg);
    var f = how === 'in' ? 0.8 : 1.25;
    var cx = vb[0] + vb[2] / 2, cy = vb[1] + vb[3] / 2;
    vb[2] *= f; vb[3] *= f;
    vb[0] = cx - vb[2] / 2; vb[1] = cy - vb[3] / 2;
    setViewBox(svg, vb);
  }
  document.querySelectorAll('svg[data-pannable]').forEach(function (svg) {
    svg.dataset.home = svg.getAttribute('viewBox');
    svg.setAttribute('tabindex', '0');
    var start = null;
    svg.addEventListener('pointerdown', function (e) {
      if (e.target.closest('a')) { return; }
      start = { x: e.clientX, y: e.clientY, vb: viewBox(svg) };
      svg.setPointerCapture(e.pointerId);
    });
    svg.addEventListener('pointermove', function (e) {
      if (!start) { return; }
      var scale = start.vb[2] / svg.clientWidth;
      var vb = start.vb.slice();
      vb[0] -= (e.clientX - start.x) * scale;
      vb[1] -= (e.clientY - start.y) * scale;
      setViewBox(svg, vb);
    });
    var end = function () { start = null; };
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointercancel', end);
    svg.addEventListener('keydown', function (e) {
      var vb = viewBox(svg), step = vb[2] / 10;
      var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[e.key]) {
        vb[0] += moves[e.key][0]; vb[1] += moves[e.key][1];
        setViewBox(svg, vb);
        e.preventDefault();
      } else if (e.key === '+' || e.key === '=') { zoom(svg, 'in'); } else if (e.key === '-') { zoom(svg, 'out'); }
    });
  });

  // Tells whoever drives the page (the browser tests) that the handlers above
  // are attached: a click before that would take the slower path without it.
  document.documentElement.setAttribute('data-js', 'ready');
})();
