"""[map]: the optional basemap's tile URL and attribution, checked before anything runs."""

import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.errors import InputError
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.map_settings import MapSettings, tile_url_problem

OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def test_good_urls():
    assert tile_url_problem(OSM) is None
    assert tile_url_problem("https://maps.council.gov.uk:8443/t/{z}/{x}/{y}.png?key=ab12") is None
    assert MapSettings(OSM, "x").tile_origin == "https://tile.openstreetmap.org"
    assert MapSettings("https://Maps.Example.org:8443/{z}/{x}/{y}", "x").tile_origin == (
        "https://maps.example.org:8443")
    assert MapSettings().tile_origin is None


@pytest.mark.parametrize(("url", "why"), [
    ("http://tile.openstreetmap.org/{z}/{x}/{y}.png", "https"),
    ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "one host"),
    ("https://tile.openstreetmap.org/{z}/{x}.png", "lacks {y}"),
    ("https://tile.example.org/{z}/{x}/{y}.png?k={apikey}", "other than"),
    ("https://user:pw@tile.example.org/{z}/{x}/{y}.png", "password"),
    ("https://tile.example.org; script-src *;/{z}/{x}/{y}", "';'"),
    ("https://tile.example.org/{z}/{x}/{y}.png' onerror='x", "quote"),
    ("https://bad_host!/{z}/{x}/{y}.png", "host"),
    ("javascript:alert(1)//{z}/{x}/{y}", "https"),
])
def test_bad_urls(url, why):
    assert why in tile_url_problem(url)


def write(tiny, extra: str):
    return tiny.write(demand=["A,ASD,primary,2026,1"], provision=[option("SP", "S1", existing=2)],
                      toml=run_toml(extra=extra))


def test_absent_means_no_basemap(tiny):
    assert load_run_config(write(tiny, "")).map == MapSettings()


def test_read(tiny):
    config = load_run_config(write(tiny, f'[map]\ntile_url = "{OSM}"\n'
                                         'attribution = "\u00a9 OpenStreetMap contributors"\n'))
    assert config.map == MapSettings(OSM, "\u00a9 OpenStreetMap contributors")


@pytest.mark.parametrize(("lines", "key", "words"), [
    ('tile_url = "http://t.example.org/{z}/{x}/{y}.png"\nattribution = "x"', "map.tile_url",
     "is not an https:// URL"),
    (f'tile_url = "{OSM}"', "map.attribution", "required with tile_url"),
    ('tile_url = true\nattribution = "x"', "map.tile_url", "not a text value"),
    ('tiles = "x"', "map.tiles", "unknown key"),
])
def test_bad_settings_name_file_and_key(tiny, lines, key, words):
    path = write(tiny, f"[map]\n{lines}\n")
    with pytest.raises(InputError) as info:
        load_run_config(path)
    text = str(info.value)
    assert "run.toml" in text and f"'{key}'" in text and words in text


def test_cli_exit_2(tiny):
    path = write(tiny, '[map]\ntile_url = "https://{s}.tile.example.org/{z}/{x}/{y}.png"\n'
                       'attribution = "x"\n')
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "run.toml" in result.output and "map.tile_url" in result.output
    assert "Traceback" not in result.output
