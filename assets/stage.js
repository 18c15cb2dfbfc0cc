/*
 * Optimizer Race: the stage (map, playback, quick controls, ranking, charts) fills what is
 * left of the first screen below the header and the lesson caption, on a laptop and in
 * Present (assets/style.css uses --above-stage). Their height changes with the caption and
 * with the window, so it is measured, not guessed.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;

  // In Present the loss chart takes what the quick controls and the ranking leave; with many
  // racers that is too little to read, and the chart gives way (class no-room).
  // The ranking is the key a caption is read against: where the quick sliders and it do not
  // both fit (long names wrap in a third of a projector), the sliders give way (class
  // crowded; their height is the one they had when shown, so hiding them cannot undo it).
  var quickHeight = 0;
  function room() {
    var side = document.querySelector(".side"), charts = side && side.querySelector(".charts");
    if (!charts || !R.presenting) return;
    var quick = side.querySelector(".quick-controls"), board = R.el("LEADERBOARD");
    if (quick && quick.offsetParent) quickHeight = quick.getBoundingClientRect().height;
    var ranking = board ? board.getBoundingClientRect().height : 0;
    side.classList.toggle("crowded", quickHeight + ranking > side.clientHeight - 8);
    var used = 0;
    Array.prototype.forEach.call(side.children, function (child) {
      if (child !== charts) used += child.getBoundingClientRect().height;
    });
    side.classList.toggle("no-room", side.clientHeight - used < 160);
  }

  function measure() {
    var stage = document.querySelector(".stage");
    if (!stage) return;
    room();
    var top = stage.getBoundingClientRect().top + window.scrollY;
    var value = Math.round(top) + "px";
    if (document.documentElement.style.getPropertyValue("--above-stage") !== value) {
      document.documentElement.style.setProperty("--above-stage", value);
      // The charts follow their boxes only on a window resize (Plotly's responsive mode): a
      // caption that grew (a revealed answer) would otherwise leave the map cut off below.
      window.requestAnimationFrame(function () { window.dispatchEvent(new Event("resize")); });
    }
  }

  var observer = window.ResizeObserver ? new window.ResizeObserver(measure) : null;
  R.on("load", function () {
    measure();
    if (observer) {
      // The ranking too: revealed or with names wrapping it grows, and the chart gives way.
      var watched = [document.querySelector("header"), R.el("LESSON_CAPTION"),
                     R.el("LEADERBOARD")];
      watched.forEach(function (el) {
        if (el && !el.__stageObserved) { el.__stageObserved = true; observer.observe(el); }
      });
    }
  });
  window.addEventListener("resize", measure);
  R.on("presenting", function () { window.requestAnimationFrame(measure); });
})();
