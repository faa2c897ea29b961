"""The one grammar of durations, the same pattern as the package's steward.internal_duration_seconds.

A whole number and an optional unit, short (90s, 30m, 6h, 3d, 2w) or a word, singular or plural, in any
case ('2 days', '1 Week', '90minutes'). What a missing unit or zero means is each reader's contract:
validation.duration refuses both, the package reads a bare number as seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Kept character for character equal to the package's pattern (runner/tests/test_durations.py checks it).
PATTERN = "(?i)^ *([0-9]+) *([smhdw]|seconds?|minutes?|hours?|days?|weeks?)? *$"
CEILING_SECONDS = 36500 * 86400  # 100 years: anything longer is a typo, and would overflow timedelta
_SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(PATTERN)


@dataclass(frozen=True)
class ParsedDuration:
    seconds: int
    unit_given: bool


def parse(text: str) -> ParsedDuration | None:
    """The duration `text` spells, or None when it is not one or is longer than 100 years."""
    match = _DURATION.match(text)
    if not match:
        return None
    unit = match.group(2)
    # A word names its unit by its first letter, as the short form does; no unit is seconds.
    seconds = int(match.group(1)) * _SECONDS_PER_UNIT[(unit or "s")[0].lower()]
    if seconds > CEILING_SECONDS:
        return None
    return ParsedDuration(seconds=seconds, unit_given=unit is not None)
