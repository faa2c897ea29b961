-- Fiscal year starting in April, over a range that crosses both the calendar and the fiscal year.
{{ steward.date_dimension('2020-12-25', '2021-04-05', fiscal_year_start_month=4) }}
