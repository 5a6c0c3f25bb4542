"""The platform's approval number travels from its answer into the signed record, today's
list and the printed slip; a refund slip quotes the sale's (issue 11: what a Korean receipt
carries). Offline acceptances have none until the platform settles them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from terminal.core.session.model import RefundDone
from terminal.demo.world import MANAGER_PIN
from terminal.ledger.reader import read_records
from terminal.ui.slips import slip_for


def test_an_online_sale_and_its_refund_carry_and_print_approval_numbers(day):
    day.cpm(9_000)  # a customer code, authorized online
    (sale,) = day.app.state.ctx.today
    assert re.fullmatch(r"[0-9]{8}", sale.approval)
    record = next(r for r in read_records(day.world.files.database) if r.txn_id == sale.txn_id)
    assert record.refs["approval"] == sale.approval  # signed into the record

    day.app.press("F2", "F4", *MANAGER_PIN, "enter", "clear", "1", "00", "0", "enter")
    refund = day.until(lambda s: isinstance(s.screen, RefundDone), "refund").screen.entry
    assert re.fullmatch(r"[0-9]{8}", refund.approval) and refund.approval != sale.approval

    at = datetime.now(UTC)
    assert slip_for(day.world.config, sale, at).approval_number == sale.approval
    refund_slip = slip_for(day.world.config, refund, at, original=sale)
    assert refund_slip.approval_number == refund.approval
    assert refund_slip.original_approval_number == sale.approval
