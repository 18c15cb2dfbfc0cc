/*
 * Optimizer Race: predict first. A lesson's beat may ask a question before it plays ("Which
 * racer reaches the tolerance first?", lessons/beats.py Question). While it is asked
 * (R.predicting) the page hides every result that gives the answer away:
 *
 *   - the ranking lists the racers in the page's order with no value, rank, final or best
 *     loss and no steps to tolerance (assets/playback.js asks board() below for it);
 *   - the loss chart, the lower chart and the analysis views' results are hidden, and so is
 *     the beat's caption, which states the answer (html.predicting, assets/predict.css);
 *   - the map draws each trail only up to the playback step, as it always does.
 *
 * The question sits in the lesson's caption: one button per racer (its swatch and name) and
 * Reveal. Reveal, or playing to the beat's end, shows everything and marks the answer (the
 * verdict is read out: aria-live). While it is asked, the keys that play do not: a clicker's
 * PageDown (or →) in Present and Space anywhere first bring Reveal forward (focused, outlined,
 * "press again to reveal" beside it), and only the next press reveals (and plays the beat):
 * the map never runs to the winner while the class is still choosing.
 * "Predict first" turns the question off and on; it is on
 * for every beat that has a question, and a teacher who turns it off keeps it off in this
 * tab (sessionStorage) until turning it on again.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;
  var root = document.documentElement;
  var OFF = "optimizerRace.predictOff";

  // The beat's settings, as assets/lesson.js read them from the index page (one copy).
  function beatSettings() {
    var beats = R.use("beats");
    return beats ? beats.beat : null;
  }

  function storedOff() {
    try { return window.sessionStorage.getItem(OFF) === "1"; } catch (e) { return false; }
  }

  function storeOff(off) {
    try {
      if (off) window.sessionStorage.setItem(OFF, "1"); else window.sessionStorage.removeItem(OFF);
    } catch (e) {}
  }

  var state = {beat: null, question: null, on: false, revealed: false, choice: null,
               played: false, built: false};

  function shown() {
    return R.racers.filter(function (r) { return R.visible[r.index] !== false; });
  }

  // The masked ranking: every shown racer in the page's order, nothing that ranks them.
  function board() {
    var gap = R.race && R.race.f_star !== null;
    var rows = shown().map(function (r) {
      return "<tr data-racer=\"" + r.index + "\"><td class=\"racer-name\">" + R.racerSwatch(r) +
        R.labelHtml(r) + "</td><td class=\"masked-value\">?</td></tr>";
    }).join("");
    return "<p class=\"masked-note\">Predict first: the ranking and the charts are hidden " +
      "until Reveal.</p><table class=\"masked\"><thead><tr><th>racer</th><th>" +
      (gap ? "f − f*" : "loss") + "</th></tr></thead><tbody>" + rows +
      "</tbody></table>";
  }

  function asking() { return Boolean(state.question && state.on && !state.revealed); }

  function apply() {
    var on = asking();
    root.classList.toggle("predicting", on);
    R.set("predicting", on);
    show();
  }

  // The step where the beat's observation is: its stop, else the race's end.
  function end() {
    var b = state.beat, first = (b && b.play_from) || 0;
    return b && b.step !== null && b.step !== undefined && b.step > first ? b.step : R.steps;
  }

  function racer(index) {
    for (var i = 0; i < R.racers.length; i++) if (R.racers[i].index === index) return R.racers[i];
    return null;
  }

  function verdictText() {
    var right = racer(state.question.answer);
    var name = right ? right.label : "racer " + (state.question.answer + 1);
    if (state.choice === null) return "The answer: " + name + ".";
    if (state.choice === state.question.answer) return "Right: " + name + ".";
    var chosen = racer(state.choice);
    return "Not this time: you chose " + (chosen ? chosen.label : "another racer") +
      "; the answer is " + name + ".";
  }

  // ----- the question in the caption -------------------------------------------------------

  function build() {
    var caption = R.el("LESSON_CAPTION");
    if (!caption || state.built) return;
    state.built = true;
    var box = document.createElement("div");
    box.className = "predict";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "predict first");
    box.innerHTML =
      "<button type=\"button\" class=\"predict-toggle\" data-action=\"predict-toggle\" " +
      "aria-pressed=\"false\">Predict first</button>" +
      "<div class=\"predict-question\"><span class=\"predict-prompt\"></span>" +
      "<span class=\"predict-choices\"></span>" +
      "<button type=\"button\" class=\"predict-reveal\" data-action=\"predict-reveal\">" +
      "Reveal</button><span class=\"predict-cue\" aria-live=\"polite\"></span></div>" +
      "<p class=\"predict-verdict\" aria-live=\"polite\"></p>";
    box.querySelector(".predict-prompt").textContent = state.question.prompt;
    // After the title, before the beat's caption and its Back/Next.
    var title = caption.querySelector("strong");
    caption.insertBefore(box, title ? title.nextSibling : caption.firstChild);
  }

  function choices() {
    var holder = document.querySelector(".predict-choices");
    if (!holder) return;
    holder.innerHTML = shown().map(function (r) {
      return "<button type=\"button\" class=\"predict-choice\" data-action=\"predict-choose\" " +
        "data-racer=\"" + r.index + "\" aria-pressed=\"false\">" + R.racerSwatch(r) +
        R.labelHtml(r) + "</button>";
    }).join("");
    show();
  }

  function show() {
    var box = document.querySelector(".predict");
    if (!box) return;
    box.querySelector(".predict-toggle").setAttribute("aria-pressed", state.on ? "true" : "false");
    box.querySelector(".predict-question").hidden = !state.on;
    Array.prototype.forEach.call(box.querySelectorAll(".predict-choice"), function (button) {
      var index = Number(button.getAttribute("data-racer"));
      button.setAttribute("aria-pressed", index === state.choice ? "true" : "false");
      button.disabled = state.revealed;
      button.classList.toggle("right", state.revealed && index === state.question.answer);
      button.classList.toggle("wrong", state.revealed && index === state.choice &&
                              index !== state.question.answer);
    });
    box.querySelector(".predict-reveal").hidden = state.revealed;
    box.classList.toggle("revealed", state.revealed);
    var verdict = box.querySelector(".predict-verdict");
    var text = state.on && state.revealed ? verdictText() : "";
    if (verdict.textContent !== text) verdict.textContent = text;
    verdict.className = "predict-verdict" + (text && state.choice !== null
      ? (state.choice === state.question.answer ? " right" : " wrong") : "");
  }

  function reveal() {
    if (!asking()) return;
    state.revealed = true;
    apply();
    // Revealed before playing: the beat plays on to where its caption looks.
    var play = R.el("PLAY_BUTTON");
    if (!R.playing && R.step < end() && play) play.click();
  }

  // A key that would play the race while the question is open: the first press focuses
  // Reveal and says what the next does; the next press (Reveal focused) reveals. True: held.
  function hold() {
    if (!asking()) return false;
    var box = document.querySelector(".predict");
    var button = box && box.querySelector(".predict-reveal");
    if (!button) return true;  // asked before the question is built: nothing plays
    if (document.activeElement === button) { reveal(); return true; }
    button.focus({preventScroll: true});
    box.classList.add("armed");
    box.querySelector(".predict-cue").textContent = "Press again to reveal";
    return true;
  }
  R.provide("predict", {board: board, hold: hold});
  document.addEventListener("focusout", function (event) {
    var box = document.querySelector(".predict");
    var t = event.target;
    if (!box || !t.classList || !t.classList.contains("predict-reveal")) return;
    box.classList.remove("armed");
    box.querySelector(".predict-cue").textContent = "";
  });

  // Space plays (assets/playback.js); while the question is open it is held as above. Heard
  // before the page's own keys (the window's capture comes first). The question's own buttons
  // keep their Space (choose, Reveal), and so do boxes, ticks and menus.
  function ownsSpace(t) {
    if (!t || !t.tagName) return false;
    if (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT") return true;
    if (t.tagName === "INPUT" && !/^(range|button)$/.test(t.type)) return true;
    return Boolean(t.closest && t.closest("dialog[open]"));
  }
  window.addEventListener("keydown", function (event) {
    if (event.key !== " " || !asking() || event.altKey || event.ctrlKey || event.metaKey) return;
    var t = event.target;
    if (ownsSpace(t)) return;
    event.stopPropagation();  // not the page's Space: it would play
    if (t.closest && t.closest(".predict button")) return;  // the button's own (a click)
    event.preventDefault();
    hold();
  }, true);

  R.action("predict-choose", function (target) {
    if (!asking()) return;
    state.choice = Number(target.getAttribute("data-racer"));
    show();
  });
  R.action("predict-reveal", reveal);
  R.action("predict-toggle", function () {
    state.on = !state.on;
    storeOff(!state.on);
    // Turned on again: the question is asked afresh.
    state.revealed = false;
    state.choice = null;
    state.played = false;
    apply();
  });

  // Playing to the beat's end reveals (a step reached by scrubbing does not, except the race's
  // last: then every trail is drawn whole anyway).
  R.on("step", function (k) {
    if (!asking()) return;
    if (R.playing) state.played = true;
    if (k >= R.steps || (state.played && k >= end())) reveal();
  });

  R.on("load", function () {
    if (!state.question) return;
    build();
    choices();
  });

  // ----- a beat before the question's -------------------------------------------------------
  // A later beat asks (ravine's beat 2: which racer reaches the tolerance first?), and this
  // beat's ranking showed the answer at step 0 ("steps to tol: SGD 185, Momentum 95"). Here
  // the ranking's whole-race figures show only once the playhead has reached them: a racer's
  // steps and work to tolerance (or where it diverged) at that step, its final and best loss
  // at its last step (a noisy race's, at the race's end); before that, "?". The rank and the
  // value now are the step's own and stay. Predict first turned off in this tab shows them.
  var PLAIN = {3: "end", 4: "end", 5: "tol", 6: "tol"};
  var NOISY = {3: "race", 4: "race", 5: "race"};
  function reachedAt(r, kind) {
    var last = r.n - 1;
    if (kind === "race") return R.steps;
    if (kind === "end") return last;
    if (r.diverged_at !== null && r.diverged_at !== undefined) return r.diverged_at;
    return r.steps_to_tol !== null && r.steps_to_tol !== undefined ? r.steps_to_tol : last;
  }
  function veiled() { return Boolean(state.beat && state.beat.asked_later && !storedOff()); }
  function veil() {
    var el = R.el("LEADERBOARD"), table = el && el.querySelector("table:not(.masked)");
    if (!table || !table.tBodies[0] || !veiled()) return;
    var columns = table.classList.contains("noisy") ? NOISY : PLAIN;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
      var r = racer(Number(tr.getAttribute("data-racer")));
      if (!r) return;
      Object.keys(columns).forEach(function (i) {
        var td = tr.cells[i];
        if (!td) return;
        if (td.dataset.whole === undefined) td.dataset.whole = td.innerHTML;
        var hide = R.step < reachedAt(r, columns[i]), html = hide ? "?" : td.dataset.whole;
        if (td.innerHTML !== html) td.innerHTML = html;
        td.classList.toggle("not-yet", hide);
        if (hide) td.title = "shown once the race gets there: a later beat asks about it";
        else td.removeAttribute("title");
      });
    });
  }
  // The table is built again with a new race (playback.js): veiled before it is painted.
  var rebuilt = window.MutationObserver ? new window.MutationObserver(veil) : null, watched = false;
  R.on("load", function () {
    var el = R.el("LEADERBOARD");
    if (rebuilt && el && !watched && veiled()) {
      watched = true;
      rebuilt.observe(el, {childList: true});
    }
    veil();
  });
  R.on("step", veil);

  // Asked from the first drawing on: the ranking never shows its order, even for a frame.
  state.beat = beatSettings();
  state.question = state.beat && state.beat.question ? state.beat.question : null;
  if (state.question) {
    state.on = !storedOff();
    apply();
  }
})();
