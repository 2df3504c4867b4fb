"""How far a pipeline run has come: the stage it is in, how far through that stage, and a message for people.

The stages report :class:`Progress` events to a :data:`ProgressListener`. Inside a stage, the work that only knows
its own fraction (an effects engine's diffusion steps, the render of each session) keeps the plain
``(message, fraction)`` :data:`~pipeline.types.ProgressCallback`, which :func:`report_to` tags with the stage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from pipeline.types import ProgressCallback


class Stage(StrEnum):
    """The pipeline's stages, in the order a whole run goes through them."""

    SEEING = "seeing"  # the vision model reads the picture into a sound sheet
    HEARING = "hearing"  # the sound effects are made
    CASTING = "casting"  # the song is read and the effects are cast into the band
    BUILDING = "building"  # an instrument is built from each cast effect
    PLAYING = "playing"  # the song is played, mixed and mastered


STAGES: tuple[Stage, ...] = tuple(Stage)

# Where each stage starts and ends in a whole run, as fractions of its usual time.
STAGE_SPAN: dict[Stage, tuple[float, float]] = {
    Stage.SEEING: (0.0, 0.15),
    Stage.HEARING: (0.15, 0.45),
    Stage.CASTING: (0.45, 0.5),
    Stage.BUILDING: (0.5, 0.6),
    Stage.PLAYING: (0.6, 1.0),
}


class Progress(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: Stage
    fraction: float  # done of this stage, 0..1
    message: str

    @field_validator("fraction")
    @classmethod
    def _within_the_stage(cls, value: float) -> float:
        return min(1.0, max(0.0, value))

    def overall(self, stages: Sequence[Stage] = STAGES) -> float:
        """How far a run of ``stages`` has come at this event, 0..1 (stages keep their share of :data:`STAGE_SPAN`)."""
        share = {stage: STAGE_SPAN[stage][1] - STAGE_SPAN[stage][0] for stage in stages}
        if self.stage not in share:
            return 0.0
        done_before = sum(share[s] for s in stages if STAGES.index(s) < STAGES.index(self.stage))
        return (done_before + share[self.stage] * self.fraction) / (sum(share.values()) or 1.0)


ProgressListener = Callable[[Progress], None]


def ignore_progress(event: Progress) -> None:
    """A listener that ignores everything."""


def report_to(listener: ProgressListener, stage: Stage) -> ProgressCallback:
    """A ``(message, fraction)`` callback for work inside ``stage``; its reports reach ``listener`` as that stage's."""
    return lambda message, fraction: listener(Progress(stage=stage, fraction=fraction, message=message))


def as_fractions(callback: ProgressCallback, stages: Sequence[Stage] = STAGES) -> ProgressListener:
    """A listener for a display of one overall fraction (a progress bar) over a run of ``stages``."""
    return lambda event: callback(event.message, event.overall(stages))
