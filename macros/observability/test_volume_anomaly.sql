{#- Flags an abnormal row volume: per grain of timestamp_column when given, else the model's row
    count now against the counts steward.record_run kept in steward_metrics for earlier runs. -#}
{% test volume_anomaly(model, timestamp_column=none, grain='day', training_periods=28, min_training_points=7,
                       seasonality='none', threshold=3.5, min_relative_change=0.1, direction='both',
                       detection_periods=1) %}
  {{ config(meta={'steward_dimension': 'completeness'}) }}
  {{ return(adapter.dispatch('test_volume_anomaly', 'steward')(model, timestamp_column, grain, training_periods,
       min_training_points, seasonality, threshold, min_relative_change, direction, detection_periods)) }}
{% endtest %}

{% macro default__test_volume_anomaly(model, timestamp_column, grain, training_periods, min_training_points,
                                      seasonality, threshold, min_relative_change, direction, detection_periods) %}
  {%- set options = steward.internal_obs_anomaly_options('volume_anomaly', grain, training_periods,
        min_training_points, seasonality, threshold, min_relative_change, direction, detection_periods) -%}
  {%- if timestamp_column is not none -%}
    {%- set column = steward.validate_identifier(timestamp_column, 'steward.volume_anomaly timestamp_column') -%}
    {%- set series_sql -%}
      select {{ dbt.date_trunc(grain, column) }} as period, count(*) as metric_value
      from {{ model }}
      group by {{ dbt.date_trunc(grain, column) }}
    {%- endset -%}
  {%- else -%}
    {#- The ref orders the test after steward_metrics in a build; steward_metrics exists (is
        enabled) only while recording is on, so without it there is no ref, and running the
        test is an error that says what to do. -#}
    {%- if steward.setting('record_runs') -%}
      {%- set history = ref('steward', 'steward_metrics') -%}
    {%- elif execute -%}
      {{ exceptions.raise_compiler_error(
          "steward.volume_anomaly: without timestamp_column it scores the row counts steward.record_run keeps; "
          ~ "switch the record_runs setting on (vars: {steward: {record_runs: true}}) or give timestamp_column") }}
    {%- endif -%}
    {%- set tested = steward.internal_gov_tested_node() -%}
    {%- set tested_id = tested.unique_id if tested is not none else '' -%}
    {%- set series_sql -%}
      select measured_at as period, metric_value
      from {{ history }}
      where
        model_unique_id = {{ steward.internal_obs_text(tested_id) }}
        and metric_name = 'row_count'
        and measured_at < {{ steward.run_timestamp() }}
      union all
      select {{ steward.run_timestamp() }} as period, count(*) as metric_value
      from {{ model }}
    {%- endset -%}
  {%- endif -%}
  {{ return(steward.internal_obs_anomaly_sql(series_sql, options)) }}
{% endmacro %}
