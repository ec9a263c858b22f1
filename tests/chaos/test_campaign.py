"""The chaos campaign (``python -m bench chaos``), short: a few dozen SIGKILLs, no violation allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos import GRACE, LATE, Execution, Figures, Kill, campaign, check_steps, render

KILLS = {"embedded": 20, "restate": 15}


@pytest.mark.parametrize("engine", ["embedded", "restate"])
def test_a_short_campaign_finds_nothing(engine: str, tmp_path: Path) -> None:
    figures = campaign(engine, KILLS[engine], seed=7, workdir=tmp_path, quiet=True)
    print(render([figures]))
    assert figures.violations == []
    assert figures.kills == KILLS[engine]
    assert figures.invocations >= 3 * KILLS[engine]
    assert figures.completed == figures.invocations
    if engine == "restate":
        assert figures.server_kills == KILLS[engine] // 5


def test_a_step_run_again_without_a_kill_is_a_violation() -> None:
    log = [
        Execution(1, 100.0, "end", "j1", "a"),
        Execution(2, 100.0 + 10 * GRACE, "end", "j1", "a"),
        Execution(2, 200.0, "end", "j2", "a"),
        Execution(3, 201.0, "end", "j2", "a"),
    ]
    figures = Figures(engine="embedded", seed=0)
    check_steps(log, kills=[Kill(200.0 + GRACE / 2), Kill(100.0 + 9 * GRACE)], figures=figures)
    assert figures.steps_rerun_after_kill == 1  # j2's step was cut short by the kill
    assert len(figures.violations) == 1 and "step a of job j1 ran again" in figures.violations[0]


def test_a_step_may_end_after_a_server_kill_and_run_again() -> None:
    log = [Execution(1, 100.0, "end", "j1", "a"), Execution(1, 110.0, "end", "j1", "a")]
    process, server = Figures(engine="restate", seed=0), Figures(engine="restate", seed=0)
    check_steps(log, kills=[Kill(100.0 - LATE / 2)], figures=process)
    check_steps(log, kills=[Kill(100.0 - LATE / 2, server=True)], figures=server)
    assert len(process.violations) == 1  # the process that ran it was not the one killed
    assert server.violations == [] and server.steps_rerun_after_kill == 1
