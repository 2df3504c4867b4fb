"""Rendering parts with WAVE's instruments: a vectorised sampler and whole-song stems."""

from pipeline.render.sampler import Sampler, Voices
from pipeline.render.song import MAX_TAIL_S, RenderedStems, render_song, render_stems
from pipeline.render.stem_cache import StemCache

__all__ = ["MAX_TAIL_S", "RenderedStems", "Sampler", "StemCache", "Voices", "render_song", "render_stems"]
