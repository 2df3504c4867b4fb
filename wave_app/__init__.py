"""WAVE: a photo's own sounds, played as a band."""

__version__ = "0.1.0"
