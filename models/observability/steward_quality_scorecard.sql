{#- Quality per model and dimension over the last `scorecard_runs` recorded invocations, plus one
    overall row per model and one project row. A view, so it is current the moment a run's results
    are recorded. Formula (documented in steward_observability.yml):
      dimension score = 100 * mean over every result of the dimension's tests on the model in the
                        window of (pass 1, warn 0.5, fail or error 0);
      model overall   = mean of the model's dimension scores;
      project         = mean of the models' overall scores. -#}
{{ config(materialized='steward_stable_view', enabled=steward.setting('record_runs'), tags=['steward_observability']) }}

{#- The window counts runs that ran tests: a `dbt run` between two `dbt test`s must not push test
    history out of it. A deploy the runner rolled back, or rejected before it published, is marked in
    steward_invocations (command 'steward'): its results describe data that is not in prod, so its runs
    stay in the history but neither count nor take a place in the window. #}
with tested_invocations as (
    select distinct invocation_id
    from {{ ref('steward_node_results') }}
    where resource_type = 'test'
),

withdrawn_deploys as (
    select distinct deploy_id
    from {{ ref('steward_invocations') }}
    where command = 'steward' and status in ('rolled_back', 'rejected')
),

recent_invocations as (
    select
        invocations.invocation_id,
        row_number() over (order by invocations.started_at desc, invocations.invocation_id desc) as recency
    from {{ ref('steward_invocations') }} as invocations
    inner join tested_invocations
        on invocations.invocation_id = tested_invocations.invocation_id
    left join withdrawn_deploys
        on invocations.deploy_id = withdrawn_deploys.deploy_id
    where withdrawn_deploys.deploy_id is null
),

window_results as (
    select
        results.model_unique_id,
        results.model_name,
        results.unique_id as test_id,
        results.status,
        invocations.recency,
        coalesce(results.quality_dimension, 'unclassified') as dimension,
        case results.status when 'pass' then 1.0 when 'warn' then 0.5 else 0.0 end as pass_value,
        case results.status when 'pass' then 1 when 'warn' then 2 else 3 end as severity
    from {{ ref('steward_node_results') }} as results
    inner join recent_invocations as invocations
        on results.invocation_id = invocations.invocation_id
    where
        invocations.recency <= {{ steward.setting('scorecard_runs') | int }}
        and results.resource_type = 'test'
        and results.status in ('pass', 'warn', 'fail', 'error')
        and results.model_unique_id is not null
),

latest_result as (
    select
        model_unique_id,
        dimension,
        severity,
        row_number() over (partition by test_id order by recency) as latest_first
    from window_results
),

current_status as (
    select
        model_unique_id,
        dimension,
        max(severity) as severity
    from latest_result
    where latest_first = 1
    group by model_unique_id, dimension
),

freshness as (
    select
        model_unique_id,
        case max(severity) when 1 then 'fresh' else 'late' end as freshness_status
    from latest_result
    where latest_first = 1 and dimension = 'timeliness'
    group by model_unique_id
),

by_dimension as (
    select
        window_results.model_unique_id,
        max(window_results.model_name) as model_name,
        window_results.dimension,
        count(distinct window_results.test_id) as tests_run,
        avg(window_results.pass_value) as pass_rate
    from window_results
    group by window_results.model_unique_id, window_results.dimension
),

model_rows as (
    select
        'model' as scope,
        by_dimension.model_unique_id,
        by_dimension.model_name,
        by_dimension.dimension,
        by_dimension.tests_run,
        by_dimension.pass_rate,
        case current_status.severity when 1 then 'pass' when 2 then 'warn' else 'fail' end as current_status,
        coalesce(freshness.freshness_status, 'unknown') as freshness_status,
        100.0 * by_dimension.pass_rate as score
    from by_dimension
    inner join current_status
        on
            by_dimension.model_unique_id = current_status.model_unique_id
            and by_dimension.dimension = current_status.dimension
    left join freshness
        on by_dimension.model_unique_id = freshness.model_unique_id
),

overall_rows as (
    select
        'model' as scope,
        model_unique_id,
        max(model_name) as model_name,
        'overall' as dimension,
        sum(tests_run) as tests_run,
        avg(pass_rate) as pass_rate,
        case max(case current_status when 'pass' then 1 when 'warn' then 2 else 3 end)
            when 1 then 'pass' when 2 then 'warn' else 'fail'
        end as current_status,
        max(freshness_status) as freshness_status,
        avg(score) as score
    from model_rows
    group by model_unique_id
),

project_row as (
    select
        'project' as scope,
        cast(null as {{ dbt.type_string() }}) as model_unique_id,
        cast('{{ project_name }}' as {{ dbt.type_string() }}) as model_name,
        'overall' as dimension,
        sum(tests_run) as tests_run,
        avg(pass_rate) as pass_rate,
        case max(case current_status when 'pass' then 1 when 'warn' then 2 else 3 end)
            when 1 then 'pass' when 2 then 'warn' when 3 then 'fail' else 'none'
        end as current_status,
        case
            when sum(case when freshness_status = 'late' then 1 else 0 end) > 0 then 'late'
            when sum(case when freshness_status = 'fresh' then 1 else 0 end) > 0 then 'fresh'
            else 'unknown'
        end as freshness_status,
        avg(score) as score
    from overall_rows
),

scored as (
    select * from model_rows
    union all
    select * from overall_rows
    union all
    select * from project_row
)

select
    scope,
    model_unique_id,
    model_name,
    dimension,
    tests_run,
    pass_rate,
    current_status,
    freshness_status,
    round(cast(score as {{ dbt.type_numeric() }}), 1) as score,
    {{ dbt.current_timestamp() }} as computed_at
from scored
