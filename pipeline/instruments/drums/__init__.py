"""The drum kit builder: one effect becomes a General MIDI drum kit (keys 35-81).

How a kit is made:

1. **Hits.** The effect is sliced at its onsets (librosa onset detection on a light spectrogram, backtracked to the
   preceding energy minimum). A slice counts as a *hit* when it starts with a real jump in level and then decays;
   a stationary or swelling sound (hiss, a swoosh) has no hits and is used as raw material only.
2. **Classes.** Each hit is described by four spectral numbers (centroid, share of energy below 150 Hz, spectral
   flatness, decay time) and given the class of the nearest prototype: kick, snare, hat or percussion.
3. **Pieces.** Every GM key has a recipe (:data:`GM_KIT`): the family it belongs to, a pitch offset, a length,
   filters and flams. A family plays its own hits where the effect has them; missing families are derived from the
   best available hit (or from the raw sound) by filtering and pitching - a kick is low-passed and pitched down with
   a fast pitch drop, a snare is band-passed with a body of its own grains, a hat is high-passed and short, toms are
   pitched. No piece is made of synthetic noise: a derived piece keeps the whole hit under its filtered band.
4. **Finish.** Each piece is trimmed, its tail faded, its edges de-clicked and its peak normalised; a darker copy
   makes the soft velocity layer. The WAVs are written to ``out_dir``; the SFZ, SF2 and instrument.json are written
   by :mod:`pipeline.instruments.files`, as for every instrument.

The steps live in :mod:`.hits`, :mod:`.kit` (the recipes), :mod:`.sources` (each family's material),
:mod:`.shaping` (pitching, envelopes, trimming) and :mod:`.assembly`.
"""

from pipeline.instruments.drums.assembly import build_drum_kit
from pipeline.instruments.drums.hits import HitClass, classify, describe, find_hits
from pipeline.instruments.drums.kit import GM_KEYS, GM_KIT, KitFamily, KitPiece

__all__ = ["GM_KEYS", "GM_KIT", "HitClass", "KitFamily", "KitPiece", "build_drum_kit", "classify", "describe", "find_hits"]
