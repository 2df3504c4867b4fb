"""What each stem does in the song, and the one table of how loud, where and how bright each role sits.

The melody is the part a listener follows: it sits on top, near the centre, with presence kept. Accompaniment sits
under it and out to the side, wider and further back. Bass and drums share the low end: the kick keeps the lowest
octave, the bass steps aside there and carries the body above it; both stay in the centre.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.session_table import Role, row
from pipeline.types import Session

__all__ = ["ROLE_SOUND", "Role", "RoleSound", "stem_roles"]


@dataclass(frozen=True)
class RoleSound:
    loudness_lufs: float  # each stem is brought to this loudness (after its EQ) before the bus
    pan: float  # -1 left .. 1 right, constant-power law; accompaniment alternates sides
    width: float  # side gain: 1 keeps the stem's own stereo image, 0 folds it to mono
    spread: float  # decorrelated side added from the stem's own early reflections (mono sum unchanged)
    reverb_send: float  # linear send into the shared room, scaled by the mix's space
    highpass_hz: float
    body_hz: float
    body_db: float  # a wide peak giving the part its body (160-400 Hz; the bass lower)
    harshness_db: float  # wide cut around 4 kHz (2-8 kHz)
    air_db: float  # high shelf above 9 kHz


ROLE_SOUND: dict[Role, RoleSound] = {
    Role.MELODY: RoleSound(-16.5, 0.05, 1.0, 1.6, 0.40, 100.0, 250.0, 2.0, -4.0, -3.0),
    Role.ACCOMPANIMENT: RoleSound(-24.5, 0.75, 1.5, 3.0, 0.6, 100.0, 250.0, 2.5, -6.0, -5.0),
    Role.BASS: RoleSound(-23.0, 0.0, 0.0, 0.0, 0.0, 32.0, 130.0, 4.0, -10.0, -9.0),
    Role.DRUMS: RoleSound(-22.5, 0.0, 1.0, 2.6, 0.20, 32.0, 250.0, 1.0, -6.0, -8.0),
}


def stem_roles(sessions: list[Session] | tuple[Session, ...], melody: Session | None) -> dict[Session, Role]:
    """The role of each session's stem: the melody session leads, the others keep their own (the session table's)."""
    return {session: Role.MELODY if session == melody else row(session).mix_role for session in sessions}
