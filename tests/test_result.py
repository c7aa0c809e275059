"""How one run advances a check's record, and how timestamps print."""

from healthd.result import NOT_YET_RUN, Outcome, advance, rfc3339nano

PASS = Outcome(message=b'{"ok":1}')
FAIL = Outcome(error="boom")


def test_not_yet_run_is_a_failure_with_no_timestamp() -> None:
    assert not NOT_YET_RUN.passed
    assert NOT_YET_RUN.error == "not yet run"
    assert NOT_YET_RUN.timestamp_ns is None
    assert NOT_YET_RUN.duration_ns == 0
    assert NOT_YET_RUN.contiguous_failures == 0
    assert NOT_YET_RUN.time_of_first_failure_ns is None


def test_failures_count_up_and_keep_the_time_of_the_first() -> None:
    record = advance(NOT_YET_RUN, FAIL, 100, 5)
    assert (record.contiguous_failures, record.time_of_first_failure_ns) == (1, 100)
    record = advance(record, FAIL, 200, 6)
    assert (record.contiguous_failures, record.time_of_first_failure_ns) == (2, 100)
    assert (record.timestamp_ns, record.duration_ns, record.error) == (200, 6, "boom")


def test_a_pass_resets_the_failure_run() -> None:
    record = advance(advance(NOT_YET_RUN, FAIL, 100, 1), FAIL, 200, 1)
    record = advance(record, PASS, 300, 7)
    assert record.passed
    assert record.contiguous_failures == 0
    assert record.time_of_first_failure_ns is None
    assert record.message == b'{"ok":1}'
    again = advance(record, FAIL, 400, 1)
    assert (again.contiguous_failures, again.time_of_first_failure_ns) == (1, 400)


def test_has_passed_survives_later_failures() -> None:
    record = advance(advance(NOT_YET_RUN, PASS, 1, 1), FAIL, 2, 1)
    assert record.has_passed and not record.passed


def test_a_failure_keeps_the_details_it_returned() -> None:
    record = advance(NOT_YET_RUN, Outcome(message=b'{"exitCode":1}', error="exit code 1"), 5, 1)
    assert record.message == b'{"exitCode":1}'


def test_rfc3339nano_trims_trailing_zeros_like_go() -> None:
    base = 1602684260 * 1_000_000_000  # 2020-10-14T14:04:20Z
    assert rfc3339nano(base + 577596620) == "2020-10-14T14:04:20.57759662Z"
    assert rfc3339nano(base + 1) == "2020-10-14T14:04:20.000000001Z"
    assert rfc3339nano(base + 500_000_000) == "2020-10-14T14:04:20.5Z"
    assert rfc3339nano(base) == "2020-10-14T14:04:20Z"
