"""A 4×4 membrane keypad made of gpiozero mock pins: a pressed key connects its row to its
column, so a column reads low exactly while its row is driven low. Event-driven: the columns
follow the rows on every change, with no timing involved."""

from __future__ import annotations

from gpiozero.pins.mock import MockFactory, MockPWMPin


class Membrane:
    def __init__(self, factory: MockFactory, rows: list[int], cols: list[int]):
        membrane = self
        self.pressed: set[tuple[int, int]] = set()
        self.factory, self.rows, self.cols = factory, rows, cols

        class RowPin(MockPWMPin):
            def _change_state(self, value):
                changed = super()._change_state(value)
                membrane.settle()
                return changed

        self.row_pins = [factory.pin(pin, pin_class=RowPin) for pin in rows]
        self.col_pins = [factory.pin(pin) for pin in cols]

    def press(self, row: int, col: int) -> None:
        self.pressed.add((row, col))
        self.settle()

    def release(self, row: int, col: int) -> None:
        self.pressed.discard((row, col))
        self.settle()

    def settle(self) -> None:
        for c, col_pin in enumerate(self.col_pins):
            if col_pin.function != "input":
                continue
            connected_low = any(
                (r, c) in self.pressed and row_pin.function == "output" and not row_pin.state
                for r, row_pin in enumerate(self.row_pins)
            )
            if connected_low:
                col_pin.drive_low()
            else:
                col_pin.drive_high()
