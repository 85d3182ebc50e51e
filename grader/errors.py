"""The grader's own errors. The CLI's `run()` turns each into its exit code and one line, as tox does with its
`HandledError`; any other exception is a bug and keeps its traceback.

Exit codes of the `grader` command: 0 every check passed, 1 some check did not (or some submission could not
be graded), 2 a usage or course error, 74 a file could not be read or written, 130 interrupted.
"""

from __future__ import annotations

EXIT_USAGE = 2
EXIT_IO = 74  # sysexits' EX_IOERR: a full disk is not a usage error
EXIT_INTERRUPTED = 130


class GraderError(Exception):
    """A problem the user can fix, reported in one line."""

    exit_code = EXIT_USAGE


class CourseError(GraderError):
    """The course layout, a submission's layout or the command line is wrong."""


class DataError(GraderError):
    """A data file is missing or does not match its checksum."""
