"""Rendering parts with WAVE's instruments: a vectorised sampler and whole-song stems."""

from pipeline.render.sampler import Sampler, Voices
from pipeline.render.song import MAX_TAIL_S, render_song

__all__ = ["MAX_TAIL_S", "Sampler", "Voices", "render_song"]
