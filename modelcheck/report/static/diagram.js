/* The sequence diagram's only script (report/diagram.py). The layout measured its text
   with DejaVu Sans Mono's metrics (report/fontmetrics.py). Where this browser draws it in
   a wider font, squeeze each such line back to the width the layout gave it, so that no
   label runs into another; a font as wide or narrower needs nothing. Runs once, at load. */
(function () {
  var ADVANCE = 1233 / 2048;  // em per character of DejaVu Sans Mono (and Menlo)
  document.querySelectorAll('svg.seq text').forEach(function (t) {
    var size = parseFloat(window.getComputedStyle(t).fontSize) || 11;
    var planned = Array.from(t.textContent).length * ADVANCE * size;
    if (t.getComputedTextLength() > planned + 0.5) {
      t.setAttribute('textLength', planned.toFixed(1));
      t.setAttribute('lengthAdjust', 'spacingAndGlyphs');
    }
  });
})();
