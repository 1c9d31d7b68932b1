import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import pytest
from conftest import option, run_toml
from shapely.geometry import LineString, Point, box

from sufficiency.pipeline import run_plan
from sufficiency.report.layers import plan_map_html
from sufficiency.report.webmap import (
    MINUTE_COLOURS,
    NO_LOCAL_COLOUR,
    TransportView,
    ay_label,
    escape,
    flow_weight,
    growth_fraction,
    minutes_colour,
    render_plan_map,
    ring_layer_name,
    write_map,
)

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]
FIRST, LAST = 2026, 2033
LAYERS = [
    f"Planning areas: demand growth {FIRST}\u2013{LAST}",
    "Existing provision",
    "New provision (plan)",
]
BAD = ["<script>alert(1)</script>", "${alert(1)}", "`", "C:\\x", "</script><b>"]
EXTERNAL = re.compile(r'src="http|href="http|url\(http|@import|//cdn', re.IGNORECASE)
PROVISION_COLUMNS = ["option_id", "site_id", "site_name", "area_id", "kind", "needs", "phases",
                     "existing_places", "new_places", "opening_year", "capital_cost"]


def make_areas(names=("Warwick", "Leamington", "Kenilworth")) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area_id": ["A1", "A2", "A3"], "name": list(names),
         "pupils_first_year": [100.0, 0.0, 50.0], "pupils_last_year": [120.0, 10.0, 45.0]},
        geometry=[box(425000, 265000, 428000, 268000), box(428000, 265000, 431000, 268000),
                  box(425000, 262000, 431000, 265000)],
        crs="EPSG:27700",
    )


NEEDS = ["ASD;SLCN", "*", "SEMH", "<i>x</i>", "'\"`${x}"]
PHASES = ["primary", "*", "secondary", "primary;secondary", "C:\\x"]


def make_provision(names=BAD, needs=NEEDS, phases=PHASES) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"option_id": ["o1", "o2", "o3", "o4", "o5"], "site_id": ["s1", "s2", "s3", "s4", "s5"],
         "site_name": list(names), "area_id": ["A1", "A2", "A3", "A1", "A2"],
         "kind": ["special", "resourced", "satellite", "new_special", "special"],
         "needs": list(needs), "phases": list(phases),
         "existing_places": [120, 10, 0, 0, 40], "new_places": [0, 8, 30, 150, 20],
         "opening_year": pd.array([pd.NA, 2028, 2029, 2030, 2027], dtype="Int64"),
         "capital_cost": [0.0, 1234567.0, 2_000_000.0, 25_000_000.0, 500_000.0]},
        geometry=[Point(426000, 266000), Point(429000, 266000), Point(427000, 263000),
                  Point(430000, 263500), Point(428500, 267000)],
        crs="EPSG:27700",
    )


N_MARKERS = 3 + 4  # options with existing places + options with new places


def render(areas=None, provision=None, title="Warwickshire plan <b>`${x}`</b>") -> str:
    areas = make_areas() if areas is None else areas
    provision = make_provision() if provision is None else provision
    return render_plan_map(areas, provision, title=title, first_year=FIRST, last_year=LAST)



@pytest.fixture(scope="module")
def html() -> str:
    return render(make_areas(names=("<script>alert(1)</script>", "${alert(1)}", "C:\\x`")))


def page_script(html: str) -> str:
    """The map's own script: the last <script> element of the page."""
    return re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)[-1]


def popups(html: str) -> list[str]:
    return re.findall(r"\$\(`(.*?)`\)\[0\]", html, flags=re.DOTALL)


def test_helpers():
    assert escape("<a href=\"x\">'&'</a>\\`${y}") == (
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;&#92;&#96;&#36;{y}")
    assert ay_label(2028) == "AY 2028/29"
    assert ay_label(2099) == "AY 2099/00"
    assert growth_fraction(100, 120) == pytest.approx(0.2)
    assert growth_fraction(0, 0) == 0.0
    assert growth_fraction(0, 10) != growth_fraction(0, 10)  # NaN: growth from nothing


def test_layer_names_and_controls(html):
    script = page_script(html)
    for name in LAYERS:
        assert json.dumps(name) in script  # keys of the layer control
    assert '"collapsed": false' in script
    assert "fitBounds" in script
    assert "tileLayer" not in script
    assert "Warwickshire plan &lt;b&gt;&#96;&#36;{x}&#96;&lt;/b&gt;" in html


def test_self_contained(html):
    assert not EXTERNAL.search(html)
    assert "<script src" not in html and "<link" not in html
    assert "Leaflet 1.9.4" in html
    assert "url(images/" not in html and "url(data:image/png;base64," in html
    assert "$ = function" in html  # the jQuery stand-in for folium's popups
    assert len(re.findall(r"<script\b", html)) == 4  # leaflet, $, switches, the map


def test_default_links_untouched_for_other_maps(html):
    assert any("leaflet" in name for name, _ in folium.Map.default_js)
    assert not EXTERNAL.search(render())


def test_deterministic(html):
    again = render(make_areas(names=("<script>alert(1)</script>", "${alert(1)}", "C:\\x`")))
    assert again == html
    assert not re.search(r"_[0-9a-f]{32}", html)


def test_coordinates_rounded(html):
    for number in re.findall(r"-?\d+\.\d+", page_script(html).split("layer_control")[0]):
        assert len(number.split(".")[1]) <= 6, number


def test_malicious_names_escaped(html):
    for raw in [*BAD[:2], *BAD[3:], "<i>x</i>", "${x}"]:
        assert raw not in html
    plain = [f"Site {i}" for i in range(5)]
    benign = render(make_areas(), make_provision(plain, plain, plain), title="Plan")
    for syntax in ["`", r"\$\{", "</script", "<script", r"\\(?!u0026)"]:  # only folium's
        # (jinja's tojson writes the & of an entity as \u0026 inside the GeoJSON data)
        assert len(re.findall(syntax, html)) == len(re.findall(syntax, benign)), syntax
    assert "<script>alert" not in html and "alert(1)</script>" not in html
    script = page_script(html)
    assert script.count("L.circleMarker(") == N_MARKERS
    texts = popups(html)
    assert len(texts) == N_MARKERS
    assert all("`" not in t and "${" not in t and "\\" not in t for t in texts)
    joined = " ".join(texts)
    for name in BAD:
        assert escape(name) in joined
    names = re.search(r"_add\((\{.*\})\);", script).group(1)
    props = [f["properties"] for f in json.loads(names)["features"]]
    assert [p["name"] for p in props] == [
        "&lt;script&gt;alert(1)&lt;/script&gt;", "&#36;{alert(1)}", "C:&#92;x&#96;"]


def test_new_provision_popup(html):
    new = [t for t in popups(html) if "New special school" in t]
    assert len(new) == 1
    assert "AY 2030/31" in new[0] and "\u00a325,000,000" in new[0]
    existing_only = [t for t in popups(html) if "<td>o1</td>" in t]
    assert existing_only and all("\u2014" in t for t in existing_only)  # no opening year


@pytest.mark.parametrize("empty", [
    gpd.GeoDataFrame(columns=[*PROVISION_COLUMNS, "geometry"], geometry="geometry",
                     crs="EPSG:27700"),
    gpd.GeoDataFrame(),
])
def test_empty_provision(empty):
    out = render(provision=empty)
    assert "L.circleMarker(" not in out
    for name in LAYERS:
        assert json.dumps(name) in out
    assert not EXTERNAL.search(out)


def fit_bounds(page: str) -> list[float]:
    """South, west, north, east of the map's fitBounds call."""
    corners = json.loads(re.search(r"fitBounds\(\s*(\[\[.*?\]\])", page_script(page)).group(1))
    return [*corners[0], *corners[1]]


def test_any_crs(html):
    moved = render(make_areas().to_crs("EPSG:4326"), make_provision().to_crs("EPSG:3857"))
    assert fit_bounds(moved) == pytest.approx(fit_bounds(html), abs=1e-5)
    south, west, north, east = fit_bounds(html)
    assert 52.2 < south < north < 52.4 and -1.7 < west < east < -1.5  # Warwick
    assert moved.count("L.circleMarker(") == N_MARKERS
    with pytest.raises(ValueError, match="CRS"):
        render(make_areas().set_crs(None, allow_override=True))


def test_write_map(tmp_path, html):
    path = tmp_path / "maps" / "plan.html"
    write_map(html, path)
    assert path.read_text(encoding="utf-8") == html


NODE_HARNESS = r"""
const vm = require('vm');
const scripts = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
scripts.forEach((s) => new vm.Script(s));  // every inline script compiles
const rec = {dollar: [], details: [], alerts: 0, features: []};
const chain = new Proxy(function () {}, {
  get(target, key) {
    if (key === 'addData') return (d) => { rec.features.push(...d.features); return chain; };
    if (key === 'DomUtil') return {create: () => ({})};
    if (key === 'bindTooltip' || key === 'bindPopup') {
      return (content) => {
        if (typeof content === 'function' && content !== chain) {
          rec.features.forEach((f) => rec.details.push(content({feature: f}).innerHTML));
        } else if (typeof content === 'string') rec.details.push(content);
        return chain;
      };
    }
    return chain;
  },
  apply() { return chain; },
});
const context = {L: chain, alert: () => { rec.alerts += 1; },
                 $: (h) => { rec.dollar.push(String(h)); return [{}]; }};
vm.runInNewContext(scripts[scripts.length - 1], context);
console.log(JSON.stringify(rec));
"""


def test_scripts_run_under_node(tmp_path, html):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot execute the page's scripts")
    (tmp_path / "harness.js").write_text(NODE_HARNESS, encoding="utf-8")
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    (tmp_path / "scripts.json").write_text(json.dumps(scripts), encoding="utf-8")
    run = subprocess.run([node, str(tmp_path / "harness.js"), str(tmp_path / "scripts.json")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    rec = json.loads(run.stdout)
    assert rec["alerts"] == 0
    assert len(rec["dollar"]) == N_MARKERS  # every popup's template literal evaluated
    shown = rec["dollar"] + rec["details"]
    assert len(rec["details"]) == 2 * 3 + N_MARKERS  # area tooltip+popup, marker tooltips
    assert all("<script" not in s and "${" not in s and "<i>" not in s for s in shown)
    assert any("C:&#92;x" in s for s in rec["dollar"])  # the backslash survived the literal
    assert any("C:&#92;x&#96;" in s for s in rec["details"])


def browser_or_skip():
    """Playwright's sync API, or skip (locally) / fail (in CI, CI=true) without a browser."""
    missing = None
    if not CHROMIUM.exists():
        missing = ("Debian chromium is not installed at /usr/bin/chromium "
                   "(apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = missing or "the python package playwright is not installed (pip install '.[dev]')"
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"the browser test must run in CI: {missing}")
    if missing:
        pytest.skip(missing)
    return sync_playwright


def test_browser_test_never_skips_in_ci(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run in CI: Debian chromium"):
        browser_or_skip()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        browser_or_skip()


def launch(p):
    """Debian's chromium, headless, asking nothing of the network on its own."""
    return p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)


OPEN_EVERYTHING = """() => {
  const texts = [];
  const shown = (layer) => layer.getPopup().getElement()
    .querySelector('.leaflet-popup-content').innerText;
  for (const key of Object.keys(window).sort()) {
    const layer = window[key];
    if (key.startsWith('circle_marker_')) {
      layer.openPopup();
      texts.push(shown(layer));
    } else if (key.startsWith('geo_json_') && layer && layer.eachLayer) {
      layer.eachLayer((part) => {  // a click propagated from one area to its GeoJSON group
        part.fire('click', {latlng: part.getBounds().getCenter()}, true);
        texts.push(shown(layer));
      });
    }
  }
  return texts;
}"""


def test_in_browser(tmp_path, html):
    sync_playwright = browser_or_skip()
    path = tmp_path / "map.html"
    write_map(html, path)
    dialogs, errors, requests = [], [], []
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-control-layers")
        control = page.inner_text(".leaflet-control-layers")
        shapes = page.locator("path.leaflet-interactive").count()
        texts = page.evaluate(OPEN_EVERYTHING)
        browser.close()
    assert dialogs == []
    assert errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    for name in LAYERS:
        assert name in control
    assert shapes == 3 + N_MARKERS
    assert len(texts) == 3 + N_MARKERS
    assert any("<script>alert(1)</script>" in t for t in texts)  # shown as text, not run


# --- the transport view ------------------------------------------------------------------

YEARS = list(range(FIRST, LAST + 1))
TRANSPORT_LAYERS = [
    "Planning areas: mean journey minutes (plan)",
    "Journey-time rings around new provision (15/30/45 min)",
    "Journeys (do nothing): area \u2192 provision",
    "Journeys (plan): area \u2192 provision",
]
OPENING = 2030  # the year o4 (site name BAD[3]) opens: its rings show then


def make_transport(names=BAD) -> TransportView:
    """Three areas; plan flows A1 → s1 and A2 → s2 every year, A3 → s4 from 2028."""
    areas = make_areas()
    provision = make_provision(names)
    centres = areas.geometry.centroid
    rows, flows = [], []
    for i, area in enumerate(areas["area_id"]):
        for year in YEARS:
            minutes = [8.0, 37.5, math.nan][i]
            rows.append({"area_id": area, "year": year, "pupils_local": 0.0 if i == 2 else 12.5,
                         "pupils_independent": 2.0, "mean_minutes": minutes,
                         "max_minutes": minutes + 5, "mean_minutes_do_nothing": minutes + 1,
                         "pupils_local_do_nothing": 10.0, "pupils_independent_do_nothing": 4.5,
                         "max_minutes_do_nothing": minutes + 6})
    links = [("plan", 0, 0, YEARS), ("plan", 1, 1, YEARS), ("plan", 2, 3, YEARS[2:]),
             ("do_nothing", 0, 0, YEARS)]
    for scenario, a, s, years in links:
        for year in years:
            flows.append({"scenario": scenario, "year": year, "area_name": names[a],
                          "site_name": names[s], "option_ids": "<i>x</i>;${y}",
                          "pupils": 5.0 + 10 * a, "minutes": 12.5, "km": 6.25,
                          "geometry": LineString([centres.iloc[a], provision.geometry.iloc[s]])})
    centre = provision.geometry.iloc[3]
    rings = gpd.GeoDataFrame(
        {"site_name": [names[3]] * 3, "opening_year": [OPENING] * 3, "minutes": [15, 30, 45],
         "radius_km": [1.0, 2.0, 3.0], "ring_method": ["straight line at 30 km/h <b>"] * 3},
        geometry=[centre.buffer(r * 1000) for r in (1.0, 2.0, 3.0)], crs="EPSG:27700")
    return TransportView(years=YEARS, areas=pd.DataFrame(rows),
                         flows=gpd.GeoDataFrame(flows, geometry="geometry", crs="EPSG:27700"),
                         rings=rings, travel_metric="derived: ${x} <script>`")


@pytest.fixture(scope="module")
def transport_html() -> str:
    return render_plan_map(make_areas(names=BAD[:3]), make_provision(), title="Transport",
                           first_year=FIRST, last_year=LAST, transport=make_transport())


def test_transport_helpers():
    assert minutes_colour(14.9) == MINUTE_COLOURS[0]
    assert minutes_colour(15.0) == MINUTE_COLOURS[1]
    assert minutes_colour(80) == MINUTE_COLOURS[-1]
    assert minutes_colour(math.nan) == NO_LOCAL_COLOUR
    assert flow_weight(50, 100) == 6.0 and flow_weight(100, 100) == 12.0
    assert flow_weight(0.1, 100) == 1.0  # small flows stay visible
    assert ring_layer_name((15, 30, 45)) == TRANSPORT_LAYERS[1]


def test_transport_layers_and_year_control(transport_html):
    script = page_script(transport_html)
    control = script.split("L.control.layers")[0].rsplit("var layer_control", 1)[1]
    for name in [*LAYERS, *TRANSPORT_LAYERS]:
        assert json.dumps(name) in control, name
    assert "year-control" in script and "year-next" in script and "year-slider" in script
    assert json.dumps({str(y): ay_label(y) for y in YEARS}) in script
    assert len(re.findall(r"<script\b", transport_html)) == 4  # no extra script element
    assert not EXTERNAL.search(transport_html)
    for label in ("Mean one-way journey (plan)", "Flows, area \u2192 provision", "Rings"):
        assert label in transport_html


def test_transport_names_escaped(transport_html):
    for raw in ["<script>alert(1)</script>", "${alert(1)}", "C:\\x", "<i>x</i>", "${y}",
                "${x} <script>", "30 km/h <b>"]:
        assert raw not in transport_html, raw
    assert "derived: &#36;{x} &lt;script&gt;&#96;" in transport_html  # the travel metric
    assert "straight line at 30 km/h &lt;b&gt;" in transport_html  # the ring method


def test_transport_map_deterministic(transport_html):
    again = render_plan_map(make_areas(names=BAD[:3]), make_provision(), title="Transport",
                            first_year=FIRST, last_year=LAST, transport=make_transport())
    assert again == transport_html


SHOWN_RINGS = """() => [...document.querySelectorAll('path[stroke="#c51b8a"]')]
  .filter((p) => p.getAttribute('stroke-opacity') !== '0').length"""
OPEN_TOOLTIPS = """() => {
  for (const key of Object.keys(window).sort()) {
    const layer = window[key];
    if (key.startsWith('geo_json_') && layer && layer.eachLayer) {
      layer.eachLayer((part) => { if (part._map && part.getTooltip()) part.openTooltip(); });
    }
  }
  return [...document.querySelectorAll('.leaflet-tooltip')].map((t) => t.innerText);
}"""


def open_in_browser(path: Path, shot: Path, steps: int) -> dict:
    """Load the map, step the year control ``steps`` times, record what a user would see."""
    sync_playwright = browser_or_skip()
    seen = {"dialogs": [], "errors": [], "requests": []}
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
        page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error"
                else None)
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.on("request", lambda r: seen["requests"].append(r.url))
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-control-layers")
        seen["control"] = page.inner_text(".leaflet-control-layers")
        seen["first"] = (page.inner_text(".year-label"),
                         page.locator("path.leaflet-interactive").count(),
                         page.evaluate(SHOWN_RINGS))
        for _ in range(steps):
            page.click(".year-next")
        seen["later"] = (page.inner_text(".year-label"),
                         page.locator("path.leaflet-interactive").count(),
                         page.evaluate(SHOWN_RINGS))
        page.screenshot(path=str(shot))
        seen["tooltips"] = page.evaluate(OPEN_TOOLTIPS)
        browser.close()
    return seen


def assert_clean(seen: dict, layers: list[str]) -> None:
    assert seen["dialogs"] == []
    assert seen["errors"] == []
    assert [u for u in seen["requests"] if not u.startswith(("file:", "data:"))] == []
    for name in layers:
        assert name in seen["control"], name


def test_transport_map_in_browser(tmp_path, transport_html):
    path = tmp_path / "transport.html"
    write_map(transport_html, path)
    seen = open_in_browser(path, tmp_path / "transport.png", steps=OPENING - FIRST)
    assert_clean(seen, [*LAYERS, *TRANSPORT_LAYERS])
    # 3 areas + 2 plan flows + markers in 2026; a third flow from 2028; rings in 2030 only
    assert seen["first"] == ("AY 2026/27", 3 + 2 + N_MARKERS, 0)
    assert seen["later"] == (ay_label(OPENING), 3 + 3 + N_MARKERS, 3)
    tips = " ".join(seen["tooltips"])
    assert "<script>alert(1)</script>" in tips and "${alert(1)}" in tips  # shown as text
    assert f"{ay_label(OPENING)}: mean 8.0 min" in tips
    assert (tmp_path / "transport.png").stat().st_size > 10_000


def test_run_map_in_browser(tiny, tmp_path):
    """A solved run's map: every layer present, phasing followed, nothing fetched."""
    provision = [option("SP", "S1", existing=4),
                 option("NEW", "S2", module=6, max_modules=1, capital=1_000, earliest=2027)]
    toml = tiny.write(demand=["A,ASD,primary,2026,10", "A,ASD,primary,2027,10"],
                      provision=provision, sites=["S1,One,A,405000,306000",
                                                  "S2,Two `${x}`,A,408000,309000"],
                      toml=run_toml(years=2, transport_pupil=1_000, transport_km=100))
    html = plan_map_html(run_plan(toml))
    assert "Two `${x}`" not in html
    path = tmp_path / "run.html"
    write_map(html, path)
    seen = open_in_browser(path, tmp_path / "run.png", steps=1)
    assert_clean(seen, [*TRANSPORT_LAYERS, "Existing provision", "New provision (plan)"])
    assert seen["first"][0] == "AY 2026/27" and seen["later"][0] == "AY 2027/28"
    assert seen["first"][2] == 0 and seen["later"][2] == 3  # NEW's rings from 2027
