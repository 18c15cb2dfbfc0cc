/*
 * Optimizer Race: accessible names and roles that Dash 4.4's own components leave out.
 *
 * An axe-core audit (tests/test_accessibility.py) found these in dcc components, not in our
 * markup: option lists (Checklist, RadioItems) mark each <label> as a listbox option around
 * a real checkbox (nested interactive controls) and leave checkboxes without text unnamed;
 * a Dropdown keeps a focusable input hidden from assistive technology and its named button
 * out of the tab order; Slider thumbs have no name. Each fix below only adds or corrects
 * ARIA attributes on what React rendered (React leaves attributes it did not change alone),
 * and runs again whenever the page changes.
 */
(function () {
  "use strict";

  var ids = window.optimizerRace.ids, NAMES = {};
  [["LOOP_TOGGLE", "loop playback"], ["VIEW_SELECT", "view"], ["STEP_SLIDER", "playback step"],
   ["RACER_VISIBLE", "show this racer"], ["RACER_LR_SLIDER", "learning rate (log scale)"]]
    .forEach(function (entry) { NAMES[ids[entry[0]]] = entry[1]; });
  var pending = false;

  function nameFor(el) {
    // An id's own entry, else the parameter name shown beside the control.
    var id = el.id || "";
    if (NAMES[id]) return NAMES[id];
    if (id.charAt(0) === "{") {
      try { var type = JSON.parse(id).type; if (NAMES[type]) return NAMES[type]; } catch (e) {}
    }
    var param = el.closest(".param, .racer-lr");
    var shown = param && param.querySelector(".param-name");
    return shown ? shown.textContent : "";
  }

  function fix() {
    pending = false;
    document.querySelectorAll(".dash-options-list[role='listbox']").forEach(function (list) {
      list.setAttribute("role", "group");
      var name = nameFor(list);
      if (name) list.setAttribute("aria-label", name);
      list.querySelectorAll("label[role='option']").forEach(function (label) {
        label.removeAttribute("role");
        label.removeAttribute("aria-selected");
        var box = label.querySelector("input");
        if (box && !label.textContent.trim() && name) box.setAttribute("aria-label", name);
      });
    });
    document.querySelectorAll(".dash-dropdown-focus-target[aria-hidden='true']")
      .forEach(function (input) {
        input.setAttribute("tabindex", "-1");
        var button = input.parentElement && input.parentElement.querySelector("button.dash-dropdown");
        if (button) button.setAttribute("tabindex", "0");
      });
    document.querySelectorAll("[role='slider']:not([aria-label])").forEach(function (thumb) {
      var slider = thumb.closest(".dash-slider-container");
      var name = slider ? nameFor(slider) : "";
      if (!name && slider && slider.parentElement) name = nameFor(slider.parentElement);
      if (name) thumb.setAttribute("aria-label", name);
    });
  }

  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(fix);
  }

  new MutationObserver(schedule).observe(document.documentElement,
                                         {childList: true, subtree: true});
  schedule();
})();
