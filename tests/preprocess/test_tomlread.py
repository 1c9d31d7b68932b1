"""The run TOML's values: plain year keys, a £ maximum on every money key, BOM, run names.

The messages a planner sees are in the catalogue (tests/catalogue/); these check the rules
for every key they cover, and the reader shared with the build spec.
"""

from __future__ import annotations

import pytest
from conftest import run_toml

from sufficiency.errors import InputError
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.tomlread import MAX_POUNDS, TomlReader, read_toml


def write_run(tiny, text: str):
    (tiny.root / "data").mkdir(parents=True, exist_ok=True)
    path = tiny.root / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tiny, text: str) -> list[str]:
    with pytest.raises(InputError) as raised:
        load_run_config(write_run(tiny, text))
    return [str(issue) for issue in raised.value.issues]


@pytest.mark.parametrize("key", ["02026", "2026²", "２０２６", "+2026", " 2026", "2026.0", "0"])
def test_year_keys_must_be_plain_digits_even_when_the_caller_allows_any_digits(key):
    """A vetting function as loose as str.isdigit (the build spec's) cannot let these through."""
    reader = TomlReader("spec.toml")
    years = reader.year_numbers({key: 5, "2027": 6}, "homes.",
                                lambda text: None if text.isdigit() else ("not a year", "2027"))
    assert years == {2027: 6.0}
    assert [issue.column for issue in reader.issues] == [f"homes.{key}"]


def test_budget_year_with_leading_zero_does_not_replace_the_year(tiny):
    text = run_toml(years=2, budget={2026: 1_000_000}).replace(
        "[capital_budget]\n", '[capital_budget]\n"02026" = 0\n')
    assert problems(tiny, text) == [
        "run.toml, key 'capital_budget.02026': '02026' is not a plain year: it has leading "
        "zeros — write 2026, without leading zeros"]


@pytest.mark.parametrize("section, key", [
    ("independent", "cost_per_place"), ("independent", "transport_cost_per_pupil"),
    ("transport", "cost_per_pupil"), ("transport", "cost_per_km"),
    ("soft_capacity", "premium_per_pupil")])
def test_every_money_key_has_a_maximum(tiny, section, key):
    text = _set(run_toml(), section, key, "1e308")
    assert problems(tiny, text) == [
        f"run.toml, key '{section}.{key}': 1e+308 is out of range — use a value between 0 and "
        "1e+10"]


def test_budget_at_the_maximum_is_accepted_and_beyond_it_refused(tiny):
    assert load_run_config(write_run(tiny, run_toml(budget={2026: MAX_POUNDS}))).capital_budget \
        == {2026: MAX_POUNDS}
    assert problems(tiny, run_toml(budget={2026: 2 * MAX_POUNDS})) == [
        "run.toml, key 'capital_budget.2026': 2e+10 is out of range — use a value between 0 and "
        "1e+10"]


def _set(text: str, section: str, key: str, value: str) -> str:
    """The run TOML with ``[section] key = value`` (replacing the key or adding it)."""
    lines = text.splitlines()
    header = f"[{section}]"
    if header not in lines:
        return text + f"\n{header}\n{key} = {value}\n"
    start = lines.index(header) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    body = [line for line in lines[start:end] if not line.startswith(f"{key} =")]
    return "\n".join(lines[:start] + [f"{key} = {value}"] + body + lines[end:]) + "\n"


def test_byte_order_mark_is_dropped(tiny):
    path = write_run(tiny, run_toml())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_toml(path)["name"] == "tiny"
    assert load_run_config(path).name == "tiny"


@pytest.mark.parametrize("name", ["tiny\n", "tiny\r\n", "\ntiny", "ti ny", "-tiny", "t" * 81])
def test_run_name_must_match_the_pattern_fully(tiny, name):
    (issue,) = [p for p in problems(tiny, _with_name(name)) if "key 'name'" in p]
    assert "is not a usable run name" in issue


def _with_name(name: str) -> str:
    escaped = name.replace("\r", "\\r").replace("\n", "\\n")
    return run_toml().replace('name = "tiny"', f'name = "{escaped}"')
