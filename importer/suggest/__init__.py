"""``mapping suggest``: a mapping guessed from a sheet's headers, recognising the presets of other CRMs."""

from importer.suggest.suggester import Suggestion, suggest_mapping

__all__ = ["Suggestion", "suggest_mapping"]
