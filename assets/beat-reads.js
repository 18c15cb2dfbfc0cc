/*
 * Optimizer Race: a beat whose caption is read off the loss chart keeps that chart in Present.
 *
 * In Present the side column's quick sliders and charts give way to the caption and the
 * ranking (assets/stage.js, assets/present.js). A caption that says what the loss chart shows
 * ("then jitters just above it": a Jitters claim, lessons/claims.py) would then describe a
 * chart the room cannot see; such a beat's settings say so (reads: ["loss_chart"]), it marks
 * the page (html.beat-reads-loss) and
 * assets/beat-reads.css lets the sliders give way to the chart instead.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var block = R && R.el("LESSON_BEAT");
  if (!block) return;
  var beat;
  try { beat = JSON.parse(block.textContent); } catch (e) { return; }
  // What the beat's claims are read off beyond the ranking and the map (lessons/beats.py).
  if ((beat.reads || []).indexOf("loss_chart") < 0) return;
  document.documentElement.classList.add("beat-reads-loss");
  // Plotly follows its box on a resize: the chart, shown now, takes its room.
  R.on("load", function () { window.dispatchEvent(new Event("resize")); });
})();
