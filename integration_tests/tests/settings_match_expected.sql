-- Rows present on one side only; dbt fails the test when any come back.
(
    select
        setting_key,
        setting_value
    from {{ ref('settings_resolved') }}
    except
    select
        setting_key,
        setting_value
    from {{ ref('expected_settings_resolved') }}
)
union all
(
    select
        setting_key,
        setting_value
    from {{ ref('expected_settings_resolved') }}
    except
    select
        setting_key,
        setting_value
    from {{ ref('settings_resolved') }}
)
