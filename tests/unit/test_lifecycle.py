"""The request state machine over every legal path up to a length that reaches every state.

The properties are stated as case rules (who may act when, what an answer ends), not as
look-ups in ``TABLE``, so a wrong table entry breaks one of them. Paths up to length 7
(about 12,000) pass through every state, closing, withdrawal and replies many times.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from services.desk.domain import lifecycle
from services.desk.domain.lifecycle import (
    ACTOR,
    TABLE,
    TERMINAL,
    IllegalTransition,
    Party,
    State,
    Transition,
)

S, T = State, Transition
MAX_LENGTH = 7
Path = tuple[tuple[Transition, State], ...]
"""Each step taken and the state it led to."""

KEEPS_STATE = frozenset({T.AGREE_DUE_DATE, T.REFUSE_DUE_DATE, T.REMIND, T.ESCALATE})
"""Steps recorded on the timeline that leave the state where it is."""
TARGET = {T.SUBMIT: S.CREATED, T.MARK_SENT: S.SENT, T.DELIVER: S.DELIVERED,
          T.BOUNCE: S.UNDELIVERABLE, T.RETURN: S.DELIVERED, T.ACCEPT: S.ACCEPTED,
          T.REJECT: S.REJECTED,
          T.REQUEST_INFO: S.INFO_REQUESTED, T.PROVIDE_INFO: S.ACCEPTED,
          T.TRANSFER: S.TRANSFERRED, T.PARTIAL_REPLY: S.PARTIALLY_REPLIED, T.REPLY: S.REPLIED,
          T.WITHDRAW: S.WITHDRAWN, T.CLOSE: S.CLOSED}
"""Where each state-changing step leads, whatever the state it starts from."""


def walks(length: int) -> Iterator[Path]:
    """Every legal path from nothing of 1 to ``length`` steps."""
    frontier: list[tuple[Path, State | None]] = [((), None)]
    for _ in range(length):
        grown: list[tuple[Path, State | None]] = []
        for path, state in frontier:
            for t in sorted(lifecycle.allowed_from(state)):
                after = lifecycle.apply(state, t)
                grown.append(((*path, (t, after)), after))
        yield from (p for p, _ in grown)
        frontier = grown


ALL = list(walks(MAX_LENGTH))


def steps(path: Path) -> list[Transition]:
    return [t for t, _ in path]


def test_paths_reach_every_state_and_take_every_step() -> None:
    assert {s for p in ALL for _, s in p} == set(State)
    assert {t for p in ALL for t in steps(p)} == set(Transition) == set(ACTOR)
    # the answers and endings are exercised many times each run, not by chance
    used = Counter(t for p in ALL for t in set(steps(p)))
    for t in (T.REPLY, T.WITHDRAW, T.CLOSE, T.PROVIDE_INFO, T.TRANSFER):
        assert used[t] >= 10, (t, used[t])


def test_each_step_leads_where_its_name_says() -> None:
    for p in ALL:
        before: State | None = None
        for t, after in p:
            assert after == (before if t in KEEPS_STATE else TARGET[t]), steps(p)
            before = after


def test_a_request_starts_once_and_each_hand_over_is_delivered_or_bounced_never_both() -> None:
    for p in ALL:
        s = steps(p)
        assert s[0] is T.SUBMIT and s.count(T.SUBMIT) == 1
        # a hand-over is the submission or a transfer; a bounce ends the last one, untaken
        if T.BOUNCE in s:
            last = max(i for i, t in enumerate(s) if t in (T.SUBMIT, T.TRANSFER))
            assert T.DELIVER not in s[last:], s
        assert T.MARK_SENT not in s[1:] or s.index(T.MARK_SENT) == 1, s


def test_the_recipient_acts_only_on_what_was_delivered_to_it() -> None:
    for p in ALL:
        delivered = False
        for t, after in p:
            if ACTOR[t] is Party.RECIPIENT:
                assert delivered, steps(p)
            if t in (T.DELIVER, T.RETURN):  # a returned hand-over: back where it was
                delivered = True
            if t is T.TRANSFER:  # the new recipient must receive it first
                delivered = False
            assert after not in (S.ACCEPTED, S.REPLIED) or delivered


def test_a_reply_is_final_comes_after_taking_on_and_only_closing_follows() -> None:
    replied = 0
    for p in ALL:
        s = steps(p)
        if T.REPLY not in s:
            assert T.CLOSE not in s, s
            continue
        replied += 1
        i = s.index(T.REPLY)
        assert s.count(T.REPLY) == 1
        assert {T.ACCEPT, T.PROVIDE_INFO} & set(s[:i]), s
        assert set(s[i + 1:]) <= {T.CLOSE}, s
        assert T.WITHDRAW not in s
    assert replied > 100


def test_withdrawal_is_the_requesters_and_only_while_open() -> None:
    withdrawn = 0
    for p in ALL:
        before: State | None = None
        for t, after in p:
            if t is T.WITHDRAW:
                withdrawn += 1
                assert before in lifecycle.OPEN and after is S.WITHDRAWN
                assert ACTOR[t] is Party.REQUESTER
            before = after
    assert withdrawn > 100


def test_information_is_awaited_only_when_asked_for_and_given_back_to_accepted() -> None:
    for p in ALL:
        before: State | None = None
        for t, after in p:
            if after is S.INFO_REQUESTED and before is not S.INFO_REQUESTED:
                assert t is T.REQUEST_INFO
            if before is S.INFO_REQUESTED and t is T.PROVIDE_INFO:
                assert after is S.ACCEPTED
            before = after


def test_nothing_leaves_an_end_and_every_illegal_step_is_refused_by_name() -> None:
    states: list[State | None] = [None, *State]
    for state in states:
        for t in Transition:
            if (state, t) in TABLE:
                assert state not in TERMINAL
                continue
            with pytest.raises(IllegalTransition) as caught:
                lifecycle.apply(state, t)
            assert caught.value.state == state and caught.value.transition == t
    for state in TERMINAL:
        assert lifecycle.allowed_from(state) == set()


def test_illegal_step_names_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition, match="cannot reply a request that is delivered"):
        lifecycle.apply(State.DELIVERED, Transition.REPLY)


def test_a_hand_over_comes_back_only_right_after_the_transfer_it_undoes() -> None:
    returned = 0
    for p in ALL:
        s = steps(p)
        for i, t in enumerate(s):
            if t is T.RETURN:
                returned += 1
                assert s[i - 1] is T.TRANSFER, s
    assert returned > 10
