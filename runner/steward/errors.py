"""Typed errors and the one table that maps them to the CLI's documented exit codes."""

from __future__ import annotations


class StewardError(Exception):
    """Base of every error steward reports to a person; the message is one line."""


class DbtFailed(StewardError):
    """dbt reported an error or a failed test; everything touched was rolled back and verified."""


class LintFailed(StewardError):
    """sqlfluff found violations."""


class BadInput(StewardError):
    """A flag, setting, or file is invalid; nothing was changed."""


class ElementaryMissing(BadInput):
    """`steward report --elementary` without elementary's dbt package or its edr CLI; says what to add."""

    def __init__(self, message: str, instructions: str) -> None:
        super().__init__(message)
        self.instructions = instructions


class SafetyRefused(StewardError):
    """A safety check (branch, clean tree, confirmation, breaking change) refused the run."""


class DeployLocked(StewardError):
    """Another deploy holds the target's lock."""


class RollbackFailed(StewardError):
    """A restore or its verification failed; manual action is needed."""


class RecoveryRequired(StewardError):
    """An earlier deploy was interrupted and must be recovered first."""


class ConnectionLost(RecoveryRequired):
    """The warehouse connection dropped mid-command; what the command changed is put back by `steward recover`."""


class StorageFailed(StewardError):
    """steward's own files (the journal, a report) could not be written: disk full, permissions. A deploy is
    undone first; the message says what was restored."""


EXIT_CODES: dict[type[StewardError], int] = {
    DbtFailed: 1,
    LintFailed: 1,
    BadInput: 2,
    SafetyRefused: 3,
    DeployLocked: 4,
    RollbackFailed: 5,
    RecoveryRequired: 6,
    StorageFailed: 7,
}


def exit_code_for(error: StewardError) -> int:
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1
