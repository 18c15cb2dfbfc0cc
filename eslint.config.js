// eslint for the browser scripts in assets/ (make lint): plain scripts, each an IIFE that
// shares state only through window.optimizerRace (assets/playback.js documents it).
"use strict";

const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  {ignores: ["assets/vendor/**", "tests/vendor/**", ".venv/**", "node_modules/**"]},
  js.configs.recommended,
  {
    files: ["assets/**/*.js"],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: {...globals.browser, Plotly: "readonly", MathJax: "readonly"},
    },
    rules: {
      "no-unused-vars": ["error", {args: "none", caughtErrors: "none"}],
      "no-empty": ["error", {allowEmptyCatch: true}],
      "no-var": "off",
      eqeqeq: "error",
      strict: ["error", "function"],
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: {sourceType: "commonjs", globals: globals.node},
  },
];
