{#- Every non-NULL value of column_name is within [min_value, max_value] (or the open range). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true, key_columns=none) %}
  {{ config(meta={'steward_dimension': 'validity'}) }}
  {{ return(adapter.dispatch('test_accepted_range', 'steward')(model, column_name, min_value, max_value, inclusive, key_columns)) }}
{% endtest %}

{#- Failing rows: the key_columns (or, without them, the whole row), steward_actual (the value)
    and steward_expected ('between 0 and 100', '> 0', ...). NULLs are not failures. -#}
{% macro default__test_accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true, key_columns=none) %}
  {%- set test_name = 'accepted_range' -%}
  {%- set column = steward.internal_column_reference(column_name, test_name ~ ' column_name') -%}
  {%- set keys = steward.internal_core_columns(key_columns, test_name, 'key_columns') -%}
  {%- set low = steward.internal_core_bound(min_value, test_name, 'min_value') -%}
  {%- set high = steward.internal_core_bound(max_value, test_name, 'max_value') -%}
  {%- if low is none and high is none -%}
    {{ exceptions.raise_compiler_error("steward." ~ test_name ~ ": give min_value, max_value or both") }}
  {%- endif -%}
  {%- if inclusive is not boolean -%}
    {{ exceptions.raise_compiler_error(
        "steward." ~ test_name ~ ": inclusive must be true or false, got " ~ (inclusive | tojson)) }}
  {%- endif -%}
  {%- set failures = [] -%}
  {%- if low is not none -%}
    {%- do failures.append(column ~ (' < ' if inclusive else ' <= ') ~ low) -%}
  {%- endif -%}
  {%- if high is not none -%}
    {%- do failures.append(column ~ (' > ' if inclusive else ' >= ') ~ high) -%}
  {%- endif -%}
  {%- if low is not none and high is not none -%}
    {%- set expected = 'between ' ~ min_value ~ ' and ' ~ max_value ~ (' (inclusive)' if inclusive else ' (exclusive)') -%}
  {%- elif low is not none -%}
    {%- set expected = ('>= ' if inclusive else '> ') ~ min_value -%}
  {%- else -%}
    {%- set expected = ('<= ' if inclusive else '< ') ~ max_value -%}
  {%- endif %}
select
    {{ steward.internal_core_row_context(keys) }},
    {{ column }} as steward_actual,
    {{ steward.internal_core_text(expected) }} as steward_expected
from {{ model }}
where {{ failures | join(' or ') }}
{% endmacro %}
