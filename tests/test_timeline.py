"""The replay engine on its own: scenarios folded at chosen instants, no app, no clock."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mockjobs import placeholders, timeline
from mockjobs.scenarios import Event, Scenario, load_text
from mockjobs.timeline import Job, Story

START = 1_600_000_000_000

STORY = """
name: story
job:
  type: addMission
  username: tester
  totalSteps: 5
  customAttributes:
    missionId: "{missionId}"
    phase: queued
vars:
  missionId: abc
timeline:
  - {at: 2s, message: Started., code: 1500, status: EXECUTING}
  - {at: 5s, message: Step one., code: 1501, steps: 1, attributes: {phase: layers}}
  - {at: 5s, message: Step one checked., code: 1502}
  - {at: 9.5s, message: Two more., code: 1503, steps: "+2", attributes: {phase: map, extra: 7}}
  - {at: 12s, message: 'Finished {missionId} for {params.title}.', code: 1510, steps: 4, status: COMPLETED}
on_cancel:
  - {at: 0, message: Cancelling., code: 1530, status: CANCELLING}
  - {at: 1.5s, message: Cleaning up., code: 1531, steps: "+1"}
  - {at: 3s, message: Cancelled., code: 1532, status: CANCELLED}
"""


def scenario(text: str = STORY) -> Scenario:
    """A scenario from YAML text."""
    return load_text(text, "test.yaml")


def job(**kw: Any) -> Job:
    """A job of the test scenario, started at START unless told otherwise."""
    base: dict[str, Any] = {
        "job_id": "jtest",
        "scenario": "story",
        "version": "v",
        "vars": {"missionId": "abc"},
        "params": {"title": "Harbor"},
        "start_ms": START,
    }
    base.update(kw)
    return Job(**base)


def doc_at(sc: Scenario, j: Job, elapsed_ms: float) -> dict[str, Any]:
    """The document at START + elapsed_ms of mock time."""
    return timeline.document(sc, j, START + round(elapsed_ms))


def test_before_the_first_event_the_job_is_in_its_initial_status() -> None:
    d = doc_at(scenario(), job(), 1999)
    assert d["status"] == "SUBMITTED"
    assert d["messages"] == []
    assert d["endTime"] == 0
    assert d["customAttributes"]["messageCodes"] == []
    assert d["customAttributes"]["stepsCompleted"] == 0
    assert d["customAttributes"]["isCancelled"] is False


def test_between_events_and_exactly_at_an_offset() -> None:
    sc, j = scenario(), job()
    assert doc_at(sc, j, 2000)["messages"] == ["Started."]
    between = doc_at(sc, j, 4999)
    assert between["status"] == "EXECUTING"
    assert between["messages"] == ["Started."]
    at = doc_at(sc, j, 5000)
    assert at["messages"] == ["Started.", "Step one.", "Step one checked."]
    assert at["customAttributes"]["messageCodes"] == [1500, 1501, 1502]
    assert at["customAttributes"]["stepsCompleted"] == 1


def test_after_the_end_the_document_stays_terminal() -> None:
    sc, j = scenario(), job()
    final = doc_at(sc, j, 12_000)
    assert final["status"] == "COMPLETED"
    assert final["messages"][-1] == "Finished abc for Harbor."
    assert doc_at(sc, j, 3_600_000) == final


def test_documented_key_order_with_extras_in_file_order() -> None:
    d = doc_at(scenario(), job(), 10_000)
    assert list(d) == [
        "jobId",
        "messages",
        "startTime",
        "endTime",
        "type",
        "status",
        "username",
        "customAttributes",
    ]
    assert list(d["customAttributes"]) == [
        "stepsCompleted",
        "isCancelled",
        "missionId",
        "phase",
        "extra",
        "messageCodes",
        "totalSteps",
    ]
    assert d["username"] == "tester"


def test_equal_offsets_keep_file_order_even_when_written_out_of_time_order() -> None:
    sc = scenario("""
job: {type: t}
timeline:
  - {at: 3s, message: c, code: 1503}
  - {at: 1s, message: a, code: 1501}
  - {at: 3s, message: d, code: 1504}
  - {at: 1s, message: b, code: 1502}
""")
    assert doc_at(sc, job(), 1000)["messages"] == ["a", "b"]
    d = doc_at(sc, job(), 3000)
    assert d["messages"] == ["a", "b", "c", "d"]
    assert d["customAttributes"]["messageCodes"] == [1501, 1502, 1503, 1504]


def test_steps_absolute_and_relative() -> None:
    sc = scenario("""
job: {type: t, totalSteps: 9}
timeline:
  - {at: 1s, steps: "+1"}
  - {at: 2s, steps: "+2"}
  - {at: 3s, steps: 1}
  - {at: 4s, steps: "+3"}
  - {at: 5s, steps: 9, status: COMPLETED}
""")
    steps = [doc_at(sc, job(), t)["customAttributes"]["stepsCompleted"] for t in (0, 1000, 2000, 3000, 4000, 5000)]
    assert steps == [0, 1, 3, 1, 4, 9]


def test_total_steps_defaults_to_the_highest_reached() -> None:
    sc = scenario("""
job: {type: t}
timeline:
  - {at: 1s, steps: "+2"}
  - {at: 2s, steps: "+3"}
""")
    assert sc.job.total_steps == 5
    assert doc_at(sc, job(), 0)["customAttributes"]["totalSteps"] == 5


def test_attributes_change_mid_run() -> None:
    sc, j = scenario(), job()
    assert doc_at(sc, j, 4999)["customAttributes"]["phase"] == "queued"
    assert "extra" not in doc_at(sc, j, 4999)["customAttributes"]
    assert doc_at(sc, j, 5000)["customAttributes"]["phase"] == "layers"
    late = doc_at(sc, j, 9500)["customAttributes"]
    assert (late["phase"], late["extra"], late["missionId"]) == ("map", 7, "abc")


def test_end_time_is_zero_while_running_then_start_plus_offset() -> None:
    sc, j = scenario(), job()
    assert doc_at(sc, j, 11_999)["endTime"] == 0
    assert doc_at(sc, j, 12_000)["endTime"] == START + 12_000
    assert doc_at(sc, j, 99_000)["endTime"] == START + 12_000


def test_pending_end_time_replaces_zero_while_running() -> None:
    sc = scenario("""
job: {type: t, pendingEndTime: -1}
timeline:
  - {at: 1s, status: EXECUTING}
  - {at: 2s, status: FAILED}
""")
    assert doc_at(sc, job(), 1000)["endTime"] == -1
    assert doc_at(sc, job(), 2000)["endTime"] == START + 2000


def test_speed_divides_real_time_and_end_time() -> None:
    sc, fast = scenario(), job(speed=4.0)
    assert doc_at(sc, fast, 499)["messages"] == []
    assert doc_at(sc, fast, 500)["messages"] == ["Started."]
    assert doc_at(sc, fast, 2999)["status"] == "EXECUTING"
    done = doc_at(sc, fast, 3000)
    assert done["status"] == "COMPLETED"
    assert done["endTime"] == START + 3000


def test_uneven_speed_end_time_never_lies_after_the_first_instant_showing_it() -> None:
    sc, j = scenario(), job(speed=7.0)  # 12 s / 7 = 1714.28... ms
    first = timeline.reached_time(j, 12_000)
    assert first == START + 1715
    assert timeline.document(sc, j, first - 1)["status"] == "EXECUTING"
    shown = timeline.document(sc, j, first)
    assert shown["status"] == "COMPLETED"
    assert shown["endTime"] == timeline.time_of(j, 12_000) == START + 1714 <= first


def test_slow_speed_reaches_events_despite_float_rounding() -> None:
    sc = scenario("""
job: {type: t}
timeline:
  - {at: 0.3s, message: a}
  - {at: 0.7s, message: b, status: COMPLETED}
""")
    for speed in (0.1, 0.3, 0.7, 1.1, 3.0):
        j = job(speed=speed)
        assert len(timeline.document(sc, j, timeline.reached_time(j, 300))["messages"]) == 1
        assert timeline.document(sc, j, timeline.reached_time(j, 700))["status"] == "COMPLETED"


def test_a_job_whose_start_lies_ahead_has_not_started() -> None:
    sc = scenario("""
job: {type: t}
timeline:
  - {at: 0, message: Started., status: EXECUTING}
""")
    j = job(start_ms=START + 10_000)
    assert timeline.document(sc, j, START)["status"] == "SUBMITTED"
    assert timeline.document(sc, j, START)["messages"] == []
    assert timeline.document(sc, j, START + 10_000)["status"] == "EXECUTING"


def test_cancel_replays_on_cancel_from_the_moment_of_cancelling() -> None:
    sc = scenario()
    j = job(cancel_at=6000.0)
    d = doc_at(sc, j, 6000)
    assert d["status"] == "CANCELLING"
    assert d["customAttributes"]["isCancelled"] is True
    assert d["messages"] == ["Started.", "Step one.", "Step one checked.", "Cancelling."]
    assert d["endTime"] == 0
    assert doc_at(sc, j, 7499)["customAttributes"]["stepsCompleted"] == 1
    mid = doc_at(sc, j, 7500)
    assert mid["customAttributes"]["stepsCompleted"] == 2  # "+1" on top of where it was
    assert mid["customAttributes"]["messageCodes"] == [1500, 1501, 1502, 1530, 1531]
    done = doc_at(sc, j, 9000)
    assert "Two more." not in done["messages"]  # main events after the cancel never happen
    assert done["status"] == "CANCELLED"
    assert done["endTime"] == START + 9000
    assert doc_at(sc, j, 60_000) == done


def test_cancel_end_time_follows_speed() -> None:
    sc, j = scenario(), job(speed=2.0, cancel_at=6000.0)
    assert doc_at(sc, j, 4499)["status"] == "CANCELLING"
    d = doc_at(sc, j, 4500)
    assert d["status"] == "CANCELLED"
    assert d["endTime"] == START + 4500


def test_scrubbing_before_the_moment_of_cancelling_shows_no_cancel() -> None:
    sc, j = scenario(), job(cancel_at=6000.0)
    st = timeline.state_at(sc, j, timeline.position_at(sc, j, 5500))
    d = timeline.render(sc, j, st)
    assert d["customAttributes"]["isCancelled"] is False
    assert d["status"] == "EXECUTING"


def test_default_on_cancel_story() -> None:
    sc = scenario("""
job: {type: t}
timeline:
  - {at: 0, message: Started., status: EXECUTING}
  - {at: 1m, status: COMPLETED}
""")
    j = job(cancel_at=10_000.0)
    assert doc_at(sc, j, 10_000)["status"] == "CANCELLING"
    done = doc_at(sc, j, 11_000)
    assert (done["status"], done["endTime"], done["messages"]) == ("CANCELLED", START + 11_000, ["Started."])


def test_a_story_that_cancels_itself_reports_is_cancelled() -> None:
    sc = scenario("""
job: {type: t}
timeline:
  - {at: 0, message: Started., status: EXECUTING}
  - {at: 5s, message: Cancelling., status: CANCELLING}
  - {at: 6s, message: Cancelled., status: CANCELLED}
""")
    assert doc_at(sc, job(), 4999)["customAttributes"]["isCancelled"] is False
    assert doc_at(sc, job(), 5000)["customAttributes"]["isCancelled"] is True
    assert doc_at(sc, job(), 6000)["customAttributes"]["isCancelled"] is True
    assert doc_at(sc, job(), 6000)["endTime"] == START + 6000


def test_advance_amounts() -> None:
    sc, j = scenario(), job()
    now = START + 3000
    assert timeline.advance_ms(sc, j, now, by_ms=1500) == 1500
    assert timeline.advance_ms(sc, j, now, to="next") == 2000
    assert timeline.advance_ms(sc, j, now, to="end") == 9000
    assert timeline.advance_ms(sc, j, now, to=10_000.0) == 7000
    assert timeline.advance_ms(sc, j, START + 20_000, to="next") == 0
    assert timeline.advance_ms(sc, j, START + 20_000, to="end") == 0
    with pytest.raises(ValueError, match="already at 3s"):
        timeline.advance_ms(sc, j, now, to=1000.0)


def test_advance_of_a_cancelled_job_follows_its_cancel_story() -> None:
    sc, j = scenario(), job(cancel_at=6000.0)
    assert timeline.advance_ms(sc, j, START + 6000, to="next") == 1500
    assert timeline.advance_ms(sc, j, START + 6000, to="end") == 3000


def test_shifted_start_lands_on_the_target_at_any_speed() -> None:
    sc = scenario()
    for speed in (1.0, 3.0, 7.0, 0.25):
        j = job(speed=speed)
        now = START + 1000
        delta = timeline.advance_ms(sc, j, now, to="end")
        moved = job(speed=speed, start_ms=timeline.shifted_start(j, delta))
        d = timeline.document(sc, moved, now)
        assert d["status"] == "COMPLETED"
        assert d["endTime"] <= now


def test_trigger_response_template() -> None:
    sc = scenario("""
job: {type: t}
trigger: {path: /rest/services/go, response: {jobId: "{jobId}", success: true}}
timeline:
  - {at: 0, status: EXECUTING}
""")
    assert timeline.render_response(sc, job()) == {"jobId": "jtest", "success": True}


def big_scenario(n: int) -> Scenario:
    """n events, one message every 100 ms, steps +1 each, COMPLETED at the last (built, not parsed)."""
    small = scenario("job: {type: t}\ntimeline:\n  - {at: 0, message: m0}\n")
    events = tuple(
        Event(
            at_ms=i * 100.0,
            message=placeholders.parse(f"m{i}"),
            code=1500 + i % 100,
            steps=1,
            steps_relative=True,
            status="COMPLETED" if i == n - 1 else None,
        )
        for i in range(n)
    )
    return replace(small, timeline=events, job=replace(small.job, total_steps=n))


def test_ten_thousand_events_are_folded_once_and_found_by_one_bisect(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 10_000
    sc = big_scenario(n)
    compiled = sc.compiled
    assert sc.compiled is compiled  # folded once per scenario version
    assert len(compiled.main.offsets) == n
    assert len(compiled.main.snapshots) == n + 1
    calls: list[float] = []
    real_bisect = timeline.bisect_right

    def counting_bisect(offsets: tuple[float, ...], x: float) -> int:
        calls.append(x)
        return real_bisect(offsets, x)

    def no_refold(events: object) -> Story:
        raise AssertionError("a request must not fold the timeline again")

    monkeypatch.setattr(timeline, "bisect_right", counting_bisect)
    monkeypatch.setattr(Story, "fold", classmethod(lambda cls, events: no_refold(events)))
    j = job()
    for t, count in ((0, 1), (50, 1), (123_456, 1235), (500_000, 5001), (999_900, n), (2_000_000, n)):
        calls.clear()
        pos = timeline.position(sc, j, START + t)
        assert len(calls) == 1
        assert pos.main == count
        d = timeline.document(sc, j, START + t)
        assert len(d["messages"]) == count
        assert d["messages"][-1] == f"m{count - 1}"
        assert d["customAttributes"]["stepsCompleted"] == count
        assert d["status"] == ("COMPLETED" if count == n else "SUBMITTED")


def test_paced_position_moves_one_distinct_event_offset_per_poll() -> None:
    sc = scenario()
    j = Job(job_id="j1", scenario="story", version=sc.version, vars={"missionId": "abc"}, params={}, start_ms=START)
    statuses = []
    messages = []
    for polls in range(6):
        st = timeline.state_at(sc, j, timeline.paced_position(sc, j, polls))
        statuses.append(st.status)
        messages.append(len(st.messages))
    assert statuses == ["SUBMITTED", "EXECUTING", "EXECUTING", "EXECUTING", "COMPLETED", "COMPLETED"]
    assert messages == [0, 1, 3, 4, 5, 5]  # the two events at 5 s come together
    cancelled = replace(j, cancel_at=5000.0)  # after the second poll's offset
    after = [
        timeline.state_at(sc, cancelled, timeline.paced_position(sc, cancelled, n)).status for n in (2, 3, 4, 5, 9)
    ]
    assert after == ["CANCELLING", "CANCELLING", "CANCELLING", "CANCELLED", "CANCELLED"]
