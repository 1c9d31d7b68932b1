import base64
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
from sufficiency.preprocess.map_settings import MapSettings
from sufficiency.report.layers import plan_map_html
from sufficiency.report.style import ay_label
from sufficiency.report.transport import TransportView
from sufficiency.report.webmap import (
    LABELS_LAYER,
    MINUTE_COLOURS,
    NO_LOCAL_COLOUR,
    area_shading,
    escape,
    flow_weight,
    growth_fraction,
    minutes_colour,
    quantile_edges,
    render_plan_map,
    ring_layer_name,
    split_name,
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
    if (key === Symbol.toPrimitive) return () => 0;  // label boxes measured by the page
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
const page = {addEventListener() {}, innerHeight: 800,
              matchMedia: () => ({addEventListener() {}}), print() {}};
const context = {L: chain, alert: () => { rec.alerts += 1; }, window: page,
                 document: {querySelectorAll: () => []},
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


# --- a map that reads without clicking: labels, folding legends, basemap, print ----------

TILES = MapSettings("https://tiles.test/{z}/{x}/{y}.png", "\u00a9 Tiles <b>test</b>")
PLAIN = ["Site A", "Site B", "Site C", "Site D", "Site E"]


def page_data(html: str, name: str) -> list:
    """A JSON array the page's own script declares as ``var name = [...];``."""
    return json.loads(re.search(rf"var {name} = (\[.*?\]);\n", html).group(1))


def csp(html: str) -> str:
    return re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">',
                     html).group(1)


def test_split_name():
    assert split_name("Central: Guildhall, Micklegate") == ("Central", "Guildhall, Micklegate")
    assert split_name("East Warwickshire (Rugby)") == ("East Warwickshire", "Rugby")
    assert split_name("Nuneaton & Bedworth") == ("Nuneaton & Bedworth", "")
    assert split_name("<script>alert(1)</script>") == ("<script>alert(1)</script>", "")


def test_labels(html):
    areas = page_data(html, "areaLabels")
    assert sorted(a["head"] for a in areas) == sorted(
        escape(n) for n in ("<script>alert(1)</script>", "${alert(1)}", "C:\\x`"))
    south, west, north, east = fit_bounds(html)
    assert all(south < a["lat"] < north and west < a["lon"] < east for a in areas)
    sites = page_data(html, "siteLabels")
    assert [s["name"] for s in sites] == [escape(BAD[i]) for i in (3, 2, 4, 1)]  # most places
    assert sites[0]["note"] == "+150 places, from AY 2030/31"
    assert escape(BAD[0]) not in {s["name"] for s in sites}  # existing places only: no label
    assert json.dumps(LABELS_LAYER) in page_script(html)
    plain = render(make_areas(names=("North: Warwick", "Leamington (Spa)", "Kenilworth")),
                   make_provision(PLAIN, PLAIN, PLAIN), title="Plan")
    assert [(a["head"], a["tail"]) for a in page_data(plain, "areaLabels")] == [
        ("Kenilworth", ""), ("North", "Warwick"), ("Leamington", "Spa")]  # largest first
    assert {s["name"] for s in page_data(plain, "siteLabels")} == set(PLAIN[1:])


def test_legends_fold(html, transport_html):
    for page, count in ((html, 2), (transport_html, 4)):
        legends = re.findall(r"<details class='plan-box plan-legend'[^>]*>", page)
        assert len(legends) == count
        assert all(" open" not in d for d in legends)  # folded until the script opens some
    assert "data-open-at='640'" in html and "Print (A4 landscape)" in html
    assert "@media print" in html and "size: A4 landscape" in html


def frame(firsts, lasts) -> gpd.GeoDataFrame:
    areas = make_areas()
    return areas.assign(pupils_first_year=firsts, pupils_last_year=lasts)


def test_shading_shows_differences():
    uniform = area_shading(frame([100.0, 50.0, 10.0], [110.0, 55.0, 11.0]), FIRST, LAST)
    assert uniform.measure == "pupils"  # +10 % everywhere: shaded by pupils instead
    assert uniform.layer_name == "Planning areas: pupils AY 2033/34"
    assert "about the same in every area (+10.0% to +10.0%" in uniform.note
    assert len(set(uniform.colour(v) for v in uniform.values)) == 3
    varied = area_shading(make_areas(), FIRST, LAST)
    assert varied.measure == "growth" and varied.layer_name == LAYERS[0]
    assert varied.class_labels() == ["-10.0% to +5.0%", "+5.0% to +20.0%"]  # two values
    assert varied.colour(math.nan) == "#cccccc"
    close = area_shading(frame([100.0, 100.0, 100.0], [101.0, 102.5, 104.0]), FIRST, LAST)
    assert close.measure == "growth"  # 3 points of spread: quantile classes show it
    assert len({close.colour(v) for v in close.values}) == 3
    assert quantile_edges([1.0, 1.0]) == [1.0, 1.0]
    assert len(quantile_edges([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])) == 6
    html = render(frame([100.0, 50.0, 10.0], [110.0, 55.0, 11.0]))
    assert json.dumps("Planning areas: pupils AY 2033/34") in page_script(html)
    assert "Pupils needing a specialist place, AY 2033/34" in html


def test_no_basemap_without_setting(html):
    assert "tileLayer" not in page_script(html) and "tiles.test" not in html
    assert csp(html) == ("default-src &#39;none&#39;; script-src &#39;unsafe-inline&#39;; "
                         "style-src &#39;unsafe-inline&#39;; img-src data:; "
                         "base-uri &#39;none&#39;; form-action &#39;none&#39;")


@pytest.fixture(scope="module")
def basemap_html() -> str:
    return render_plan_map(make_areas(names=("North: Warwick, Leek Wootton",
                                             "Leamington Spa (Royal)", "Kenilworth")),
                           make_provision(PLAIN, PLAIN, PLAIN), title="Basemap",
                           first_year=FIRST, last_year=LAST, transport=make_transport(PLAIN),
                           basemap=TILES)


def test_basemap_with_setting(basemap_html):
    script = page_script(basemap_html)
    assert script.count("L.tileLayer(") == 1
    assert json.dumps(TILES.tile_url) in script
    name = re.search(r"var (tile_layer_\d+) = L\.tileLayer", script).group(1)
    assert f"{name}.addTo" not in script  # off at first: not on the map, nothing fetched
    assert json.dumps("Basemap: tiles.test (fetched when ticked)") in script
    assert "img-src data: https://tiles.test;" in csp(basemap_html)
    assert re.findall(r"https?://[\w.-]+", csp(basemap_html)) == ["https://tiles.test"]
    assert "<b>test" not in basemap_html  # the attribution is escaped too
    assert not EXTERNAL.search(basemap_html)


PNG_1PX = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
                           "HwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
SHOWN_LABELS = """() => [...document.querySelectorAll('.plan-label')]
  .filter((l) => l.style.visibility !== 'hidden')
  .flatMap((l) => [...l.querySelectorAll('.site-label .label-box, .label-head, .label-tail')]
    .filter((part) => part.style.visibility !== 'hidden')
    .map((part) => { const r = part.getBoundingClientRect();
                     return {text: part.innerText, box: [r.left, r.top, r.right, r.bottom]}; }))"""
LEGEND_BOXES = """() => [...document.querySelectorAll('details.plan-legend')]
  .filter((d) => d.offsetParent !== null)
  .map((d) => { const r = d.getBoundingClientRect();
                return {open: d.open, area: r.width * r.height}; })"""


MAP = "window[Object.keys(window).find((k) => k.startsWith('map_'))]"
MAP_ZOOM = f"() => {MAP}.getZoom()"


def overlapping(boxes: list[list[float]]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j
            and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]


def test_reads_without_clicking_in_browser(tmp_path, basemap_html):
    """Labels, folded legends and the basemap (no tile until ticked); the A4 print view."""
    sync_playwright = browser_or_skip()
    path = tmp_path / "map.html"
    write_map(basemap_html, path)
    requests, errors, dialogs, failed = [], [], [], {}
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.route("https://tiles.test/**", lambda route: route.fulfill(
            status=200, content_type="image/png", body=PNG_1PX))
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.__setitem__(r.url, r.failure))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-control-layers")
        page.wait_for_load_state("load")  # the labels are placed again once it settles
        page.evaluate("() => document.fonts.ready.then(() => new Promise("
                      "(done) => setTimeout(done, 100)))")
        page.wait_for_function(f"() => {MAP}.getZoom() === 13")  # the whole plan in view
        page.wait_for_timeout(300)
        before = [u for u in requests if not u.startswith(("file:", "data:"))]
        labels = page.evaluate(SHOWN_LABELS)
        legends = page.evaluate(LEGEND_BOXES)
        page.screenshot(path=str(tmp_path / "map.png"))
        page.get_by_text("Basemap: tiles.test").click()
        page.wait_for_timeout(500)
        tiles = [u for u in requests if u.startswith("https://tiles.test/")]
        paler = page.evaluate("() => document.querySelector('.folium-map')"
                              ".classList.contains('basemap-on')")
        page.screenshot(path=str(tmp_path / "map-basemap.png"))
        page.evaluate("() => { new Image().src = 'https://elsewhere.test/x.png'; }")
        page.wait_for_timeout(300)
        page.get_by_text("Basemap: tiles.test").click()  # off again: print the plan alone
        page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
        page.emulate_media(media="print")
        page.wait_for_timeout(500)
        printed = page.evaluate(LEGEND_BOXES)
        hidden = page.evaluate("() => ['.leaflet-control-layers', '.plan-print', '.year-prev']"
                               ".map((s) => getComputedStyle(document.querySelector(s)).display)")
        page.screenshot(path=str(tmp_path / "print.png"))
        pdf = page.pdf(landscape=True, format="A4", prefer_css_page_size=True)
        browser.close()
    assert dialogs == []
    assert before == []  # nothing fetched until the basemap is ticked
    assert tiles and all(re.fullmatch(r"https://tiles\.test/\d+/\d+/\d+\.png", u) for u in tiles)
    assert paler
    assert failed == {"https://elsewhere.test/x.png": "csp"}  # the CSP names one host only
    assert [e for e in errors if "Content Security Policy" not in e] == []
    assert any("elsewhere.test" in e for e in errors)
    texts = " ".join(label["text"] for label in labels)
    for name in ("North", "Leamington Spa", "Kenilworth", *PLAIN[1:]):
        assert name in texts, name
    assert overlapping([label["box"] for label in labels]) == []
    assert [g["open"] for g in legends] == [True, False, False]  # minutes open at 800 px
    assert sum(g["area"] for g in legends) < 0.06 * 1280 * 800
    assert printed and all(g["open"] for g in printed)
    assert hidden == ["none", "none", "none"]
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # one A4 landscape page
    for shot in ("map.png", "map-basemap.png", "print.png"):
        assert (tmp_path / shot).stat().st_size > 10_000



def test_map_keeps_the_plan_framed_until_the_reader_moves_it(tmp_path, basemap_html):
    """A window that settles late or resizes is refitted (labels placed again); a
    window resized after the reader zoomed keeps the reader's view."""
    sync_playwright = browser_or_skip()
    path = tmp_path / "map.html"
    write_map(basemap_html, path)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 200, "height": 200})
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        small = page.evaluate(MAP_ZOOM)
        page.set_viewport_size({"width": 1280, "height": 800})  # the window settles
        page.wait_for_function(f"() => {MAP}.getZoom() === 13")  # 6 km in 800 px: 516 px
        page.wait_for_timeout(200)  # the labels are placed after the move
        texts = " ".join(label["text"] for label in page.evaluate(SHOWN_LABELS))
        page.mouse.move(640, 400)
        page.mouse.wheel(0, -300)  # the reader zooms in
        page.wait_for_function(f"() => {MAP}.getZoom() > 13 && !{MAP}._animatingZoom")
        zoomed = page.evaluate(MAP_ZOOM)
        page.set_viewport_size({"width": 1000, "height": 700})
        page.wait_for_timeout(300)
        kept = page.evaluate(MAP_ZOOM)
        browser.close()
    assert small < 13
    assert "Leamington Spa" in texts and "North" in texts
    assert kept == zoomed


def test_run_basemap_from_toml(tiny):
    """The run's [map] reaches the map: one tile layer, the CSP names its host."""
    extra = ('[map]\ntile_url = "https://tiles.test/{z}/{x}/{y}.png"\n'
             'attribution = "\u00a9 Test"\n')
    toml = tiny.write(demand=["A,ASD,primary,2026,3"], provision=[option("SP", "S1", existing=4)],
                      toml=run_toml(extra=extra))
    html = plan_map_html(run_plan(toml))
    assert page_script(html).count("L.tileLayer(") == 1
    assert "img-src data: https://tiles.test;" in csp(html)
    assert [a["head"] for a in page_data(html, "areaLabels")] == ["Area A"]
