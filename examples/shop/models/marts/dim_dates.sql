-- The calendar of the shop's trading period, with ISO weeks and a fiscal year starting in April.
{{ steward.date_dimension('2024-01-01', '2025-01-01', fiscal_year_start_month=4) }}
