"""Breaking news airs at the next line boundary, then the show it cut into goes on."""

from __future__ import annotations

import numpy as np

from radio.workers.tts import just_in_sting
from tests.onair.test_timeline import Air, Show, show  # noqa: F401  (a fixture)


def test_news_cuts_in_at_the_next_line(show: Show) -> None:  # noqa: F811
    air = Air()
    air.enqueue(show, 0, 1, 2, 3, 4)
    while not air.shows:  # the sign-on ident, then line 0 of the daily is on air
        air.run(0.1)
    news = [s.model_copy(update={"show_id": "news-2501.00001", "id": "", "total": 2,
                                 "last": s.seq == 1}) for s in show.lines[:2]]
    for segment in news:
        air.timeline.enqueue(segment, show.path(segment.seq))
    total = sum(s.duration_s for s in show.lines) + sum(s.duration_s for s in news)
    air.run(total + 3)
    lines = list(zip(air.shows, air.live(), strict=True))
    assert lines[:4] == [("daily-test", 0), ("news-2501.00001", 0), ("news-2501.00001", 1),
                         ("daily-test", 1)], lines
    assert [seq for show_id, seq in lines if show_id == "daily-test"] == [0, 1, 2, 3, 4]


def test_just_in_sting_is_short_loud_enough_and_rises() -> None:
    rate = 24000
    sting = just_in_sting(rate)
    assert 0.6 < len(sting) / rate < 1.5
    assert 0.2 < float(np.abs(sting).max()) <= 0.5
    spectrum = [np.argmax(np.abs(np.fft.rfft(sting[int(i * 0.16 * rate):
                                                   int((i + 1) * 0.16 * rate)])))
                for i in range(3)]
    assert spectrum[0] < spectrum[1] < spectrum[2]  # three notes, rising
