"""superfone-importer: sync spreadsheets of sales leads into the Superfone CRM.

    import importer

    options = importer.RunOptions(api_key="...", report_dir=Path("reports"))
    result = importer.Importer("leads.csv", "mapping.yaml", options).run()     # a path, a DataFrame or dicts
    result.exit_code, result.folder, result.summary["succeeded"]

    with importer.locate_source("s3://bucket/exports/leads-*.csv", settle=60) as found:   # where the sheet lives
        found.display, found.location, found.digest, found.modified                      # … what was picked
        importer.Importer(found, "mapping.yaml", options).run()
        importer.move_source(found, "done")

What is listed in ``__all__`` is the public API; everything else may move. Names are loaded on first use, so
``import importer`` stays cheap for the checking processes, which need only a few modules.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    "ApiError": "importer.errors",
    "AuthError": "importer.errors",
    "ConfigError": "importer.errors",
    "ImporterError": "importer.errors",
    "InputError": "importer.errors",
    "RejectedError": "importer.errors",
    "TransientError": "importer.errors",
    "UncertainError": "importer.errors",
    "SourceNotReady": "importer.errors",
    "SourceFile": "importer.sources.locate",
    "locate_source": "importer.sources.locate",
    "move_source": "importer.sources.locate",
    "Issue": "importer.models",
    "Row": "importer.models",
    "Phone": "importer.phones",
    "PhoneProblem": "importer.phones",
    "normalise_phone": "importer.phones",
    "Mapping": "importer.mapping",
    "load_mapping": "importer.mapping",
    "RetryPolicy": "importer.api.retry",
    "SuperfoneClient": "importer.api.client",
    "Progress": "importer.run.context.options",
    "RunOptions": "importer.run.context.options",
    "Importer": "importer.run.journey.pipeline",
    "RunResult": "importer.run.context.result",
    "DryRun": "importer.run.kinds.dry",
    "RunKind": "importer.run.context.kind",
    "Send": "importer.run.kinds.send",
    "Plan": "importer.run.kinds.plan",
    "Verify": "importer.run.kinds.verify",
}

__all__ = [
    "ApiError",
    "AuthError",
    "ConfigError",
    "DryRun",
    "Importer",
    "ImporterError",
    "InputError",
    "Issue",
    "Mapping",
    "Phone",
    "PhoneProblem",
    "Plan",
    "Progress",
    "RejectedError",
    "RetryPolicy",
    "Row",
    "RunKind",
    "RunOptions",
    "RunResult",
    "Send",
    "SourceFile",
    "SourceNotReady",
    "SuperfoneClient",
    "TransientError",
    "UncertainError",
    "Verify",
    "__version__",
    "load_mapping",
    "locate_source",
    "move_source",
    "normalise_phone",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'importer' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from importer.api.client import SuperfoneClient
    from importer.api.retry import RetryPolicy
    from importer.errors import (
        ApiError,
        AuthError,
        ConfigError,
        ImporterError,
        InputError,
        RejectedError,
        SourceNotReady,
        TransientError,
        UncertainError,
    )
    from importer.mapping import Mapping, load_mapping
    from importer.models import Issue, Row
    from importer.phones import Phone, PhoneProblem, normalise_phone
    from importer.run.context.kind import RunKind
    from importer.run.context.options import Progress, RunOptions
    from importer.run.context.result import RunResult
    from importer.run.journey.pipeline import Importer
    from importer.run.kinds.dry import DryRun
    from importer.run.kinds.plan import Plan
    from importer.run.kinds.send import Send
    from importer.run.kinds.verify import Verify
    from importer.sources.locate import SourceFile, locate_source, move_source
