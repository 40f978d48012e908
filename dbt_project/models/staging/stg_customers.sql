with

customer_input as (

    select * from {{ ref('stg_customer_input') }}

),

final as (

    select
        customer_id,
        source_row_number,
        minutes_watched,
        minutes_was_missing,
        customer_lifetime_value,
        region_code,
        channel_code
    from customer_input
    where rejection_reason is null

)

select * from final
