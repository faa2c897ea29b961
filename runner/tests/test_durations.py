"""One duration grammar on both sides: the runner's parser and the package's, checked on the same cases
(fixtures/durations.yml); the package's on real dbt, all cases in one compile per adapter."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from harness import REPO_ROOT

from steward.config import durations, validation
from steward.errors import BadInput

CASES = yaml.safe_load((Path(__file__).parent / "fixtures" / "durations.yml").read_text())
REFUSED = r"^retention: .* is not a duration \(a whole number above zero and a unit, at most 100 years: "


def test_the_package_holds_the_runners_pattern_character_for_character():
    macro = (REPO_ROOT / "macros" / "utils" / "internal_duration_seconds.sql").read_text()
    assert f"modules.re.match('{durations.PATTERN}'," in macro


@pytest.mark.parametrize(("text", "seconds"), CASES["valid"].items())
def test_the_runner_reads_every_valid_case(text, seconds):
    assert durations.parse(text) == durations.ParsedDuration(seconds=seconds, unit_given=True)
    assert validation.duration(text, "retention") == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", CASES["invalid"])
def test_the_runner_refuses_every_invalid_case(text):
    assert durations.parse(text) is None
    with pytest.raises(BadInput, match=REFUSED):
        validation.duration(text, "retention")


@pytest.mark.parametrize(("text", "seconds"), [*CASES["unitless"].items(), *((text, 0) for text in CASES["zero"])])
def test_the_runner_needs_a_unit_and_more_than_zero(text, seconds):
    parsed = durations.parse(text)
    assert parsed is not None and parsed.seconds == seconds
    with pytest.raises(BadInput, match=REFUSED):
        validation.duration(text, "retention")


@pytest.mark.parametrize("value", [7, 7.0, None, True, ["7d"]])
def test_the_runner_refuses_values_that_are_not_text(value):
    with pytest.raises(BadInput, match=REFUSED):
        validation.duration(value, "retention")


def test_the_package_reads_every_case_as_the_runner_does(integration_project):
    """Valid cases through the public steward.duration_seconds (which would raise on any of them it
    refused); the rest through the grammar itself, which answers none instead of raising."""
    valid = list(CASES["valid"])
    others = [*CASES["invalid"], *CASES["unitless"], *CASES["zero"]]
    inline = (
        "{%- set read = {} -%}"
        f"{{%- for text in {json.dumps(valid)} -%}}"
        "{%- do read.update({text: steward.duration_seconds(text, 'case')}) -%}"
        "{%- endfor -%}"
        f"{{%- for text in {json.dumps(others)} -%}}"
        "{%- do read.update({text: steward.internal_duration_seconds(text)}) -%}"
        "{%- endfor -%}"
        "{{ tojson(read) }}"
    )
    result = integration_project.dbt("compile", "--inline", inline)
    read = json.loads(result.result.results[0].node.compiled_code)
    expected = {**CASES["valid"], **dict.fromkeys(CASES["invalid"]), **CASES["unitless"],
                **dict.fromkeys(CASES["zero"], 0)}
    assert read == expected


def test_steward_prune_refuses_a_bad_duration_in_one_line_with_exit_2(shop_project):
    result = shop_project.cli("prune", "--older-than", "2 fortnights")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == ("steward: error: --older-than: '2 fortnights' is not a duration (a whole number "
                                     "above zero and a unit, at most 100 years: 90s, 30m, 6h, 3d, 2w or '2 days')")
