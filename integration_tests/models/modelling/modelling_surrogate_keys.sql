{#- On Postgres the model runs under a hostile DateStyle, where a plain cast of a date
    gives 25/12/2020: the keys must not change. date_style_probe shows it took effect. -#}
{{ config(pre_hook=["set local datestyle = 'SQL, DMY'"] if target.type == 'postgres' else []) }}

-- Keys over every supported type, in both column orders, and over text alone ('' versus NULL).
with sk_input as (
    select
        row_id,
        int_col,
        big_col,
        case when text_col = '<empty>' then '' else text_col end as text_col,
        date_col,
        ts_col,
        bool_col,
        num_col
    from {{ ref('modelling_sk_input') }}
)

select
    row_id,
    {{ steward.surrogate_key(['int_col', 'big_col', 'text_col', 'date_col', 'ts_col', 'bool_col', 'num_col']) }}
        as key_all,
    {{ steward.surrogate_key(['num_col', 'bool_col', 'ts_col', 'date_col', 'text_col', 'big_col', 'int_col']) }}
        as key_reversed,
    {{ steward.surrogate_key('text_col') }} as key_text,
    cast(cast('2020-12-25' as date) as {{ dbt.type_string() }}) as date_style_probe
from sk_input
