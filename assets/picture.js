/*
 * Optimizer Race: the opening page's picture of its map (web/picture.py draws it on the
 * server, in the page's HTML) stays until the page's own map is drawn, then goes. It is laid
 * over the page, so nothing moves when it goes.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  // The first drawing of the racers on the map: the map is there.
  var gone = false;
  R.on("mapdraw", function () {
    if (gone) return;
    var picture = R.el("OPENING_PICTURE");
    if (picture) picture.remove();
    gone = true;
  });
})();
