"""What a user can set for a run, declared once: its defaults, how each value is read and checked (the same error
line wherever it came from), and :class:`RunSettings`, the model every entry builds its
:class:`~importer.run.context.options.RunOptions` from — the command line (``run``, ``validate``, ``verify``,
``apply``, ``undo``), a job file's ``options:`` (read by the run command's own flags), the page's form and the
library (``RunOptions`` checks its values the same way).

A value that does not fit is one :class:`ValueError` saying what was expected (``must be greater than 0, got 0``);
each entry puts where in front: ``argument --rate: …``, ``job.yaml:7: options.rate: …``, ``rate: …``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from importer.api.ratelimit import DEFAULT_RATE
from importer.errors import ConfigError
from importer.run.engine.stop import parse_duration
from importer.run.engine.work import DEFAULT_CONCURRENCY

__all__ = ["DEFAULT_CONCURRENCY", "DEFAULT_KEEP_PAYLOADS", "DEFAULT_MAX_MISSING", "DEFAULT_MAX_WAIT", "DEFAULT_RATE",
           "DEFAULT_REPORT_DIR", "ON_DUPLICATE", "RunSettings", "argument", "parse_on_missing", "read_count",
           "read_days", "read_duration", "read_on_duplicate", "read_on_missing", "read_percent", "read_rate",
           "read_seconds"]

#: The longest Retry-After a run waits through, in seconds.
DEFAULT_MAX_WAIT = 300.0
#: ``--max-missing``: the share of the job's leads, in percent, ``--on-missing`` may touch.
DEFAULT_MAX_MISSING = 10.0
#: ``--keep-payloads``: days payloads.jsonl and before.jsonl of a job's runs are kept.
DEFAULT_KEEP_PAYLOADS = 30.0
DEFAULT_REPORT_DIR = Path("reports")
#: Which of several rows with the same customer phone is sent.
ON_DUPLICATE: tuple[str, ...] = ("last", "first", "error")


def _number(value: object, kind: type[int] | type[float], expected: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected {expected}, got {value!r}")
    try:
        return kind(value if isinstance(value, int | float) else str(value).strip())
    except ValueError:
        raise ValueError(f"expected {expected}, got {str(value)!r}") from None


def read_rate(value: object) -> float:
    """Requests per second: a number greater than 0."""
    number = _number(value, float, "a number")
    if not number > 0:
        raise ValueError(f"must be greater than 0, got {value}")
    return number


def read_count(value: object) -> int:
    """A whole number greater than 0 (``--concurrency``, ``--workers``, ``--keep-runs``)."""
    number = _number(value, int, "a number")
    if number <= 0:
        raise ValueError(f"must be greater than 0, got {value}")
    return int(number)


def read_seconds(value: object) -> float:
    """A number of seconds, 0 or more (``--max-wait``)."""
    number = _number(value, float, "a number of seconds")
    if not number >= 0 or math.isinf(number):
        raise ValueError(f"must be 0 or more seconds, got {value}")
    return number


def read_duration(value: object) -> float:
    """``6h``, ``45m``, ``90s``, ``1h30m`` or a number of seconds (``--time-limit``)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return parse_duration(str(value))


def read_percent(value: object) -> float:
    number = _number(value, float, "a percentage")
    if not 0 <= number <= 100:
        raise ValueError(f"must be between 0 and 100, got {value}")
    return number


def read_days(value: object) -> float:
    number = _number(value, float, "a number of days")
    if not 0 <= number < math.inf:
        raise ValueError(f"must be 0 or more days, got {value}")
    return number


def parse_on_missing(text: str) -> tuple[str, str]:
    """``keep``, ``label:NAME`` or ``stage:NAME`` → (action, name); ValueError otherwise."""
    action, _, name = text.partition(":")
    if text == "keep":
        return "keep", ""
    if action in ("label", "stage") and name.strip():
        return action, name.strip()
    raise ValueError(f"expected keep, label:NAME or stage:NAME, got {text!r}")


def read_on_missing(value: object) -> str:
    parse_on_missing(str(value))
    return str(value)


def read_on_duplicate(value: object) -> str:
    if value not in ON_DUPLICATE:
        raise ValueError(f"expected one of {', '.join(ON_DUPLICATE)}, got {value!r}")
    return str(value)


def _optional(parse: Callable[[object], Any]) -> Callable[[object], Any]:
    return lambda value: None if value is None or value == "" else parse(value)


def argument(parse: Callable[[object], Any]) -> Callable[[str], Any]:
    """``parse`` as an argparse ``type``: its ValueError becomes argparse's own error (``argument --rate: …``)."""
    def checked(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    checked.__name__ = parse.__name__
    return checked


class RunSettings(BaseModel):
    """What a user can set for a run, each checked by its reader above (``RunOptions.of`` builds the options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: Annotated[float, BeforeValidator(read_rate)] = DEFAULT_RATE
    concurrency: Annotated[int, BeforeValidator(read_count)] = DEFAULT_CONCURRENCY
    workers: Annotated[int | None, BeforeValidator(_optional(read_count))] = None
    on_duplicate: Annotated[str, BeforeValidator(read_on_duplicate)] = "last"
    max_wait: Annotated[float, BeforeValidator(read_seconds)] = DEFAULT_MAX_WAIT
    time_limit: Annotated[float | None, BeforeValidator(_optional(read_duration))] = None
    on_missing: Annotated[str, BeforeValidator(read_on_missing)] = "keep"
    max_missing: Annotated[float, BeforeValidator(read_percent)] = DEFAULT_MAX_MISSING
    keep_runs: Annotated[int | None, BeforeValidator(_optional(read_count))] = None
    keep_payloads: Annotated[float, BeforeValidator(read_days)] = DEFAULT_KEEP_PAYLOADS

    @classmethod
    def read(cls, values: Mapping[str, Any], where: Callable[[str], str] = str) -> RunSettings:
        """The settings from ``values`` (missing or None: the default). A value that does not fit is one
        ConfigError: ``<where(name)>: <what was expected>``."""
        given = {name: value for name, value in values.items() if value is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            error = exc.errors()[0]
            name = str(error["loc"][0]) if error["loc"] else ""
            message = str(error.get("ctx", {}).get("error") or error["msg"])
            raise ConfigError(f"{where(name)}: {message}") from None
