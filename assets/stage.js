/*
 * Optimizer Race: the stage (map, playback, quick controls, ranking, charts) fills what is
 * left of the first screen below the header and the lesson caption, on a laptop and in
 * Present (assets/style.css uses --above-stage). Their height changes with the caption and
 * with the window, so it is measured, not guessed.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;

  function measure() {
    var stage = document.querySelector(".stage");
    if (!stage) return;
    var top = stage.getBoundingClientRect().top + window.scrollY;
    var value = Math.round(top) + "px";
    if (document.documentElement.style.getPropertyValue("--above-stage") !== value) {
      document.documentElement.style.setProperty("--above-stage", value);
    }
  }

  var observer = window.ResizeObserver ? new window.ResizeObserver(measure) : null;
  R.on("load", function () {
    measure();
    if (observer) {
      ["header", "#lesson-caption"].forEach(function (sel) {
        var el = document.querySelector(sel);
        if (el && !el.__stageObserved) { el.__stageObserved = true; observer.observe(el); }
      });
    }
  });
  window.addEventListener("resize", measure);
  R.measureStage = measure;
})();
