"""Sessions: cast each effect into drums, bass, guitar or keyboard from what it sounds like.

``cast`` measures every effect (:mod:`.features`), scores it per session (:mod:`.scoring`) and solves an optimal
assignment; ``remap`` applies a person's move; ``write_casting`` writes casting.json and casting.png
(``draw_casting`` draws the picture later from the JSON).
"""

from pipeline.sessions.casting import YOUR_CHOICE, best_sessions, cast, cast_files, remap
from pipeline.sessions.features import EffectFeatures, analyse_effect, analyse_file
from pipeline.sessions.picture import draw_casting, write_casting
from pipeline.sessions.scoring import SESSION_WEIGHTS, descriptors, score_effect

__all__ = [
    "SESSION_WEIGHTS",
    "YOUR_CHOICE",
    "EffectFeatures",
    "analyse_effect",
    "analyse_file",
    "best_sessions",
    "cast",
    "cast_files",
    "descriptors",
    "draw_casting",
    "remap",
    "score_effect",
    "write_casting",
]
