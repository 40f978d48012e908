{#- One-hot columns come from the lookup seeds (macro one_hot_columns), not written by hand. -#}

with

customers as (

    select * from {{ ref('stg_customers') }}

),

final as (

    select
        customer_id,
        minutes_watched,
        minutes_was_missing,
        customer_lifetime_value,
        region_code,
        channel_code{{ one_hot_columns() }}
    from customers

)

select * from final
