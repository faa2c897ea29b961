-- core_completeness_input with no rows: the failing fixture of steward.not_empty.
select * from {{ ref('core_completeness_input') }}
where 1 = 0
