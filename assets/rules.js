/*
 * Optimizer Race: each racer card's update rule, typeset only once it is shown.
 *
 * MathJax (Dash's async-mathjax chunk, ~650 KB, plus the Markdown and highlight chunks) used
 * to load with the page and typeset every rule during the first seconds, while the rules sit
 * folded or below the first screen. Now a rule's box is a closed <details> holding the rule's
 * text in its data-rule attribute; the first time a box is opened its Markdown (mathjax on) is
 * put in, which loads MathJax then. A changed rule (playback.js's `rules`, one per frame)
 * updates the attribute, and the Markdown too if the box is open.
 */
(function () {
  "use strict";

  var R = window.optimizerRace;

  function box(index) {
    var rule = R.part("RACER_EQUATION", index);
    return rule ? rule.closest("details") : null;
  }

  function typeset(index, text) {
    window.dash_clientside.set_props(R.partId("RACER_EQUATION", index), {
      children: {type: "Markdown", namespace: "dash_core_components",
                 props: {children: text, mathjax: true}},
    });
  }

  // A rule's newest text: shown at once if its box is open, else kept for when it opens.
  R.on("rule", function (rule) {
    var index = rule.index, text = rule.text;
    var details = box(index);
    if (!details) return;  // a racer removed meanwhile has no rule left to show
    details.setAttribute("data-rule", text);
    if (details.open) typeset(index, text);
  });

  // <details> fires "toggle" without bubbling: listen in the capture phase.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.open || !details.classList || !details.classList.contains("equation")) return;
    var rule = details.querySelector("[id*='" + R.ids.RACER_EQUATION + "']");
    if (!rule) return;
    typeset(JSON.parse(rule.id).index, details.getAttribute("data-rule") || "");
  }, true);
})();
