(function () {
  function mark(step, on) {
    document.querySelectorAll('[data-step="' + step + '"]').forEach(function (el) {
      el.classList.toggle('hl', on);
      var line = el.getAttribute('data-line');
      if (line) { var src = document.getElementById('L' + line); if (src) src.classList.toggle('hl', on); }
    });
  }
  document.querySelectorAll('[data-step]').forEach(function (el) {
    var step = el.getAttribute('data-step');
    el.addEventListener('mouseenter', function () { mark(step, true); });
    el.addEventListener('mouseleave', function () { mark(step, false); });
    el.addEventListener('click', function () {
      var line = el.getAttribute('data-line'), pane = document.getElementById('src');
      var src = line && document.getElementById('L' + line);
      if (pane && src) pane.scrollTop = src.offsetTop - pane.clientHeight / 2;
    });
  });
})();
