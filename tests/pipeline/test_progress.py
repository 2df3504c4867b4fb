"""Progress events name their pipeline stage; jobs and the command line turn them into one overall fraction."""

from __future__ import annotations

import pytest

from db.models import JobStatus
from jobs.events import STAGE_SPAN, stage_start, status_of
from pipeline.progress import STAGES, Progress, Stage, as_fractions, report_to


def test_work_inside_a_stage_reports_as_that_stage() -> None:
    seen: list[Progress] = []
    hearing = report_to(seen.append, Stage.HEARING)
    hearing("diffusion step 3 of 4", 0.75)
    hearing("remaking 1 sound", 1.4)  # out of range: held to the stage
    assert seen == [Progress(stage=Stage.HEARING, fraction=0.75, message="diffusion step 3 of 4"),
                    Progress(stage=Stage.HEARING, fraction=1.0, message="remaking 1 sound")]


@pytest.mark.parametrize("stages", [STAGES, (Stage.CASTING, Stage.BUILDING, Stage.PLAYING), (Stage.HEARING,)])
def test_a_run_of_some_stages_goes_from_zero_to_one_in_order(stages) -> None:
    bar: list[float] = []
    listener = as_fractions(lambda message, fraction: bar.append(fraction), stages)
    for stage in stages:
        for fraction in (0.0, 0.5, 1.0):
            listener(Progress(stage=stage, fraction=fraction, message=stage.value))
    assert bar[0] == 0.0 and bar[-1] == pytest.approx(1.0)
    assert bar == sorted(bar) and len(set(bar)) > len(stages)


def test_the_job_status_and_its_progress_follow_the_pipeline_stage() -> None:
    assert [status_of(stage) for stage in STAGES] == [
        JobStatus.SEEING, JobStatus.HEARING, JobStatus.CASTING, JobStatus.BUILDING, JobStatus.PLAYING]
    for stage in STAGES:
        start, end = STAGE_SPAN[status_of(stage)]
        assert stage_start(status_of(stage)) == start
        for fraction in (0.0, 0.3, 1.0):
            assert Progress(stage=stage, fraction=fraction, message="").overall() == pytest.approx(
                start + (end - start) * fraction)
    assert stage_start(JobStatus.QUEUED) == 0.0 and STAGE_SPAN[JobStatus.DONE] == (1.0, 1.0)
