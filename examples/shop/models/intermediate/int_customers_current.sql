-- Current state of every customer, before the unknown member is added (see dim_customers).
-- Current state of every customer: the raw snapshot overlaid with the most
-- recent event from the CDC feed. (Type 1; history is not kept here.)
with customers as (

    select * from {{ ref('stg_customers') }}

),

-- the feed contains exact duplicate events redelivered by the extractor
changes as (

    select distinct
        customer_id,
        email,
        country_code,
        segment,
        change_op,
        is_delete,
        changed_at,
        loaded_at
    from {{ ref('stg_customer_changes') }}

),

-- latest by business time (changed_at), not by load time, so late events
-- cannot overwrite newer state
ranked as (

    select
        changes.*,
        row_number() over (
            partition by changes.customer_id
            order by changes.changed_at desc, changes.loaded_at desc
        ) as recency_rank
    from changes

),

latest as (

    select * from ranked
    where recency_rank = 1

),

change_stats as (

    select
        customer_id,
        count(*) as change_count,
        max(changed_at) as last_changed_at
    from changes
    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.first_name,
        customers.last_name,
        customers.full_name,
        coalesce(latest.email, customers.email) as email,
        coalesce(latest.country_code, customers.country_code) as country_code,
        coalesce(latest.segment, 'standard') as segment,
        coalesce(latest.is_delete, false) as is_deleted,
        customers.created_at,
        change_stats.last_changed_at,
        coalesce(change_stats.change_count, 0) as change_count

    from customers
    left join latest
        on customers.customer_id = latest.customer_id
    left join change_stats
        on customers.customer_id = change_stats.customer_id

)

select * from final
