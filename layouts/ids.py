"""Every component id of the page, defined once.

The layouts place components under these ids, the callbacks listen to them, the tests find
them, and the browser scripts read them from the page itself: ``page_ids()`` is embedded in
the index page as JSON (``<script id="page-ids" type="application/json">``, app.py), which
assets/0-race.js exposes as ``optimizerRace.ids``. A renamed id is renamed everywhere.

Plain ids name one component; the kinds below them are the ``type`` of pattern-matching ids
(``{"type": kind, "index": racer}``), one component per racer (or per parameter).
"""

from __future__ import annotations

# One component each.
ADD_RACER = "add-racer"
ANALYSIS_SELECT = "analysis-select"
CLOSE_CODE = "close-code"
CLOSE_HANDOFF = "close-handoff"
CODE_DIALOG = "code-dialog"
CODE_TEXT = "code-text"
CODE_TITLE = "code-title"
COPY_CODE = "copy-code"
COPY_LINK = "copy-link"
EQUATIONS_STORE = "equations-store"
EXPORT_CSV = "export-csv"
EXPORT_JSON = "export-json"
EXPORT_PNG = "export-png"
HANDOFF_BUTTON = "handoff-button"
HANDOFF_CODE = "handoff-code"
HANDOFF_DIALOG = "handoff-dialog"
HANDOFF_LINK = "handoff-link"
HANDOFF_STATUS = "handoff-status"
HANDOFF_TITLE = "handoff-title"
INSPECT_CURVATURE = "inspect-curvature"  # the curvature view (assets/curvature.js)
INSPECT_PANEL = "inspect-panel"
INSPECT_SELECT = "inspect-select"
LEADERBOARD = "leaderboard"
LESSON_CAPTION = "lesson-caption"
LESSON_BEAT = "lesson-beat"  # the beat's settings, a JSON block in the index page
LOOP_TOGGLE = "loop-toggle"
LOSS_GRAPH = "loss-graph"
LOWER_CHART = "lower-chart"
LOSS_AXIS = "loss-axis"  # the loss chart against steps or work
LR_GRAPH = "lr-graph"
MAP_KEY = "map-key"
MOVE_START = "move-start"
NEXT_INDEX = "next-index"
NOISE_SEED = "noise-seed"
WORK_BUDGET = "work-budget"  # the race's budget of work (gradient evaluations)
NOISE_STD = "noise-std"
OPENING_PICTURE = "opening-picture"
PLAY_BUTTON = "play-button"
PRESENT_BUTTON = "present-button"
QUICK_CONTROLS = "quick-controls"
RACE_3D = "race-3d"
RACE_GRAPH = "race-graph"
RACE_KEYS = "race-keys"
RACE_SHARE = "race-share"
RACE_STORE = "race-store"
RACERS = "racers"
SETTINGS_ERROR = "settings-error"
# While a racer's loop compiles (make run's background warm-up): the words, and the poll.
RACE_PREPARING = "race-preparing"
PREPARING_POLL = "preparing-poll"
SHARE_LINK = "share-link"
SPEED_SELECT = "speed-select"
START_STORE = "start-store"
STARTS_COUNT = "starts-count"
STARTS_GRAPH = "starts-graph"
STARTS_LAYOUT = "starts-layout"
STARTS_PANEL = "starts-panel"
STARTS_RACER = "starts-racer"
STARTS_STATUS = "starts-status"
STARTS_STORE = "starts-store"
STARTS_SUMMARY = "starts-summary"
STEP_BACK = "step-back"
STEP_FORWARD = "step-forward"
STEP_LABEL = "step-label"
STEP_SLIDER = "step-slider"
STEPS_INPUT = "steps-input"
SURFACE_ERROR = "surface-error"
SURFACE_PARAMS = "surface-params"
SURFACE_SELECT = "surface-select"
SURFACE_STORE = "surface-store"
SWEEP_CAPTION = "sweep-caption"
SWEEP_GRAPH = "sweep-graph"
SWEEP_PANEL = "sweep-panel"
SWEEP_STATUS = "sweep-status"
SWEEP_STORE = "sweep-store"
SWEEP_TABLE = "sweep-table"
TOOL_STATUS = "tool-status"
TUNE_BUTTON = "tune-button"
TUNE_CLAIM = "tune-claim"
TUNE_CRITERION = "tune-criterion"
TUNE_STORE = "tune-store"
VIEW_SELECT = "view-select"

# Kinds of pattern-matching ids: one component per racer, or per racer and parameter.
RACER_CARD = "racer-card"
RACER_CLIP = "racer-clip"
RACER_SAM = "racer-sam"
RACER_SAM_ADAPTIVE = "racer-sam-adaptive"
RACER_EQUATION = "racer-equation"
RACER_ERROR = "racer-error"
RACER_LABEL = "racer-label"
RACER_LR = "racer-lr"
RACER_DEFAULT_LR = "racer-default-lr"  # the rate the card's optimizer starts with
RACER_LR_SLIDER = "racer-lr-slider"
RACER_OPTIMIZER = "racer-optimizer"
RACER_PARAM = "racer-param"
RACER_PARAMS = "racer-params"
RACER_PYTORCH = "racer-pytorch"
RACER_REMOVE = "racer-remove"
RACER_SCHED_PARAM = "racer-sched-param"
RACER_SCHED_PARAMS = "racer-sched-params"
RACER_SCHEDULE = "racer-schedule"
RACER_VISIBLE = "racer-visible"
SURFACE_PARAM = "surface-param"


def page_ids() -> dict[str, str]:
    """Every id above by its constant's name, for the browser scripts."""
    return {
        key: value for key, value in globals().items() if key.isupper() and isinstance(value, str)
    }
