"""Stand payments on the sync side: the answer is read strictly (cursors must rise), the feed
hands each page over once, keeps only an acknowledged cursor on disk, and hands over again
after a failed recording."""

from __future__ import annotations

import pytest

from terminal.sync.answers import StandPayment, stand_payments
from terminal.sync.errors import MalformedResponse
from terminal.sync.stand import StandFeed

BENEFITS = {"city_won": 100, "district_won": 20, "merchant_won": 0, "total_won": 120}


def item(cursor: int, amount: int = 5_000) -> dict:
    return {
        "cursor": cursor,
        "payment_id": f"0190f0f0-0000-7000-8000-{cursor:012d}",
        "stand": "STAND-000001",
        "amount": amount,
        "paid_at_ms": 1_700_000_000_000,
        "benefits": BENEFITS,
    }


def test_a_page_is_read_with_its_next_cursor():
    payments, after = stand_payments({"payments": [item(3), item(5)], "next_cursor": 5}, 2)
    assert [p.cursor for p in payments] == [3, 5] and after == 5
    assert payments[0].benefits == {"city_won": 100, "district_won": 20, "merchant_won": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"payments": [item(2)], "next_cursor": 2},  # not above `after`
        {"payments": [item(4), item(3)], "next_cursor": 3},  # not rising
        {"payments": [item(3)], "next_cursor": 9},  # skips what it did not send
        {"payments": [item(3, amount=0)], "next_cursor": 3},
        {"payments": [item(3) | {"stand": "STAND-1"}], "next_cursor": 3},
        {"payments": [item(3) | {"payment_id": "x"}], "next_cursor": 3},
        {"payments": [item(3) | {"amount": True}], "next_cursor": 3},
        {"payments": [{k: v for k, v in item(3).items() if k != "benefits"}], "next_cursor": 3},
    ],
)
def test_nothing_is_believed_from_a_malformed_page(body):
    with pytest.raises(MalformedResponse):
        stand_payments(body, 2)


class Pages:
    """A platform holding payments with cursors 1..n."""

    def __init__(self, count: int):
        self.count, self.asked = count, []

    def stand_payments(self, after: int, limit: int):
        self.asked.append(after)
        body = [item(c) for c in range(after + 1, min(self.count, after + limit) + 1)]
        return stand_payments(
            {"payments": body, "next_cursor": body[-1]["cursor"] if body else after}, after
        )


def test_each_payment_is_handed_over_once_and_the_acknowledged_cursor_is_kept(tmp_path):
    path = tmp_path / "stand-cursor.json"
    handed: list[tuple[StandPayment, ...]] = []
    feed = StandFeed(path, handed.append)
    platform = Pages(250)
    assert feed.fetch(platform) == 250 and [len(h) for h in handed] == [100, 100, 50]
    assert feed.fetch(platform) == 0  # nothing new: nothing handed again
    assert not path.exists()  # nothing recorded yet
    feed.acknowledge(handed[0])
    assert StandFeed(path).acknowledged == 100  # a restart starts after what was recorded


def test_a_failed_recording_is_handed_over_again(tmp_path):
    handed: list = []
    feed = StandFeed(tmp_path / "c.json", handed.append)
    platform = Pages(3)
    feed.fetch(platform)
    feed.acknowledge(handed[0][:1])
    feed.retry()
    feed.fetch(platform)
    assert [p.cursor for p in handed[-1]] == [2, 3]


def test_without_an_app_nothing_is_fetched(tmp_path):
    platform = Pages(3)
    assert StandFeed(None).fetch(platform) == 0 and platform.asked == []


def test_an_unreadable_cursor_file_starts_from_the_beginning(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("{not json")
    assert StandFeed(path).acknowledged == 0
