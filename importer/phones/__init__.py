"""Phone numbers to E.164: :func:`normalise_phone` (exact, never guessing) and its fast path in :mod:`.rules`."""

from importer.phones.normalise import Phone, PhoneProblem, is_e164, normalise_phone, normalise_phone_text

__all__ = ["Phone", "PhoneProblem", "is_e164", "normalise_phone", "normalise_phone_text"]
