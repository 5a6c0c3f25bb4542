"""The shopkeeper's session: a pure state machine, `step(state, event) -> (state, commands)`."""

from terminal.core.session.step import initial_state, step

__all__ = ["initial_state", "step"]
