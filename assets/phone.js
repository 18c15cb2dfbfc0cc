/*
 * Optimizer Race on a phone: a lesson's caption folds (issue 25). In portrait the caption
 * filled the first screen and Play fell below it; folded, it keeps its title, two lines of
 * the beat (or of the question asked first) and its buttons, so the map and Play are on the
 * first screen. "more" opens the rest (the whole beat, the question's answers). The button
 * and the fold are drawn only on a phone (assets/phone.css): elsewhere the caption is whole.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;

  function label(button, folded) {
    button.textContent = folded ? "more ▾" : "less ▴";
    button.setAttribute("aria-expanded", folded ? "false" : "true");
  }

  function fold() {
    var caption = R.el("LESSON_CAPTION");
    if (!caption || !caption.querySelector(".beat-caption") || caption.querySelector(".caption-fold")) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "caption-fold";
    button.setAttribute("data-action", "caption-fold");
    button.setAttribute("aria-controls", caption.id);
    caption.classList.add("folded");
    label(button, true);
    var before = caption.querySelector(".beat-play") || caption.querySelector(".beat-nav");
    caption.insertBefore(button, before);
  }

  R.action("caption-fold", function () {
    var caption = R.el("LESSON_CAPTION"), button = caption && caption.querySelector(".caption-fold");
    if (!button) return;
    label(button, caption.classList.toggle("folded"));
  });

  R.on("load", fold);

  // Upright, a caption opened to read ("less ▴") folds again when the race starts playing,
  // so the verdict a Reveal wrote and the beat's text do not push the map off the screen
  // while it plays; "more" opens it again.
  var UPRIGHT = "(max-width: 699px)";
  var wasPlaying = false;
  R.on("step", function () {
    var playing = Boolean(R.playing);
    if (playing && !wasPlaying && window.matchMedia(UPRIGHT).matches) {
      var caption = R.el("LESSON_CAPTION"), button = caption && caption.querySelector(".caption-fold");
      if (button && !caption.classList.contains("folded")) {
        caption.classList.add("folded");
        label(button, true);
      }
    }
    wasPlaying = playing;
  });

  // A list opened low on a phone's screen had room below it for four of its 23 optimizers:
  // a menu opened in the lower part of the screen first brings its box near the top, and
  // the list (assets/phone.css) takes the room below it.
  var PHONE = "(max-width: 699px), (orientation: landscape) and (max-height: 500px) and " +
    "(max-width: 1099px)";
  document.addEventListener("click", function (event) {
    var menu = event.target.closest && event.target.closest(".dash-dropdown");
    if (!menu || !window.matchMedia(PHONE).matches) return;
    var top = menu.getBoundingClientRect().top;
    if (top > 0.35 * window.innerHeight) window.scrollBy(0, top - 8);
  });
})();
