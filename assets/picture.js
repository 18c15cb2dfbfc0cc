/*
 * Optimizer Race: the opening page's picture of its map (web/picture.py draws it on the
 * server, in the page's HTML) stays until the page's own map is drawn, then goes. It is laid
 * over the page, so nothing moves when it goes.
 */
(function () {
  "use strict";

  function check() {
    var picture = document.getElementById("opening-picture");
    if (!picture) return;
    var R = window.optimizerRace;
    if (R && R.drawnAt > 0) {
      picture.remove();
    } else {
      window.requestAnimationFrame(check);
    }
  }
  check();
})();
