"""Reporting calendars: every day, or working days without Vietnamese public holidays."""

from __future__ import annotations

from datetime import date

import pytest

from toolkit.config import PACKAGED_TEMPLATES
from toolkit.errors import TemplateError
from toolkit.layout import period_keys
from toolkit.periods import campaign_days, public_holidays
from toolkit.templates import load_template


def test_working_days_skip_weekends_and_public_holidays():
    days = campaign_days(date(2026, 11, 20), date(2026, 11, 30), "working_days")
    # 21–22 and 28–29 are weekends; 24/11 is Vietnam Culture Day (a day off from 2025).
    assert [d.day for d in days] == [20, 23, 25, 26, 27, 30]


def test_tet_is_not_a_reporting_day_and_is_named_in_vietnamese():
    holidays = public_holidays(2027, 2027)
    assert date(2027, 2, 6) in holidays and "Tết" in holidays[date(2027, 2, 6)]
    days = campaign_days(date(2027, 2, 1), date(2027, 2, 12), "working_days")
    assert date(2027, 2, 8) not in days and date(2027, 2, 11) in days


def test_a_working_day_template_prefills_only_reporting_days(tmp_path):
    text = (PACKAGED_TEMPLATES / "kts_daily.toml").read_text(encoding="utf-8")
    path = tmp_path / "kts_daily.toml"
    path.write_text(text.replace('period = "daily"', 'period = "daily"\ncalendar = "working_days"'),
                    encoding="utf-8")
    spec = load_template(path)
    assert spec.calendar == "working_days"
    assert period_keys(spec, date(2026, 11, 20), date(2026, 11, 24)) == ("2026-11-20",
                                                                          "2026-11-23")


def test_a_bad_calendar_is_a_template_error(tmp_path):
    text = (PACKAGED_TEMPLATES / "cds_monthly.toml").read_text(encoding="utf-8")
    path = tmp_path / "cds_monthly.toml"
    path.write_text(text.replace('period = "monthly"', 'period = "monthly"\ncalendar = "weekly"'),
                    encoding="utf-8")
    with pytest.raises(TemplateError, match="calendar 'weekly' phải là một trong"):
        load_template(path)
