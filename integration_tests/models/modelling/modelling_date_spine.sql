-- Every grain of steward.date_spine, with bounds mid-period, plus an empty spine.
select
    'day' as grain,
    date_day as period_start
from ({{ steward.date_spine('2020-12-28', '2021-01-04') }}) as days
union all
select
    'week' as grain,
    date_week as period_start
from ({{ steward.date_spine('2020-12-25', '2021-01-20', 'week') }}) as weeks
union all
select
    'month' as grain,
    date_month as period_start
from ({{ steward.date_spine('2020-11-15', '2021-03-01', 'month') }}) as months
union all
select
    'quarter' as grain,
    date_quarter as period_start
from ({{ steward.date_spine('2020-08-15', '2021-04-02', 'quarter') }}) as quarters
union all
select
    'year' as grain,
    date_year as period_start
from ({{ steward.date_spine('2019-06-01', '2021-01-01', 'year') }}) as years
union all
select
    'empty' as grain,
    date_day as period_start
from ({{ steward.date_spine('2021-01-01', '2021-01-01') }}) as no_days
