{#- The anomaly tests' shared arguments, checked: one clear compilation error per bad value. -#}
{% macro internal_obs_anomaly_options(test_name, grain, training_periods, min_training_points, seasonality,
                                      threshold, min_relative_change, direction, detection_periods) -%}
  {%- set label = 'steward.' ~ test_name -%}
  {%- if grain not in ['hour', 'day', 'week', 'month'] -%}
    {{ exceptions.raise_compiler_error(label ~ ": grain must be hour, day, week or month, got " ~ (grain | tojson)) }}
  {%- endif -%}
  {%- if seasonality not in [none, 'none', 'day_of_week'] -%}
    {{ exceptions.raise_compiler_error(label ~ ": seasonality must be none or day_of_week, got " ~ (seasonality | tojson)) }}
  {%- endif -%}
  {%- if direction not in ['spike', 'drop', 'both'] -%}
    {{ exceptions.raise_compiler_error(label ~ ": direction must be spike, drop or both, got " ~ (direction | tojson)) }}
  {%- endif -%}
  {%- for name, value, minimum in [('training_periods', training_periods, 1), ('min_training_points', min_training_points, 2),
                                   ('detection_periods', detection_periods, 1)] -%}
    {%- if value is not number or value is boolean or value != (value | int) or value < minimum -%}
      {{ exceptions.raise_compiler_error(label ~ ": " ~ name ~ " must be a whole number >= " ~ minimum ~ ", got " ~ (value | tojson)) }}
    {%- endif -%}
  {%- endfor -%}
  {%- for name, value in [('threshold', threshold), ('min_relative_change', min_relative_change)] -%}
    {%- if value is not number or value is boolean or value < 0 -%}
      {{ exceptions.raise_compiler_error(label ~ ": " ~ name ~ " must be a number >= 0, got " ~ (value | tojson)) }}
    {%- endif -%}
  {%- endfor -%}
  {%- if min_training_points > training_periods -%}
    {{ exceptions.raise_compiler_error(label ~ ": min_training_points (" ~ min_training_points ~ ") cannot exceed training_periods (" ~ training_periods ~ ")") }}
  {%- endif -%}
  {{ return({'grain': grain, 'training_periods': training_periods | int, 'min_training_points': min_training_points | int,
             'seasonality': seasonality or 'none', 'threshold': threshold, 'min_relative_change': min_relative_change,
             'direction': direction, 'detection_periods': detection_periods | int}) }}
{%- endmacro %}
