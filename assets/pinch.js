/*
 * Optimizer Race: pinch to zoom the map on a touch screen. Plotly pans with one finger but
 * has no pinch; two fingers here scale the map's ranges about the point between them (both
 * axes alike, so one unit of x stays one unit of y), and the page itself does not zoom.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var pinch = null, frame = null;

  function distance(a, b) { return Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY); }

  function start(gd, event) {
    var fl = gd._fullLayout, box = gd.getBoundingClientRect();
    var a = event.touches[0], b = event.touches[1];
    var cx = (a.clientX + b.clientX) / 2 - box.left - fl.xaxis._offset;
    var cy = (a.clientY + b.clientY) / 2 - box.top - fl.yaxis._offset;
    pinch = {gd: gd, d0: distance(a, b), x: fl.xaxis.range.slice(), y: fl.yaxis.range.slice(),
             cx: fl.xaxis.p2l(cx), cy: fl.yaxis.p2l(cy)};
  }

  function scaled(range, centre, factor) {
    return [centre + (range[0] - centre) * factor, centre + (range[1] - centre) * factor];
  }

  function move(event) {
    var d = distance(event.touches[0], event.touches[1]);
    if (!(d > 0) || !(pinch.d0 > 0)) return;
    var factor = pinch.d0 / d, p = pinch;
    if (frame) return;  // one relayout a frame, with the newest fingers
    frame = window.requestAnimationFrame(function () {
      frame = null;
      if (!pinch) return;
      window.Plotly.relayout(p.gd, {"xaxis.range": scaled(p.x, p.cx, factor),
                                    "yaxis.range": scaled(p.y, p.cy, factor)});
    });
  }

  function attach() {
    var gd = R.graph(R.ids.RACE_GRAPH);
    if (!gd || gd.__pinch || !window.Plotly) return;
    gd.__pinch = true;
    // Capture phase: Plotly's own touch handlers (one-finger pan) never see a pinch.
    gd.addEventListener("touchstart", function (event) {
      if (event.touches.length !== 2 || !gd._fullLayout) return;
      event.preventDefault();
      event.stopPropagation();
      start(gd, event);
    }, {capture: true, passive: false});
    gd.addEventListener("touchmove", function (event) {
      if (!pinch || event.touches.length !== 2) return;
      event.preventDefault();
      event.stopPropagation();
      move(event);
    }, {capture: true, passive: false});
    gd.addEventListener("touchend", function (event) {
      if (pinch && event.touches.length < 2) pinch = null;
    }, {capture: true});
  }

  R.on("load", attach);
  R.on("mapdraw", attach);
})();
