"""The YAML mapping (contract v1): which sheet columns fill which Superfone API fields.

    mapping = load_mapping("mappings/example.yaml")   # ConfigError: "<file>:<line>: <key path>: <expected>"
    mapping.check_columns(header, "leads.csv")        # ConfigError when a mapped column is missing
    draft, issues = mapping.apply(row)                # pure; blank cells are left out of the draft

Modules: ``document`` (YAML → data + line numbers), ``spec`` (schema), ``compiler`` (checks + field plans),
``plans`` and ``values`` (per-row work), ``lookup`` (CSV tables), ``loader`` (:class:`Mapping`).
"""

from importer.mapping.loader import Mapping, load_mapping

__all__ = ["Mapping", "load_mapping"]
