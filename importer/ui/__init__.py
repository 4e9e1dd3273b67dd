"""``superfone-import ui``: a local web page to check a sheet and send it, through the same library as the CLI.

    app.py         the FastAPI app and its routes (pages.py: the handlers); templates/ and static/ beside it
    workspace.py   the folder uploads and run folders go in (``--work-dir``)
    wizard/        the mapping, column first: roles, values, field policies and dates (see its docstring)
    mapping_text   the mapping as the page writes it (YAML)
    jobs.py        runs in a thread each, with live progress (the Progress interface) and a clean stop
    results.py     what a run folder shows: counts, rows with problems, the plan
    guard.py       loopback Host only, body size limit, security headers, the form token
    upload.py      files streamed straight into the work folder
    server.py      serving it (a background thread for tests, the foreground for the command)
"""

#: The page's port, and the largest upload it takes (here, so the command line parses its flags without loading the
#: page's web framework).
DEFAULT_PORT = 8766
DEFAULT_MAX_UPLOAD_MB = 50.0
