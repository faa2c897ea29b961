-- Crosses a year boundary and ISO week 53 (2020-12-28 to 2021-01-03); fiscal year from the setting (January).
{{ steward.date_dimension('2020-12-25', '2021-01-10') }}
