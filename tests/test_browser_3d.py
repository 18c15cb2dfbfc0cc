"""The 3-D view's heights and default camera, on every surface, in a real headless Chromium.

Heights: no point (of the mesh or of a path) lies outside the height axis, and the mesh fills
that axis (no flat plate under a needle). Camera: the paths are in sight: drawn with the mesh,
most of the pixels the paths cover on their own still show them (not hidden behind the mesh).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from surfaces import SURFACES
from tests.conftest import require_file
from tests.live import RACE, open_tab, race_link

GL3D = Path(__file__).resolve().parent.parent / "assets" / "vendor" / "plotly-gl3d.min.js"
DRAWN = f"k => {RACE}.use('view3d').drawn === k"

# Each surface with three racers that move (the default rates of sgd and momentum crawl on
# some surfaces; Adam at 0.05 travels on all of them).
RACERS = [
    {"optimizer": "sgd", "lr": 0.001},
    {"optimizer": "momentum", "lr": 0.001},
    {"optimizer": "adam", "lr": 0.05},
]
STEPS = 300

# The heights as drawn: the surface's z and every scatter3d's z, and the axis range.
HEIGHTS = """() => {
  const el = document.getElementById('race-3d'), range = el._fullLayout.scene.zaxis.range;
  const mesh = el.data[0].z.flat().map(Number);
  const paths = el.data.slice(1).flatMap(t => Array.from(t.z, Number));
  mesh.sort((a, b) => a - b);
  const q = p => mesh[Math.floor(p * (mesh.length - 1))];
  return {range, mesh: [mesh[0], q(0.25), q(0.75), mesh[mesh.length - 1]], paths,
          log: window.optimizerRace.use("view3d").scale.log};
}"""

# The share of the paths' pixels that still show the paths when the mesh is drawn too: two
# pictures of the view as it stands (camera included), the paths drawn red (a colour Viridis
# lacks), one with the mesh and one with, in its place, a white floor at the bottom of the
# axis (the scene keeps its bounds, so both project alike). A path pixel is red in the second;
# it is in sight if it is red in the first too (behind the mesh it would be mixed with it).
IN_SIGHT = """async () => {
  const el = document.getElementById('race-3d'), P = window.optimizerRace.use('view3d').plotly;
  const size = 600, red = '#ff0000', bottom = el._fullLayout.scene.zaxis.range[0];
  const floor = Object.assign({}, el.data[0], {z: el.data[0].z.map(row => row.map(() => bottom)),
    colorscale: [[0, 'white'], [1, 'white']], contours: {}});
  const picture = async mesh => {
    const data = el.data.map((t, i) => i === 0 ? (mesh ? t : floor) : Object.assign({}, t, {
      line: Object.assign({}, t.line, {color: red}),
      marker: Object.assign({}, t.marker, {color: red})}));
    const url = await P.toImage({data, layout: el.layout}, {format: 'png', width: size,
                                                              height: size});
    const img = new Image();
    await new Promise(done => { img.onload = done; img.src = url; });
    const c = document.createElement('canvas');
    c.width = c.height = size;
    c.getContext('2d').drawImage(img, 0, 0);
    return c.getContext('2d').getImageData(0, 0, size, size).data;
  };
  const withMesh = await picture(true), alone = await picture(false);
  const isRed = (d, i) => d[i] > 180 && d[i + 1] < 90 && d[i + 2] < 90;
  let path = 0, seen = 0;
  for (let i = 0; i < alone.length; i += 4) {
    if (!isRed(alone, i)) continue;
    path++;
    if (isRed(withMesh, i)) seen++;
  }
  return {path, seen};
}"""


def surface_links() -> dict[str, str]:
    out = {"ravine lesson": f"/?lesson=ravine&view=3d&step={STEPS}"}
    for name in SURFACES:
        race = {"surface": {"name": name}, "steps": STEPS, "racers": RACERS}
        out[name] = race_link(race, f"&view=3d&step={STEPS}")
    return out


def view_links() -> dict[str, tuple[str, int]]:
    """Views the issue names, each at its race's last step: the ravine lesson, the opening race
    (Rosenbrock), and the opening racers on Himmelblau. (On Rastrigin they stay in the pit
    they start in: their heads, one on another, are most of what there is to see.)"""
    from callbacks.entry import EntryKey, entry_race
    from lessons import LESSONS

    opening = entry_race(EntryKey())[0]
    ravine = LESSONS["ravine"].race["steps"]
    out = {
        "ravine lesson": (f"/?lesson=ravine&view=3d&step={ravine}", ravine),
        "opening": (f"/?view=3d&step={opening['steps']}", opening["steps"]),
    }
    for name in ("himmelblau",):
        race = {"surface": {"name": name}, "steps": opening["steps"], "racers": opening["racers"]}
        out[name] = (race_link(race, f"&view=3d&step={opening['steps']}"), opening["steps"])
    return out


@pytest.fixture(scope="module")
def tab(browser, live):
    require_file(GL3D, "scripts/vendor-plotly.sh")
    context, tab = open_tab(browser, live[0] + "/?view=3d")
    yield tab
    context.close()


@pytest.mark.parametrize(("name", "link"), surface_links().items(), ids=list(surface_links()))
def test_heights_are_bounded_and_fill_the_axis(tab, live, name, link):
    tab.goto(live[0] + link)
    tab.wait_for_function(DRAWN, arg=STEPS)
    h = tab.evaluate(HEIGHTS)
    low, high = h["range"]
    lowest, q25, q75, highest = h["mesh"]
    # Nothing beyond the clamp: every height of the mesh and of the paths is on the axis.
    slack = 1e-9 * (high - low)  # float32 grid values against the axis's float64 range
    assert low - slack <= lowest and highest <= high + slack, (h["range"], h["mesh"])
    assert all(low - slack <= z <= high + slack for z in h["paths"]), h["range"]
    # The mesh fills the axis (no flat plate under a needle): it spans most of the range, and
    # its middle half is not squashed into a sliver of it.
    assert highest - lowest >= 0.8 * (high - low), (h["range"], h["mesh"])
    assert q75 - q25 >= 0.1 * (high - low), (h["range"], h["mesh"])
    if h["log"]:
        assert high - low <= 6.5, h["range"]  # at most six decades (plus the paths' lift)
    assert tab.problems == []


@pytest.mark.parametrize(("name", "view"), view_links().items(), ids=list(view_links()))
def test_the_default_camera_shows_the_paths_above_the_mesh(tab, live, name, view):
    link, last = view
    tab.goto(live[0] + link)
    tab.wait_for_function(DRAWN, arg=last)
    sight = tab.evaluate(IN_SIGHT)
    assert sight["path"] > 100, sight  # the paths cover a visible part of the picture
    assert sight["seen"] >= 0.75 * sight["path"], sight
    assert tab.problems == []
