{#- Scores the last `detection_periods` points of a series (period, metric_value) with a robust
    z-score, 0.6745 * (value - median) / MAD, whose median and MAD come from the point's trailing
    training window: up to `training_periods` EARLIER points (same weekday only with
    seasonality='day_of_week'); the scored point is never part of its own training set. A point
    fails when it has at least `min_training_points` training points, |z| >= threshold, its
    relative change from the median is at least min_relative_change, and its direction is watched.
    When more than half the training points are equal (MAD 0, common with small counts) the scale
    falls back to the mean absolute deviation (x 1.2533, its normal-consistency factor); only a
    perfectly constant window flags any point that moved by at least min_relative_change. -#}
{% macro internal_obs_anomaly_sql(series_sql, options) -%}
  {%- set weekday_match = options.seasonality == 'day_of_week' -%}
  {%- set float_type = dbt.type_float() -%}
with series as (
    {{ series_sql }}
),

points as (
    select
        period,
        cast(metric_value as {{ float_type }}) as metric_value,
        {{ steward.internal_obs_weekday('period') }} as weekday,
        row_number() over (order by period desc) as recency
    from series
    where period is not null and metric_value is not null
),

scored as (
    select period, metric_value, weekday
    from points
    where recency <= {{ options.detection_periods }}
),

training as (
    select
        scored.period as scored_period,
        points.metric_value,
        row_number() over (partition by scored.period order by points.period desc) as training_rank
    from scored
    inner join points
        on
            points.period < scored.period
            {%- if weekday_match %}
            and points.weekday = scored.weekday
            {%- endif %}
),

training_window as (
    select scored_period, metric_value
    from training
    where training_rank <= {{ options.training_periods }}
),

medians as (
    select
        scored_period,
        count(*) as training_points,
        percentile_cont(0.5) within group (order by metric_value) as training_median
    from training_window
    group by scored_period
),

deviations as (
    select
        medians.scored_period,
        abs(training_window.metric_value - medians.training_median) as deviation
    from training_window
    inner join medians on training_window.scored_period = medians.scored_period
),

mads as (
    select
        scored_period,
        percentile_cont(0.5) within group (order by deviation) as training_mad,
        avg(deviation) as mean_deviation
    from deviations
    group by scored_period
),

scales as (
    select
        scored_period,
        training_mad,
        case
            when training_mad > 0 then training_mad / 0.6745
            else 1.2533 * mean_deviation
        end as training_scale
    from mads
),

evaluated as (
    select
        scored.period,
        scored.metric_value,
        medians.training_points,
        medians.training_median,
        scales.training_mad,
        scales.training_scale,
        case
            when scales.training_scale > 0
                then (scored.metric_value - medians.training_median) / scales.training_scale
            when scored.metric_value = medians.training_median then 0
        end as robust_z,
        case
            when medians.training_median <> 0
                then abs(scored.metric_value - medians.training_median) / abs(medians.training_median)
        end as relative_change
    from scored
    inner join medians on scored.period = medians.scored_period
    inner join scales on scored.period = scales.scored_period
)

select
    period,
    metric_value,
    case when metric_value > training_median then 'spike' else 'drop' end as anomaly_direction,
    robust_z,
    relative_change,
    training_median,
    training_mad,
    training_median - {{ options.threshold }} * training_scale as expected_low,
    training_median + {{ options.threshold }} * training_scale as expected_high,
    training_points
from evaluated
where
    training_points >= {{ options.min_training_points }}
    and (robust_z is null or abs(robust_z) >= {{ options.threshold }})
    and (relative_change is null or relative_change >= {{ options.min_relative_change }})
    and metric_value <> training_median
    {%- if options.direction == 'spike' %}
    and metric_value > training_median
    {%- elif options.direction == 'drop' %}
    and metric_value < training_median
    {%- endif %}
{%- endmacro %}
