"""Job files: a nightly sync described once and run by name (``sync``), set up (``init``) and checked (``doctor``).

``importer.jobs`` builds on :mod:`importer.run` (a job's run is a run), never the other way round.
"""

from importer.jobs.flags import RunFlags
from importer.jobs.model import JOB_KEYS, Alerts, JobFile, expand_target, load_job
from importer.jobs.runner import EXIT_NOT_READY, JobTarget, imported_before, run_namespace, sync_job, worst

__all__ = ["EXIT_NOT_READY", "JOB_KEYS", "Alerts", "JobFile", "JobTarget", "RunFlags", "expand_target",
           "imported_before", "load_job", "run_namespace", "sync_job", "worst"]
