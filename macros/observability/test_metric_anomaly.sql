{#- Flags periods whose metric (a SQL aggregate over the model, per grain of timestamp_column)
    is an outlier against its own trailing history; see internal_obs_anomaly_sql for the rule. -#}
{% test metric_anomaly(model, expression, timestamp_column, grain='day', training_periods=28,
                       min_training_points=7, seasonality='none', threshold=3.5, min_relative_change=0.1,
                       direction='both', detection_periods=1) %}
  {{ config(meta={'steward_dimension': 'accuracy'}) }}
  {{ return(adapter.dispatch('test_metric_anomaly', 'steward')(model, expression, timestamp_column, grain,
       training_periods, min_training_points, seasonality, threshold, min_relative_change, direction,
       detection_periods)) }}
{% endtest %}

{% macro default__test_metric_anomaly(model, expression, timestamp_column, grain, training_periods,
                                      min_training_points, seasonality, threshold, min_relative_change,
                                      direction, detection_periods) %}
  {%- set options = steward.internal_obs_anomaly_options('metric_anomaly', grain, training_periods,
        min_training_points, seasonality, threshold, min_relative_change, direction, detection_periods) -%}
  {%- set column = steward.validate_identifier(timestamp_column, 'steward.metric_anomaly timestamp_column') -%}
  {%- set series_sql -%}
    select {{ dbt.date_trunc(grain, column) }} as period, {{ expression }} as metric_value
    from {{ model }}
    group by {{ dbt.date_trunc(grain, column) }}
  {%- endset -%}
  {{ return(steward.internal_obs_anomaly_sql(series_sql, options)) }}
{% endmacro %}
