{#- One row per key: the first row by order_by wins, NULL keys form their own partition. -#}
{% macro dedupe(relation, partition_by, order_by, columns=none) -%}
  {{ return(adapter.dispatch('dedupe', 'steward')(relation, partition_by, order_by, columns)) }}
{%- endmacro %}

{#- row_number() over the key, ordered by order_by (every item NULLS LAST unless it says
    otherwise, because adapters disagree on where NULLs sort) and then by an md5 of the
    whole row, so exact ties resolve the same way on every adapter and every run. The
    outer select lists the input's columns, so the row number never leaks. -#}
{% macro default__dedupe(relation, partition_by, order_by, columns=none) -%}
  {%- if relation is string -%}
    {%- do steward.validate_identifier(relation, 'dedupe relation (CTE name)') -%}
  {%- endif -%}
  {%- if partition_by is string -%}
    {%- set partition_by = [partition_by] -%}
  {%- endif -%}
  {%- if partition_by is mapping or partition_by is not iterable or partition_by | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "steward.dedupe: partition_by must be a column name or a non-empty list of them, got " ~ (partition_by | tojson)) }}
  {%- endif -%}
  {%- set keys = [] -%}
  {%- for key in partition_by -%}
    {%- do keys.append(steward.internal_column_reference(key, 'dedupe partition_by')) -%}
  {%- endfor -%}

  {#- Split order_by at top-level commas (commas inside parentheses belong to calls). -#}
  {%- set items = order_by if (order_by is iterable and order_by is not string) else [order_by] -%}
  {%- set ns = namespace(depth=0, current='', items=[]) -%}
  {%- for item in items -%}
    {%- if item is not string -%}
      {{ exceptions.raise_compiler_error("steward.dedupe: order_by must be SQL text, got " ~ (item | tojson)) }}
    {%- endif -%}
    {%- for ch in item ~ ',' -%}
      {%- if ch == ',' and ns.depth == 0 -%}
        {%- if ns.current | trim -%}
          {%- set ns.items = ns.items + [ns.current | trim] -%}
        {%- endif -%}
        {%- set ns.current = '' -%}
      {%- else -%}
        {%- if ch == '(' -%}
          {%- set ns.depth = ns.depth + 1 -%}
        {%- elif ch == ')' -%}
          {%- set ns.depth = ns.depth - 1 -%}
        {%- endif -%}
        {%- set ns.current = ns.current ~ ch -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if ns.items | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "steward.dedupe: order_by must name what wins, e.g. 'updated_at desc', got " ~ (order_by | tojson)) }}
  {%- endif -%}
  {%- set order_items = [] -%}
  {%- for item in ns.items -%}
    {%- if modules.re.search('\\bnulls\\s+(first|last)\\s*$', item, modules.re.IGNORECASE) -%}
      {%- do order_items.append(item) -%}
    {%- else -%}
      {%- do order_items.append(item ~ ' nulls last') -%}
    {%- endif -%}
  {%- endfor -%}

  {%- set found = steward.internal_relation_columns(relation, columns, false, 'dedupe') -%}
  {%- if not execute and not found -%}
    {{ return('select 1 as steward_dedupe_parse_placeholder') }}
  {%- endif -%}
  {%- if not found %}
    {#- The relation has no readable columns (it does not exist yet): SQL that fails if run. -#}
    select * from {{ relation }} where steward_dedupe_could_not_read_columns_of_relation is not null
  {%- else -%}
  {%- set names = found | map(attribute='name') | list %}
    select {{ names | join(', ') }}
    from (
        select
            {{ names | join(',\n            ') }},
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by {{ order_items | join(', ') }}, {{ steward.surrogate_key(names) }}
            ) as steward_dedupe_row_number
        from {{ relation }}
    ) as steward_dedupe_ranked
    where steward_dedupe_row_number = 1
  {%- endif -%}
{%- endmacro %}
