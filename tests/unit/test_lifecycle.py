"""The request state machine, exhaustively and over random sequences of steps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.desk.domain import lifecycle
from services.desk.domain.lifecycle import TABLE, TERMINAL, IllegalTransition, State, Transition


def test_happy_path() -> None:
    state = None
    for t in (Transition.SUBMIT, Transition.MARK_SENT, Transition.DELIVER, Transition.ACCEPT,
              Transition.REPLY):
        state = lifecycle.apply(state, t)
    assert state is State.REPLIED


def test_illegal_step_names_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition, match="cannot reply a request that is delivered"):
        lifecycle.apply(State.DELIVERED, Transition.REPLY)


def test_every_state_is_reachable_and_every_transition_is_used() -> None:
    reached: set[State | None] = {None}
    frontier: list[State | None] = [None]
    while frontier:
        state = frontier.pop()
        for t in lifecycle.allowed_from(state):
            nxt = lifecycle.apply(state, t)
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
    assert reached - {None} == set(State)
    assert {t for (_, t) in TABLE} == set(Transition)
    assert set(lifecycle.ACTOR) == set(Transition) == set(lifecycle.EVENT_OF)


def test_terminal_states_have_no_way_out() -> None:
    for state in TERMINAL:
        assert lifecycle.allowed_from(state) == set()


@given(st.lists(st.sampled_from(Transition), max_size=30))
def test_random_sequences_follow_the_table(steps: list[Transition]) -> None:
    state: State | None = None
    path: list[Transition] = []
    for t in steps:
        try:
            nxt = lifecycle.apply(state, t)
        except IllegalTransition as exc:
            assert (state, t) not in TABLE
            assert exc.state == state and exc.transition == t
            continue
        assert TABLE[(state, t)] == nxt
        state = nxt
        path.append(t)
    # Whatever was accepted is a walk from nothing: submit first, at most once.
    if path:
        assert path[0] is Transition.SUBMIT and path.count(Transition.SUBMIT) == 1
    # A reply comes after the request was taken on (accepted, or information given), once.
    if Transition.REPLY in path:
        taken_on = [i for i, t in enumerate(path)
                    if t in (Transition.ACCEPT, Transition.PROVIDE_INFO)]
        assert taken_on and taken_on[0] < path.index(Transition.REPLY)
        assert path.count(Transition.REPLY) == 1
    # Nothing is both delivered and bounced; nothing answered is withdrawn.
    assert not (Transition.DELIVER in path and Transition.BOUNCE in path)
    assert not (Transition.REPLY in path and Transition.WITHDRAW in path)
    # Once terminal, always terminal.
    if state in TERMINAL:
        assert lifecycle.allowed_from(state) == set()
